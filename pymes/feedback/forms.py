"""The business's feedback settings."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from ..clients.forms import whole_number
from ..forms import FlaskForm


class FeedbackSettingsForm(FlaskForm):
    link_days = whole_number(_l("Links stop working after (days)"), 1, 365)
    auto_days = IntegerField(_l("Send a link by e-mail this many days after each delivery (0: never)"), validators=[
        InputRequired(message=_l("Write a whole number.")),
        NumberRange(min=0, max=60, message=_l("Use a number between %(min)d and %(max)d.", min=0, max=60))])
