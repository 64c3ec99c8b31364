"""The app's one form base: every form in ``pymes`` derives from this ``FlaskForm``
(``tests/security/test_control_characters.py`` checks it).

Control characters never reach the database from a form (issue 20, finding 4): a
single-line text field (StringField and its kinds: e-mail, phone, search, hidden)
turns tabs, CR, LF and the Unicode line and paragraph separators into a space and drops
every other control character; a multi-line field (TextAreaField) keeps its line breaks
(CRLF and CR become LF) and tabs and drops the rest. A name with a line break once
broke e-mail headers (500 after the answer was saved) and the nightly digests.
Passwords are left exactly as typed, and hidden fields (``next``…) as sent: their
consumers check them whole (a tab turned into a space would make ``/\t/evil.com`` a
local path instead of a refused one)."""
from __future__ import annotations

import flask_wtf
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired

from .validation import multi_line, single_line


def _clean_with(cleaner):
    def clean(value):
        return cleaner(value) if isinstance(value, str) else value

    return clean


_SINGLE, _MULTI = _clean_with(single_line), _clean_with(multi_line)


class FlaskForm(flask_wtf.FlaskForm):
    class Meta(flask_wtf.FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            kind = unbound_field.field_class
            if issubclass(kind, StringField) and not issubclass(kind, (PasswordField, HiddenField)):
                cleaner = _MULTI if issubclass(kind, TextAreaField) else _SINGLE
                options = dict(options, filters=[cleaner, *unbound_field.kwargs.get("filters", ())])
            return super().bind_field(form, unbound_field, options)


def required() -> DataRequired:
    """The one "This field is required." every form uses."""
    return DataRequired(message=_l("This field is required."))
