"""Account forms. Every field has a length limit that matches its column, and every
message is translated; a rejected form keeps everything typed except passwords."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import EqualTo, Length, ValidationError

from .. import i18n
from ..forms import FlaskForm, required
from . import passwords
from .models import ROLE_VALUES
from .passwords import known_words

PASSWORD_MIN = 12
PASSWORD_MAX = 128


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, str(label)) for value, label in pairs]


def role_label(role: str) -> str:
    """A role's name. In the "role" context: "Seller" the role (es "Ventas") is not "Seller"
    the column of who sold; Spanish names the roles without assuming a gender ("Titular",
    not "Dueño")."""
    return {
        "owner": pgettext("role", "Owner"), "manager": pgettext("role", "Manager"),
        "seller": pgettext("role", "Seller"), "service": pgettext("role", "Service / admin"),
    }.get(role, role)


def login_address(value: str) -> str:
    """An address in the one form accounts are stored and looked up in (email-validator's
    normalisation, lower-cased); input it refuses comes back stripped and lower-cased
    (it matches no account). The log-in limit keys on this too (AUTH-2)."""
    value = (value or "").strip()
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return value.lower()


class ValidEmail:
    """E-mail syntax checked by email-validator (no DNS look-up: forms must answer fast)."""

    def __call__(self, form, field):
        value = (field.data or "").strip()
        try:
            field.data = validate_email(value, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise ValidationError(_l("Enter a valid e-mail address, like ana@example.com.")) from None


def _length(maximum: int, minimum: int = 0):
    return Length(min=minimum, max=maximum, message=_l("Use between %(min)d and %(max)d characters.",
                                                         min=minimum, max=maximum)) if minimum else \
        Length(max=maximum, message=_l("Use at most %(max)d characters.", max=maximum))


def _email_field(label=None):
    return EmailField(label or _l("E-mail"), validators=[required(), _length(254), ValidEmail()],
                      render_kw={"autocomplete": "email"})


class NotGuessable:
    """Not a common password, not made of the e-mail or business name, not trivially
    guessable (``passwords.problem``; issue 20, finding 15). The form's
    ``password_words()`` names the e-mail and business name it knows."""

    def __call__(self, form, field):
        if not field.data or len(field.data) < PASSWORD_MIN:
            return  # the length message says it first
        words = form.password_words() if hasattr(form, "password_words") else []
        message = passwords.problem(field.data, words)
        if message:
            raise ValidationError(message)


class _KnowsPasswordWords:
    """A form with a new password that knows whose it is: ``known=(email, business name)``."""

    def __init__(self, *args, known=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._known = known

    def password_words(self) -> list[str]:
        return known_words(*self._known)


def _new_password_field(label=None):
    return PasswordField(label or _l("Password"), validators=[
        required(),
        Length(min=PASSWORD_MIN, max=PASSWORD_MAX,
               message=_l("Use at least %(min)d characters (a short sentence works well).", min=PASSWORD_MIN)),
        NotGuessable(),
    ], render_kw={"autocomplete": "new-password", "minlength": PASSWORD_MIN})


class SignupForm(FlaskForm):
    business_name = StringField(_l("Business name"), validators=[required(), _length(120)],
                                render_kw={"autocomplete": "organization"})
    name = StringField(_l("Your name"), validators=[required(), _length(120)], render_kw={"autocomplete": "name"})
    email = _email_field()
    password = _new_password_field()
    country = SelectField(_l("Country"), validators=[required()])
    currency = SelectField(_l("Currency"), validators=[required()])
    timezone = SelectField(_l("Time zone"), validators=[required()])
    language = SelectField(_l("Language"), validators=[required()])

    def __init__(self, *args, ui_language: str = "es", **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = choices(i18n.country_choices(ui_language))
        self.currency.choices = choices(i18n.currency_choices(ui_language))
        self.timezone.choices = choices(i18n.timezone_choices())
        self.language.choices = choices(i18n.language_choices())

    def validate_password(self, field):
        if self.email.data and field.data and field.data.strip().lower() == (self.email.data or "").lower():
            raise ValidationError(_l("Your password cannot be your e-mail."))

    def password_words(self) -> list[str]:
        return known_words(self.email.data, self.business_name.data)


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(_l("Password"), validators=[required(), _length(PASSWORD_MAX)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me logged in on this device (30 days)"))
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(_KnowsPasswordWords, FlaskForm):
    password = _new_password_field(_l("New password"))
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        required(), EqualTo("password", message=_l("The two passwords are different."))],
        render_kw={"autocomplete": "new-password"})


class AcceptInvitationForm(_KnowsPasswordWords, FlaskForm):
    name = StringField(_l("Your name"), validators=[required(), _length(120)], render_kw={"autocomplete": "name"})
    password = _new_password_field()
    language = SelectField(_l("Language"), validators=[required()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = choices(i18n.language_choices())


class InviteForm(FlaskForm):
    name = StringField(_l("Name (optional)"), validators=[_length(120)])
    email = _email_field()
    role = SelectField(_l("Role"), validators=[required()], default="seller")

    def __init__(self, *args, roles=ROLE_VALUES, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = choices((r, role_label(r)) for r in roles)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[required()], choices=[SelectChoice(r) for r in ROLE_VALUES])


class BusinessSettingsForm(FlaskForm):
    name = StringField(_l("Business name"), validators=[required(), _length(120)])
    currency = SelectField(_l("Currency"), validators=[required()])
    timezone = SelectField(_l("Time zone"), validators=[required()])
    language = SelectField(_l("Language for e-mails to your team and clients"), validators=[required()])
    logo = FileField(_l("Logo (PNG, JPEG or WebP, up to 300 KB)"))
    remove_logo = BooleanField(_l("Remove the current logo"))

    def __init__(self, *args, ui_language: str = "es", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = choices(i18n.currency_choices(ui_language))
        self.timezone.choices = choices(i18n.timezone_choices())
        self.language.choices = choices(i18n.language_choices())


class OfferedZone:
    """Empty (the business's zone) or one of the zones the select offers."""

    def __call__(self, form, field):
        if field.data in (None, "", "None"):
            field.data = None
            return
        if field.data not in {value for value, _label in i18n.timezone_choices()}:
            raise ValidationError(_l("Choose a time zone from the list."))


class ProfileForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[required(), _length(120)])
    language = SelectField(_l("Language"), validators=[required()])
    timezone = SelectField(_l("Your time zone"), validate_choice=False, validators=[OfferedZone()])

    def __init__(self, *args, business_zone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = choices(i18n.language_choices())
        same = _l("Same as the business (%(zone)s)", zone=business_zone.replace("_", " ")) if business_zone \
            else _l("Same as the business")
        self.timezone.choices = choices([("", same)] + i18n.timezone_choices())
        if self.timezone.data is None:
            self.timezone.data = ""  # the business's zone: shown as the selected first option


class PasswordForm(_KnowsPasswordWords, FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[required(), _length(PASSWORD_MAX)],
                                     render_kw={"autocomplete": "current-password"})
    password = _new_password_field(_l("New password"))
