"""Client, sale and tier forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..accounts.forms import ValidEmail, choices
from ..forms import FlaskForm, required
from ..i18n import tax_id_label
from .loyalty import TIER_LABELS

CHANNEL_LABELS = {"whatsapp": _l("WhatsApp"), "phone": _l("Phone call"), "email": _l("E-mail"),
                  "visit": lazy_pgettext("channel", "Visit")}
TIME_LABELS = {"morning": _l("Morning (9–12)"), "midday": _l("Midday (12–15)"),
               "afternoon": _l("Afternoon (15–19)"), "evening": _l("Evening (19–21)"), "any": _l("Any time")}
SOURCE_LABELS = {"walk_in": _l("Came to the shop"), "referral": _l("Referred by a client"), "web": _l("Website"),
                 "social": _l("Social networks"), "campaign": _l("Campaign or fair"), "other": _l("Other")}
KIND_LABELS = {"client": _l("Client"), "prospect": _l("Prospect")}
# the language messages to a client are written in (each name in its own language)
CLIENT_LANGUAGE_LABELS = {"es": "Español", "en": "English", "pt": "Português", "ru": "Русский"}


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def _max(n: int):
    return Length(max=n, message=_l("Use at most %(max)d characters.", max=n))


class OptionalEmail(ValidEmail):
    def __call__(self, form, field):
        if (field.data or "").strip():
            super().__call__(form, field)


class OneOfOrEmpty:
    """For optional selects: empty, or one of the offered values (ids are checked again
    by the service against this business's rows)."""

    def __call__(self, form, field):
        if field.data in (None, "", "None"):
            field.data = None
            return
        allowed = {str(c.value) for c in field.choices}
        if str(field.data) not in allowed:
            raise ValidationError(_l("Choose one from the list."))


def _options(labels: dict, blank=None):
    pairs = [("", blank)] if blank is not None else []
    return choices(pairs + list(labels.items()))


class ClientForm(FlaskForm):
    kind = SelectField(_l("Type"), default="client")
    name = StringField(_l("Name"), validators=[required(), _max(160)])
    company = StringField(_l("Company (optional)"), validators=[_max(160)])
    tax_id = StringField(_l("Tax id (optional)"), validators=[_max(32)])
    email = StringField(_l("E-mail"), validators=[_max(254), OptionalEmail()], render_kw={"type": "email"})
    phone = StringField(_l("Phone"), validators=[_max(40)], render_kw={"type": "tel"})
    whatsapp = StringField(_l("WhatsApp"), validators=[_max(40)], render_kw={"type": "tel"})
    address = StringField(_l("Address"), validators=[_max(300)])
    territory_id = SelectField(_l("Territory"), coerce=optional_int, validate_choice=False, validators=[OneOfOrEmpty()])
    portfolio_id = SelectField(_l("Portfolio"), coerce=optional_int, validate_choice=False, validators=[OneOfOrEmpty()])
    seller_id = SelectField(_l("Responsible seller"), coerce=optional_int, validate_choice=False, validators=[OneOfOrEmpty()])
    preferred_channel = SelectField(_l("Preferred channel"), validate_choice=False, validators=[OneOfOrEmpty()])
    preferred_time = SelectField(_l("Preferred time to be contacted"), validate_choice=False, validators=[OneOfOrEmpty()])
    language = SelectField(_l("Language for messages"), validate_choice=False, validators=[OneOfOrEmpty()])
    source = SelectField(_l("Where the client came from"), validate_choice=False, validators=[OneOfOrEmpty()])
    referred_by = StringField(_l("Referred by (name of the client)"), validators=[_max(160)])
    is_key = BooleanField(_l("Key client"))
    notes = TextAreaField(_l("Notes"), validators=[_max(5000)])

    def __init__(self, *args, territories=(), portfolios=(), sellers=(), **kwargs):
        super().__init__(*args, **kwargs)
        none = str(_l("— none —"))
        self.tax_id.label.text = tax_id_label(optional=True)  # RUT, NIF / CIF, RFC… by the business's country
        self.kind.choices = _options(KIND_LABELS)
        self.territory_id.choices = choices([("", none)] + [(t.id, t.name) for t in territories])
        self.portfolio_id.choices = choices([("", none)] + [(p.id, p.name) for p in portfolios])
        self.seller_id.choices = choices([("", none)] + [(u.id, u.name) for u in sellers])
        self.preferred_channel.choices = _options(CHANNEL_LABELS, none)
        self.preferred_time.choices = _options(TIME_LABELS, none)
        self.language.choices = _options(CLIENT_LANGUAGE_LABELS, str(_l("The business's language")))
        self.source.choices = _options(SOURCE_LABELS, none)


class QuickClientForm(FlaskForm):
    """The client list's quick add: a name and a phone, the rest later on the client's page."""

    name = StringField(_l("Name"), validators=[required(), _max(160)],
                       render_kw={"autocomplete": "off", "maxlength": 160})
    phone = StringField(_l("Phone"), validators=[_max(40)],
                        render_kw={"type": "tel", "autocomplete": "off", "inputmode": "tel"})


class SaleForm(FlaskForm):
    sold_on = DateField(_l("Date of the sale"), validators=[DataRequired(message=_l("Write a valid date."))])
    description = StringField(_l("What was sold"), validators=[required(), _max(200)])
    product_line = StringField(_l("Product line (optional)"), validators=[_max(80)])
    amount = StringField(_l("Amount"), validators=[required(), _max(30)], render_kw={"inputmode": "decimal"})
    margin = StringField(_l("Margin (optional)"), validators=[_max(30)], render_kw={"inputmode": "decimal"})
    margin_kind = SelectField(_l("Margin as"), default="amount")
    seller_id = SelectField(_l("Seller"), coerce=optional_int, validate_choice=False, validators=[OneOfOrEmpty()])
    delivery_on = DateField(_l("Delivery / start of service"), validators=[Optional()])

    def __init__(self, *args, sellers=(), currency="", **kwargs):
        super().__init__(*args, **kwargs)
        self.margin_kind.choices = choices([("amount", str(_l("Amount (%(currency)s)", currency=currency))),
                                            ("percent", str(_l("Percentage of the amount")))])
        self.seller_id.choices = choices([("", str(_l("— none —")))] + [(u.id, u.name) for u in sellers])


class TierForm(FlaskForm):
    tier = SelectField(_l("Tier"))
    reason = StringField(_l("Reason"), validators=[_max(300)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tier.choices = _options(TIER_LABELS, str(_l("Automatic (from the sales)")))

    def validate_reason(self, field):
        if self.tier.data and not (field.data or "").strip():
            raise ValidationError(_l("Say why: the team will read it on the client's page."))


def whole_number(label, low, high):
    return IntegerField(label, validators=[
        DataRequired(message=_l("Write a whole number.")),
        NumberRange(min=low, max=high, message=_l("Use a number between %(min)d and %(max)d.", min=low, max=high))])


class LoyaltySettingsForm(FlaskForm):
    sporadic_min_purchases = whole_number(_l("Purchases to become a sporadic client"), 2, 50)
    frequent_min_purchases = whole_number(_l("Purchases in 12 months to become a frequent client"), 2, 365)
    frequent_max_gap_days = whole_number(_l("…buying at least every (days)"), 1, 365)
    lapsed_after_days = whole_number(_l("Days without buying before a client falls back to one-off buyer"), 30, 3650)
    apostle_min_score = whole_number(_l("Satisfaction score (0–10) an apostle gives at least"), 0, 10)
    apostle_min_referrals = IntegerField(
        _l("Referrals that became clients or testimonials published, at least"), validators=[
            Optional(), NumberRange(min=0, max=100, message=_l("Use a number between %(min)d and %(max)d.", min=0,
                                                                 max=100))], default=1)
    rhythm_min_purchases = whole_number(_l("…or by their own rhythm: purchases over a year or more"), 2, 50)
    rhythm_tolerance_percent = IntegerField(_l("Steady: each gap within this percentage of their average"), validators=[
        Optional(), NumberRange(min=0, max=100, message=_l("Use a number between %(min)d and %(max)d.", min=0,
                                                             max=100))], default=25)
    sellers_see_only_own = BooleanField(_l("Sellers see only their own clients"))

    def validate_rhythm_tolerance_percent(self, field):
        if field.data is None:
            field.data = 0

    def validate_apostle_min_referrals(self, field):
        if field.data is None:
            field.data = 0


class SpecialistForm(FlaskForm):
    user_id = SelectField(_l("Seller"), coerce=optional_int, validate_choice=False, validators=[OneOfOrEmpty()])
    product_line = StringField(_l("Product line"), validators=[required(), _max(80)])

    def __init__(self, *args, sellers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user_id.choices = choices([("", str(_l("— choose —")))] + [(u.id, u.name) for u in sellers])
