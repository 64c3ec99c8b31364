"""Two-step log-in routes, on the accounts blueprint: the code step after the password,
the enrolment an owner past the grace period goes through before the log-in ends, and
the settings page (turn on, new recovery codes, turn off).

The log-in session is created only after the code: between the password and the code
the browser holds nothing but a 10-minute single-use token (``tokens``, purpose
``mfa_login``) in its signed cookie, which opens these two pages and no other."""
from __future__ import annotations

import math
from datetime import timedelta

from flask import flash, g, make_response, redirect, render_template, request, session, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from .. import audit
from ..db import utcnow
from ..extensions import db, limiter
from ..forms import FlaskForm
from ..htmx import hx_redirect, render
from ..security import safe_next, verify_password
from ..validation import FieldError, apply_field_error
from . import devices, mfa, services, tokens
from .decorators import login_required
from .models import User
from .routes import bp

MFA_LOGIN = "mfa_login"
PENDING_MINUTES = 10
_PENDING_KEYS = ("mfa_login", "mfa_uid", "mfa_remember", "mfa_next")
# Codes typed anywhere (log-in, settings) share one bucket per account; failures count.
CODE_LIMITS = "10 per 15 minutes;30 per hour;100 per day"


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(message=_l("This field is required.")),
                                               Length(max=40, message=_l("Use at most %(max)d characters.", max=40))],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"})


class EnrolForm(CodeForm):
    """Turning it on from the settings asks for the password again (ASVS: re-authenticate
    before changing a sign-in factor): a session left open on a shared computer cannot
    bind someone else's phone."""
    password = PasswordField(_l("Your password"), validators=[DataRequired(message=_l("This field is required.")),
                                                             Length(max=128)],
                             render_kw={"autocomplete": "current-password"})


class DisableForm(CodeForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(message=_l("This field is required.")),
                                                             Length(max=128)],
                             render_kw={"autocomplete": "current-password"})


def _code_key() -> str:
    uid = current_user.id if current_user.is_authenticated else session.get("mfa_uid", "")
    return f"mfa-code:{uid}"


def _code_failed(response) -> bool:
    return bool(g.get("code_failed"))


def _code_limits(view):
    """Per IP, every code POST; per account, failed codes (AUTH-2's pattern)."""
    view = limiter.shared_limit(CODE_LIMITS, scope="mfa-code", key_func=_code_key, deduct_when=_code_failed,
                                methods=["POST"])(view)
    return limiter.limit("10 per minute", methods=["POST"])(view)


# --- the log-in --------------------------------------------------------------------------

def password_ok(user: User, *, remember: bool, next_url: str | None):
    """After the right password: straight in, or on to the code (or the enrolment an owner
    past the grace period must finish first). The caller has bound the user's tenant."""
    if not (mfa.enabled(user) or mfa.required(user)):
        return _open_session(user, remember, next_url)
    tokens.retire(MFA_LOGIN, user.tenant_id, user.id)
    secret = tokens.issue(MFA_LOGIN, user.tenant_id, user.id, timedelta(minutes=PENDING_MINUTES))
    db.session.commit()
    session.update({"mfa_login": secret, "mfa_uid": user.id, "mfa_remember": bool(remember),
                    "mfa_next": next_url or ""})
    return redirect(url_for(".login_code" if mfa.enabled(user) else ".login_setup"), code=303)


def _open_session(user: User, remember: bool, next_url: str | None, how: str = "password"):
    services.start_session(user)
    login_user(user, remember=remember)
    audit.record("login", user.email, user=user, **{"with": how})
    due = mfa.due_soon(user)
    if due is not None:
        flash(_("Owners must use two-step verification from %(date)s. Turn it on now in Security.",
                date=format_date(due, "long")), "info")
    # Only a complete log-in (the code too, when it takes one) makes this browser a known
    # device of the account (issue 20, finding 3): a stolen password alone earns none.
    return devices.remember(redirect(next_url or url_for("main.home"), code=303), user.email)


def _pending() -> tuple[object, User] | None:
    """The password-checked log-in waiting for its code, or None (none, expired, used)."""
    token, _reason = tokens.check(session.get("mfa_login") or "", MFA_LOGIN)
    if token is None:
        return None
    user = db.session.get(User, token.subject_id)
    if user is None or not user.active:
        return None
    return token, user


def _restart():
    for key in _PENDING_KEYS:
        session.pop(key, None)
    flash(_("Log in again: the code step lasts %(minutes)d minutes.", minutes=PENDING_MINUTES), "info")
    return redirect(url_for(".login"), code=303)


def _finish(token, user: User, how: str):
    """The code was right: use the pending token (once) and open the session."""
    if not tokens.use(token):
        db.session.rollback()
        return _restart()
    remember, next_url = bool(session.get("mfa_remember")), safe_next(session.get("mfa_next"))
    for key in _PENDING_KEYS:
        session.pop(key, None)
    return _open_session(user, remember, next_url, how)


@bp.route("/login/code", methods=["GET", "POST"])
@_code_limits
def login_code():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    g.no_store = True
    pending = _pending()
    if pending is None:
        return _restart()
    token, user = pending
    if not mfa.enabled(user):
        return redirect(url_for(".login_setup"), code=303)
    form = CodeForm()
    if form.validate_on_submit():
        kind = mfa.check_code(user, form.code.data)
        if kind is not None:
            left = mfa.recovery_codes_left(user) if kind == "recovery" else None
            response = _finish(token, user, "recovery" if kind == "recovery" else "code")
            if left is not None:
                flash(_("You used a recovery code: %(left)d left. Make new ones in Security if you lost your "
                        "phone.", left=left), "warning")
            return response
        form.code.errors = [_("That code is not right, or it was already used.")]
        audit.record("login_failed", user.email, user=user, step="code")
    if request.method == "POST":
        g.code_failed = True
    return render("accounts/login_code.html", status=422 if form.errors else 200, form=form)


@bp.route("/login/setup", methods=["GET", "POST"])
@_code_limits
def login_setup():
    """An owner past the grace period sets two-step verification up before the log-in ends."""
    if current_user.is_authenticated:
        return redirect(url_for(".mfa_setup"))
    g.no_store = True
    pending = _pending()
    if pending is None:
        return _restart()
    token, user = pending
    if mfa.enabled(user):
        return redirect(url_for(".login_code"), code=303)
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = mfa.confirm_enrolment(user, form.code.data)
        except FieldError as error:
            apply_field_error(form, error)
        else:
            audit.record("mfa_on", user=user)
            response = _finish(token, user, "code")
            if not current_user.is_authenticated:
                return response
            page = make_response(render_template("accounts/recovery_codes.html", codes=codes,
                                                 next_url=response.location, first=True))
            for cookie in response.headers.getlist("Set-Cookie"):  # the known-device cookie of this log-in
                page.headers.add("Set-Cookie", cookie)
            return page
    if request.method == "POST":
        g.code_failed = True
    secret = mfa.pending_secret(user)
    return render("accounts/mfa_setup.html", status=422 if form.errors else 200, form=form, secret=secret,
                  qr=mfa.qr_data_uri(mfa.provisioning_uri(user, secret)), during_login=True,
                  action=url_for(".login_setup"))


# --- settings ----------------------------------------------------------------------------

def _security_page(status: int = 200, disable_form=None, codes_form=None):
    user = current_user
    due = mfa.due_soon(user)
    return render("accounts/security.html", status=status, enabled=mfa.enabled(user), required=mfa.required(user),
                  due=due, days_left=math.ceil((due - utcnow()).total_seconds() / 86400) if due else 0,
                  left=mfa.recovery_codes_left(user) if mfa.enabled(user) else 0,
                  disable_form=disable_form or DisableForm(prefix="off", formdata=None),
                  codes_form=codes_form or CodeForm(prefix="codes", formdata=None))


@bp.get("/settings/security")
@login_required
def security():
    return _security_page()


@bp.route("/settings/security/setup", methods=["GET", "POST"])
@login_required
@_code_limits
def mfa_setup():
    g.no_store = True
    user = current_user
    if mfa.enabled(user):
        return redirect(url_for(".security"), code=303)
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            if not verify_password(user.password_hash, form.password.data):
                raise FieldError("password", str(_l("That is not your current password.")))
            codes = mfa.confirm_enrolment(user, form.code.data)
        except FieldError as error:
            apply_field_error(form, error)
        else:
            services.end_other_sessions(user, keep_key=user.session_key)  # a factor changed: other devices log in again
            db.session.commit()
            audit.record("mfa_on")
            return render_template("accounts/recovery_codes.html", codes=codes, next_url=url_for(".security"),
                                   first=True)
    if request.method == "POST":
        g.code_failed = True
    secret = mfa.pending_secret(user)
    return render("accounts/mfa_setup.html", status=422 if form.errors else 200, form=form, secret=secret,
                  qr=mfa.qr_data_uri(mfa.provisioning_uri(user, secret)), during_login=False,
                  action=url_for(".mfa_setup"))


@bp.post("/settings/security/recovery-codes")
@login_required
@_code_limits
def mfa_recovery_codes():
    g.no_store = True
    if not mfa.enabled(current_user):
        return redirect(url_for(".security"), code=303)
    form = CodeForm(prefix="codes")
    if form.validate_on_submit():
        try:
            codes = mfa.new_recovery_codes(current_user, form.code.data)
        except FieldError as error:
            apply_field_error(form, error)
        else:
            audit.record("recovery_codes")
            return render_template("accounts/recovery_codes.html", codes=codes, next_url=url_for(".security"),
                                   first=False)
    g.code_failed = True
    return _security_page(422, codes_form=form)


@bp.post("/settings/security/disable")
@login_required
@_code_limits
def mfa_disable():
    if not mfa.enabled(current_user):
        return redirect(url_for(".security"), code=303)
    form = DisableForm(prefix="off")
    if form.validate_on_submit():
        try:
            mfa.disable(current_user, form.password.data, form.code.data)
        except FieldError as error:
            apply_field_error(form, error)
        else:
            services.end_other_sessions(current_user, keep_key=current_user.session_key)
            db.session.commit()
            audit.record("mfa_off")
            flash(_("Two-step verification is off."), "info")
            return redirect(url_for(".security"), code=303)
    g.code_failed = True
    return _security_page(422, disable_form=form)


# --- owners past the grace period ----------------------------------------------------------

_OPEN_ENDPOINTS = {"static", "accounts.mfa_setup", "accounts.security", "accounts.logout", "accounts.set_language",
                   "main.healthz"}


@bp.before_app_request
def owners_must_enrol():
    """An owner whose grace period ended while logged in goes to the set-up page first."""
    if request.endpoint in _OPEN_ENDPOINTS or not current_user.is_authenticated:
        return None
    if mfa.required(current_user) and not mfa.enabled(current_user):
        flash(_("Owners must use two-step verification: set it up to go on."), "info")
        return hx_redirect(url_for("accounts.mfa_setup"))
    return None
