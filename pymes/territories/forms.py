"""Territory and portfolio form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..accounts.forms import choices
from ..forms import FlaskForm


class SellerChecks(SelectMultipleField):
    """Checkboxes of team members. A value that is not an id is an error beside the field,
    and the ids that are stay ticked."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_formdata(self, valuelist):
        self.data = [int(v) for v in valuelist if v.isdigit() and len(v) < 10]
        if len(self.data) != len(valuelist):
            raise ValueError(str(self.invalid_value_message))


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("This field is required.")),
                                               Length(max=120, message=_l("Use at most %(max)d characters.",
                                                                          max=120))])
    description = TextAreaField(_l("Description (optional)"), validators=[
        Length(max=500, message=_l("Use at most %(max)d characters.", max=500))])
    # Rule 10 (at least one, each an active member) is checked by services.save, which
    # sees this business's team; here only the shape of the ids.
    seller_ids = SellerChecks(_l("Responsible sellers"), coerce=int, validate_choice=False,
                              invalid_value_message=_l("Choose active members of your team."))

    def __init__(self, *args, sellers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.seller_ids.choices = choices((u.id, u.name) for u in sellers)
