"""Outcome and planning forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..accounts.forms import choices
from ..clients.forms import OneOfOrEmpty, optional_int, whole_number
from ..forms import FlaskForm

STATUS_LABELS = {"done": lazy_pgettext("contact status", "Done"), "no_answer": _l("No answer"),
                 "rescheduled": _l("Rescheduled"), "cancelled": lazy_pgettext("contact status", "Cancelled")}
PURPOSE_LABELS = {"delivery": _l("Delivery visit"), "follow_up": _l("Follow-up call"), "check_in": _l("Check-in"),
                  "callback": _l("Callback requested"), "handover": _l("Handover visit"),
                  "other": lazy_pgettext("purpose of a contact", "Contact")}
KIND_LABELS = {"visit": lazy_pgettext("kind of contact", "Visit"), "call": lazy_pgettext("kind of contact", "Call")}
SATISFACTION_LABELS = {"5": _l("Very satisfied"), "4": lazy_pgettext("how the client seemed", "Satisfied"), "3": _l("So-so"), "2": _l("Unhappy"),
                       "1": _l("Very unhappy")}


class OutcomeForm(FlaskForm):
    status = SelectField(_l("What happened"), default="done")
    satisfaction = SelectField(_l("How satisfied did the client seem?"), coerce=optional_int, validate_choice=False,
                               validators=[OneOfOrEmpty()])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=5000, message=_l("Use at most %(max)d characters.",
                                                                               max=5000))])
    opportunity = BooleanField(_l("Opportunity spotted"))
    opportunity_what = StringField(_l("What the client wants"), validators=[
        Length(max=200, message=_l("Use at most %(max)d characters.", max=200))])
    opportunity_amount = StringField(_l("Amount, if they bought it now (leave empty to follow it up)"),
                                     validators=[Length(max=30)], render_kw={"inputmode": "decimal"})
    new_date = DateField(_l("New date (if rescheduled)"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = choices(STATUS_LABELS.items())
        self.satisfaction.choices = choices([("", str(_l("— not asked —")))] + list(SATISFACTION_LABELS.items()))


class PlanForm(FlaskForm):
    kind = SelectField(lazy_pgettext("kind of contact, field", "Contact"), default="call")
    due_on = DateField(_l("Date"), validators=[DataRequired(message=_l("Write a valid date."))])
    seller_id = SelectField(_l("Who"), coerce=optional_int, validate_choice=False, validators=[OneOfOrEmpty()])
    notes = TextAreaField(_l("What about"), validators=[Length(max=5000)])

    def __init__(self, *args, sellers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(KIND_LABELS.items())
        self.seller_id.choices = choices([("", str(_l("The responsible seller")))] + [(u.id, u.name) for u in sellers])


class ChangePlanForm(FlaskForm):
    """One planned contact of a sale: its date and who makes it (each row has its own prefix)."""
    due_on = DateField(_l("Date"), validators=[DataRequired(message=_l("Write a valid date."))])
    seller_id = SelectField(_l("Who"), coerce=optional_int, validate_choice=False, validators=[OneOfOrEmpty()])

    def __init__(self, *args, sellers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.seller_id.choices = choices([("", str(_l("Keep the same")))] + [(u.id, u.name) for u in sellers])


class CadenceForm(FlaskForm):
    call_after_days = whole_number(_l("Follow-up call, days after the delivery"), 1, 90)
    checkin_buyer_days = whole_number(_l("Check-in of a one-off buyer every (days)"), 7, 730)
    checkin_sporadic_days = whole_number(_l("Check-in of a sporadic client every (days)"), 7, 730)
    checkin_frequent_days = whole_number(_l("Check-in of a frequent client every (days)"), 7, 730)
    checkin_apostle_days = whole_number(_l("Check-in of an apostle every (days)"), 7, 730)
