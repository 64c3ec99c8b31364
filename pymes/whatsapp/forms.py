"""The connection form: the three things Meta's app dashboard shows the owner."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from ..forms import FlaskForm

_DIGITS = Regexp(r"^\s*\d{5,32}\s*$", message=_l("Only digits, as Meta shows it (5 to 32)."))


class ConnectForm(FlaskForm):
    phone_number_id = StringField(_l("Phone-number id"), validators=[
        DataRequired(_l("Required.")), _DIGITS], render_kw={"inputmode": "numeric", "autocomplete": "off"})
    business_account_id = StringField(_l("WhatsApp Business Account id"), validators=[
        DataRequired(_l("Required.")), _DIGITS], render_kw={"inputmode": "numeric", "autocomplete": "off"})
    access_token = PasswordField(_l("Permanent access token"), validators=[
        DataRequired(_l("Required.")), Length(min=20, max=1024, message=_l("Between 20 and 1,024 characters.")),
        Regexp(r"^\s*\S+\s*$", message=_l("The token has no spaces: copy it again."))],
        render_kw={"autocomplete": "off", "spellcheck": "false"})


class TemplateForm(FlaskForm):
    feedback_template = StringField(_l("Template for the feedback request"), validators=[
        Length(max=512), Regexp(r"^\s*([a-z0-9_]+)?\s*$",
                                message=_l("Template names use lower-case letters, digits and _ only."))])
    template_language = StringField(_l("Template language code"), validators=[
        Length(max=15), Regexp(r"^\s*([a-z]{2,3}(_[A-Z]{2})?)?\s*$", message=_l("A code like es, es_CL or en_US."))])


class AppSecretForm(FlaskForm):
    app_secret = PasswordField(_l("App secret"), validators=[
        DataRequired(_l("Required.")),
        Regexp(r"^\s*[0-9a-fA-F]{16,128}\s*$", message=_l("The app secret is letters a-f and digits, as Meta shows it "
                                                          "under App settings → Basic."))],
        render_kw={"autocomplete": "off", "spellcheck": "false"})


PURPOSE_LABELS = {"callback": _l("Callback confirmation"), "complaint_ack": _l("Complaint received"),
                  "complaint_resolved": _l("Complaint resolved")}


class PurposeTemplateForm(FlaskForm):
    purpose = SelectField(_l("Message"))
    name = StringField(_l("Template name"), validators=[
        DataRequired(_l("Required.")), Length(max=512),
        Regexp(r"^\s*[a-z0-9_]+\s*$", message=_l("Template names use lower-case letters, digits and _ only."))])
    language = StringField(_l("Template language code"), validators=[
        DataRequired(_l("Required.")), Length(max=15),
        Regexp(r"^\s*[a-z]{2,3}(_[A-Z]{2})?\s*$", message=_l("A code like es, es_CL or en_US."))])

    def __init__(self, *args, **kwargs):
        from ..accounts.forms import choices

        super().__init__(*args, **kwargs)
        self.purpose.choices = choices(PURPOSE_LABELS.items())  # labels in the reader's language, now


CATEGORY_LABELS = {"marketing": _l("Marketing"), "utility": _l("Utility"), "authentication": _l("Authentication"),
                   "service": _l("Service (replies within 24 hours)")}


class CapForm(FlaskForm):
    monthly_cap = IntegerField(_l("Monthly limit of messages"), validators=[
        Optional(), NumberRange(min=0, max=1_000_000, message=_l("A whole number, 0 or more."))],
        render_kw={"inputmode": "numeric"})
