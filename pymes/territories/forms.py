"""Territory and portfolio form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..accounts.forms import choices


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("This field is required.")),
                                               Length(max=120, message=_l("Use at most %(max)d characters.",
                                                                          max=120))])
    description = TextAreaField(_l("Description (optional)"), validators=[
        Length(max=500, message=_l("Use at most %(max)d characters.", max=500))])
    seller_ids = SelectMultipleField(_l("Responsible sellers"), coerce=int, validate_choice=False,
                                     widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())

    def __init__(self, *args, sellers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.seller_ids.choices = choices((u.id, u.name) for u in sellers)
