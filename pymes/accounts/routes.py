"""Account routes: thin, they parse a form, call a service and render."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from .. import audit, i18n
from ..extensions import db, limiter
from ..htmx import hx_redirect, render
from ..security import safe_next
from ..tenancy import get_or_404
from ..validation import apply_field_error
from . import devices, mfa, services, tokens
from .decorators import login_required, manager_required, owner_required
from .forms import (
    AcceptInvitationForm,
    BusinessSettingsForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    ResetPasswordForm,
    RoleForm,
    SignupForm,
    login_address,
    role_label,
)
from .models import Business, Invitation, User

bp = Blueprint("accounts", __name__)


def _ui_language() -> str:
    return str(get_locale() or "es")


def _status(form) -> int:
    return 422 if form.errors else 200


def _token_page() -> None:
    """Pages reached through an e-mailed secret: never cached, never in a Referer."""
    g.no_store = True
    g.referrer_policy = "no-referrer"


def _link_problem(reason: str, kind: str):
    status = 404 if reason == "invalid" else 410
    return render_template("accounts/link_problem.html", reason=reason, kind=kind), status


def _browser_country() -> str:
    for lang, _q in request.accept_languages:
        if "-" in lang:
            country = lang.split("-", 1)[1].upper()
            if country in i18n.COUNTRIES:
                return country
    return "CL"


# --- sign-up --------------------------------------------------------------------------

def _preset_locale_fields(form: SignupForm, country: str) -> None:
    form.country.data = country
    form.currency.data = i18n.default_currency(country)
    form.timezone.data = i18n.default_timezone(country)
    form.language.data = i18n.default_language(country)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignupForm(ui_language=_ui_language())
    if request.method == "GET":
        _preset_locale_fields(form, _browser_country())
    if form.validate_on_submit():
        services.sign_up(business_name=form.business_name.data, name=form.name.data, email=form.email.data,
                         password=form.password.data, country=form.country.data, currency=form.currency.data,
                         timezone=form.timezone.data, language=form.language.data)
        session["lang"] = form.language.data
        return redirect(url_for(".check_email", kind="signup"), code=303)
    return render("accounts/signup.html", status=_status(form), form=form)


@bp.get("/signup/defaults")
def signup_defaults():
    """htmx: currency, time zone and language that fit the chosen country."""
    form = SignupForm(ui_language=_ui_language(), formdata=None)
    country = request.args.get("country", "")
    if country not in i18n.COUNTRIES:
        country = "CL"
    _preset_locale_fields(form, country)
    return render_template("accounts/_locale_fields.html", form=form)


@bp.get("/check-email/<any(signup, reset):kind>")
def check_email(kind: str):
    return render_template("accounts/check_email.html", kind=kind)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def confirm_email(token: str):
    _token_page()
    if request.method == "GET":
        found, reason = tokens.check(token, tokens.CONFIRM_EMAIL)
        if found is None:
            return _link_problem(reason, "confirm")
        return render_template("accounts/confirm.html")
    user, reason = services.confirm_email(token)
    if user is None:
        return _link_problem(reason, "confirm")
    if mfa.enabled(user) or mfa.required(user):  # an e-mailed link is no second factor
        flash(_("Your e-mail is confirmed. Log in to go on."), "success")
        return redirect(url_for(".login"), code=303)
    services.start_session(user)
    login_user(user)
    flash(_("Your e-mail is confirmed. Welcome to Fideliza!"), "success")
    return redirect(url_for("main.home"), code=303)


@bp.post("/confirm/resend")
@login_required
@limiter.limit("5 per hour")
def resend_confirmation():
    services.resend_confirmation(current_user)
    flash(_("We sent a new confirmation link to %(email)s.", email=current_user.email), "success")
    return redirect(url_for("main.home"), code=303)


# --- log-in and log-out -----------------------------------------------------------------

def _login_address() -> str:
    """The typed address as log-in looks it up (email-validator's normal form), so a
    full-width letter or a capital opens no counter of its own (AUTH-2)."""
    return login_address(request.form.get("email") or "")[:254]


def _account_key() -> str:
    return "login-account:" + _login_address()


def _device_key() -> str:
    return f"login-device:{devices.known_device(_login_address())}:{_login_address()}"


def _on_known_device() -> bool:
    return devices.known_device(_login_address()) is not None


def _on_new_device() -> bool:
    return not _on_known_device()


def _login_failed(response) -> bool:
    return bool(g.get("login_failed"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit("10 per 15 minutes;100 per hour", methods=["POST"], key_func=_account_key,
               deduct_when=_login_failed, exempt_when=_on_known_device)
@limiter.limit("10 per 15 minutes;100 per hour", methods=["POST"], key_func=_device_key,
               deduct_when=_login_failed, exempt_when=_on_new_device)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:  # the session opens now, or after the two-step code (mfa_routes)
            return mfa_routes.password_ok(user, remember=bool(form.remember.data),
                                          next_url=safe_next(form.next.data))
        g.login_failed = True
        audit.failed_login(form.email.data, services.find_user_by_email)  # after the answer: no timing difference (AUTH-3)
        form.form_errors.append(_("Wrong e-mail or password."))
    elif request.method == "POST":
        g.login_failed = True
    return render("accounts/login.html", status=_status(form), form=form)


@bp.post("/logout")
@login_required
def logout():
    services.end_session(current_user.session_key)
    logout_user()
    session.pop("lang", None)
    flash(_("You have logged out."), "info")
    response = redirect(url_for(".login"), code=303)
    # the browser forgets the pages it kept (the service worker's caches are emptied by
    # static/js/pwa.js on the log-in page that follows; issue 21, point 2)
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


# --- password reset ------------------------------------------------------------------

@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        return services.request_password_reset_after(redirect(url_for(".check_email", kind="reset"), code=303),
                                                     form.email.data)
    return render("accounts/forgot.html", status=_status(form), form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def reset_password(token: str):
    _token_page()
    found, reason = tokens.check(token, tokens.RESET_PASSWORD)
    if found is None:
        return _link_problem(reason, "reset")
    owner = db.session.get(User, found.subject_id)
    form = ResetPasswordForm(known=(owner.email, owner.business.name) if owner is not None else ())
    if form.validate_on_submit():
        user, reason = services.reset_password(token, form.password.data)
        if user is None:
            return _link_problem(reason, "reset")
        if current_user.is_authenticated:
            logout_user()
        audit.record("password_reset", user.email, user=user)
        flash(_("Your password is changed. Log in with the new one."), "success")
        return redirect(url_for(".login"), code=303)
    return render("accounts/reset.html", status=_status(form), form=form)


# --- invitations ----------------------------------------------------------------------

@bp.route("/invitations/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def accept_invitation(token: str):
    _token_page()
    invitation, reason = services.check_invitation(token)
    if invitation is None:
        return _link_problem(reason, "invitation")
    business = db.session.get(Business, invitation.tenant_id)
    form = AcceptInvitationForm(known=(invitation.email, business.name))
    if request.method == "GET":
        form.name.data = invitation.name
        form.language.data = business.language
    if form.validate_on_submit():
        try:
            user, reason = services.accept_invitation(token, name=form.name.data, password=form.password.data,
                                                      language=form.language.data)
        except services.FieldError as error:
            form.form_errors.append(error.message)
        else:
            if user is None:
                return _link_problem(reason, "invitation")
            if current_user.is_authenticated:
                services.end_session(current_user.session_key)
                logout_user()
            services.start_session(user)
            login_user(user)
            audit.record("invitation_accepted", user.email, user=user, role=user.role)
            flash(_("Welcome to %(business)s!", business=user.business.name), "success")
            return redirect(url_for("main.home"), code=303)
    return render("accounts/accept_invitation.html", status=_status(form), form=form, invitation=invitation,
                  business=business)


# --- team -------------------------------------------------------------------------------

def _team_page(invite_form: InviteForm | None = None, status: int = 200):
    members, invitations = services.team()
    # After a success the invite form starts empty again (formdata=None), not refilled from the POST.
    form = invite_form or InviteForm(formdata=None, roles=services.roles_assignable_by(current_user))
    return render("accounts/team.html", "accounts/_team.html", status=status, members=members,
                  invitations=invitations, invite_form=form, assignable=services.roles_assignable_by(current_user))


@bp.get("/team")
@manager_required
def team():
    return _team_page()


@bp.post("/team/invite")
@manager_required
@limiter.limit("30 per hour")
def invite():
    form = InviteForm(roles=services.roles_assignable_by(current_user))
    if form.validate_on_submit():
        try:
            services.invite(current_user, email=form.email.data, role=form.role.data, name=form.name.data or "")
        except services.FieldError as error:
            apply_field_error(form, error)
        else:
            audit.record("invitation_sent", form.email.data, role=form.role.data)
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return _team_page()
    return _team_page(form, status=422)


@bp.post("/team/invitations/<id:invitation_id>/revoke")
@manager_required
def revoke_invitation(invitation_id: int):
    invitation = get_or_404(Invitation, invitation_id)
    services.revoke_invitation(invitation)
    audit.record("invitation_revoked", invitation.email, role=invitation.role)
    flash(_("The invitation to %(email)s is cancelled.", email=invitation.email), "info")
    return _team_page()


@bp.post("/team/invitations/<id:invitation_id>/resend")
@manager_required
@limiter.limit("30 per hour")
def resend_invitation(invitation_id: int):
    invitation = get_or_404(Invitation, invitation_id)
    try:
        services.invite(current_user, email=invitation.email, role=invitation.role, name=invitation.name)
    except services.FieldError as error:
        flash(error.message, "error")
    else:
        audit.record("invitation_sent", invitation.email, role=invitation.role)
        flash(_("Invitation sent again to %(email)s.", email=invitation.email), "success")
    return _team_page()


@bp.post("/team/members/<id:user_id>/role")
@manager_required
def change_role(user_id: int):
    member = get_or_404(User, user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            old_role = member.role
            services.change_role(current_user, member, form.role.data)
        except services.FieldError as error:
            flash(error.message, "error")
        else:
            if old_role != member.role:
                audit.record("role_changed", member.name, **{"from": old_role, "to": member.role})
            flash(_("%(name)s is now: %(role)s.", name=member.name, role=_role(member.role)), "success")
    else:
        flash(_("Choose a valid role."), "error")
    return _team_page()


@bp.post("/team/members/<id:user_id>/deactivate")
@manager_required
def deactivate_member(user_id: int):
    return _set_active(user_id, False)


@bp.post("/team/members/<id:user_id>/reactivate")
@manager_required
def reactivate_member(user_id: int):
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    member = get_or_404(User, user_id)
    try:
        services.set_active(current_user, member, active)
    except services.FieldError as error:
        flash(error.message, "error")
    else:
        audit.record("member_reactivated" if active else "member_deactivated", member.name)
        flash(_("%(name)s can log in again.", name=member.name) if active
              else _("%(name)s can no longer log in.", name=member.name), "success")
    return _team_page()


def _role(role: str) -> str:
    return role_label(role)


# --- settings -------------------------------------------------------------------------

@bp.route("/settings/business", methods=["GET", "POST"])
@owner_required
def business_settings():
    business = g.business
    form = BusinessSettingsForm(obj=business, ui_language=_ui_language())
    old_zone = business.timezone
    if form.validate_on_submit():
        upload = request.files.get(form.logo.name)
        data = upload.read(services.LOGO_MAX_BYTES + 1) if upload and upload.filename else None
        try:
            services.update_business(business, name=form.name.data, currency=form.currency.data,
                                     timezone=form.timezone.data, language=form.language.data, logo=data,
                                     remove_logo=bool(form.remove_logo.data))
        except services.FieldError as error:
            apply_field_error(form, error)
        else:
            flash(_("Business settings saved."), "success")
            if business.timezone != old_zone:
                flash(_("The time zone is now %(zone)s. Visits and calls keep their calendar days; times are "
                        "now shown in the new zone.", zone=business.timezone.replace("_", " ")), "info")
            return redirect(url_for(".business_settings"), code=303)
    return render("accounts/business_settings.html", status=_status(form), form=form, business=business)


@bp.get("/settings/business/logo")
@login_required
def business_logo():
    business = g.business
    if not business.logo_mime:
        abort(404)
    response = Response(business.logo, mimetype=business.logo_mime)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/settings/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user, prefix="profile", business_zone=g.business.timezone)
    password_form = PasswordForm(prefix="password")
    if form.validate_on_submit():
        services.update_profile(current_user, name=form.name.data, language=form.language.data,
                                timezone=form.timezone.data or None)
        flash(_("Your profile is saved."), "success")
        return redirect(url_for(".profile"), code=303)
    return render("accounts/profile.html", status=_status(form), form=form, password_form=password_form)


@bp.post("/settings/password")
@login_required
@limiter.limit("10 per hour")
def change_password():
    form = ProfileForm(obj=current_user, prefix="profile", business_zone=g.business.timezone)
    password_form = PasswordForm(prefix="password", known=(current_user.email, g.business.name))
    if password_form.validate_on_submit():
        try:
            services.change_password(current_user, password_form.current_password.data, password_form.password.data)
        except services.FieldError as error:
            apply_field_error(password_form, error)
        else:
            audit.record("password_changed")
            flash(_("Your password is changed. Your other sessions were closed."), "success")
            return redirect(url_for(".profile"), code=303)
    return render("accounts/profile.html", status=422, form=form, password_form=password_form)


@bp.post("/language")
def set_language():
    """A visitor's language choice (logged-in users choose in their profile)."""
    lang = request.form.get("lang", "")
    if lang in i18n.UI_LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            services.update_profile(current_user, name=current_user.name, language=lang)
    return hx_redirect(safe_next(request.form.get("next")) or url_for("main.home"))


from . import mfa_routes  # noqa: E402  (two-step log-in routes, on this blueprint)
