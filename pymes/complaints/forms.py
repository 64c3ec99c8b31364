"""Complaint forms and the words for the case's fields."""
from __future__ import annotations

from flask_babel import format_date, lazy_pgettext
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from ..accounts.forms import choices
from ..clients.forms import CHANNEL_LABELS, OneOfOrEmpty, optional_int, whole_number
from ..forms import FlaskForm, required

CATEGORY_LABELS = {"late_delivery": _l("Late delivery"), "wrong_product": _l("Wrong product"),
                   "missing_part": _l("Missing part"), "quality": _l("Quality"), "attention": _l("Attention"),
                   "billing": _l("Billing"), "other": _l("Other")}
SEVERITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
SOURCE_LABELS = {"feedback": _l("Feedback answer"), "call": _l("During a call"), "visit": _l("During a visit"),
                 "message": _l("A message from the client"), "manual": _l("Written by hand")}
STATUS_LABELS = {"open": lazy_pgettext("complaint", "Open"), "acknowledged": _l("Acknowledged"), "resolved": _l("Resolved")}
REMEDY_LABELS = {"apology": _l("Apology"), "replacement": _l("Replacement"), "repair": _l("Repair"),
                 "refund": _l("Refund"), "discount": _l("Discount"),
                 "explanation": _l("Explanation of the correct use")}
EVENT_LABELS = {"opened": lazy_pgettext("complaint event", "Opened"), "acknowledged": _l("Acknowledged"), "assigned": _l("Given to"),
                "remedy": _l("Remedy recorded"), "told": _l("Client told"), "resolved": _l("Resolved"),
                "escalated": _l("Late: managers told"), "followup": _l("Follow-up sent"),
                "severity": _l("Severity changed"), "reopened": _l("The problem is back"),
                "continues": _l("Opened again after a resolved complaint"),
                "whatsapp_in": _l("The client wrote on WhatsApp"), "whatsapp_out": _l("Sent to the client by WhatsApp")}


class ComplaintForm(FlaskForm):
    category = SelectField(_l("What went wrong"), default="other")
    sale_id = SelectField(_l("The sale it concerns"), coerce=optional_int, validate_choice=False,
                          validators=[OneOfOrEmpty()])
    severity = SelectField(_l("Severity"), default="normal")
    source = SelectField(_l("How it reached us"), default="manual")
    owner_id = SelectField(_l("Who owns it"), coerce=optional_int, validate_choice=False, validators=[OneOfOrEmpty()])
    description = TextAreaField(_l("What the client says"), validators=[
        required(), Length(max=5000, message=_l("Use at most %(max)d characters.", max=5000))])

    def __init__(self, *args, sales=(), team=(), money=str, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = choices(CATEGORY_LABELS.items())
        self.severity.choices = choices(SEVERITY_LABELS.items())
        self.source.choices = choices((k, v) for k, v in SOURCE_LABELS.items() if k != "feedback")
        self.sale_id.choices = choices([("", str(_l("— no particular sale —")))] + [
            (s.id, f"{format_date(s.sold_on, 'medium')} · {s.description} · {money(s.amount)}") for s in sales])
        self.owner_id.choices = choices([("", str(_l("The client's responsible seller")))]
                                        + [(u.id, u.name) for u in team])


class AssignForm(FlaskForm):
    owner_id = SelectField(_l("Who owns it"), coerce=optional_int, validate_choice=False, validators=[OneOfOrEmpty()])

    def __init__(self, *args, team=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = choices([(u.id, u.name) for u in team])


class RemedyForm(FlaskForm):
    remedy = SelectField(_l("Remedy"), validators=[required()])
    remedy_cost = StringField(_l("What it costs the business"), validators=[Length(max=30)],
                              render_kw={"inputmode": "decimal"})
    remedy_notes = TextAreaField(_l("Details for the client (optional)"), validators=[
        Length(max=2000, message=_l("Use at most %(max)d characters.", max=2000))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.remedy.choices = choices([("", str(_l("— choose —")))] + list(REMEDY_LABELS.items()))

    def validate_remedy(self, field):
        if field.data not in REMEDY_LABELS:
            raise ValidationError(_l("Choose what was done for the client."))


class ToldForm(FlaskForm):
    channel = SelectField(_l("How the client was told"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = choices(CHANNEL_LABELS.items())


class SeverityForm(FlaskForm):
    severity = SelectField(_l("Severity"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.severity.choices = choices(SEVERITY_LABELS.items())


class ReopenForm(FlaskForm):
    reason = TextAreaField(_l("What is wrong again"), validators=[
        required(), Length(max=5000, message=_l("Use at most %(max)d characters.", max=5000))])


class ResolveForm(FlaskForm):
    note = StringField(_l("Closing note (optional)"), validators=[Length(max=500)])


class TargetsForm(FlaskForm):
    ack_hours = whole_number(_l("Acknowledge within (hours)"), 1, 168)
    resolve_days = whole_number(_l("Resolve within (business days)"), 1, 60)
    priority_ack_hours = whole_number(_l("Urgent cases: acknowledge within (hours)"), 1, 168)
    priority_resolve_days = whole_number(_l("Urgent cases: resolve within (business days)"), 1, 60)
    acquisition_multiplier = whole_number(_l("Winning a new client costs … times keeping one"), 1, 20)
    followup_days = whole_number(_l("Ask for feedback again, days after resolving"), 1, 60)

    def validate_priority_ack_hours(self, field):
        if self.ack_hours.data and field.data and field.data > self.ack_hours.data:
            raise ValidationError(_l("Urgent cases cannot wait longer than normal ones."))

    def validate_priority_resolve_days(self, field):
        if self.resolve_days.data and field.data and field.data > self.resolve_days.data:
            raise ValidationError(_l("Urgent cases cannot wait longer than normal ones."))
