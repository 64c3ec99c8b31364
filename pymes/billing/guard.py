"""Wiring billing into the app when it is enabled: the blueprint, the read-only guard
(PAY-5) and the banner's context. ``create_app`` calls ``init_app`` only when both
Stripe keys are set; without them none of this exists."""
from __future__ import annotations

from flask import Flask, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..read_only import SAFE_METHODS
from ..read_only import refuse as read_only
from . import services
from .routes import bp

# Writes a lapsed account may still make: leave, keep the account secure, pay, and the
# public pages whose visitors (the business's customers) are not the ones who lapsed.
ALLOWED_WRITES = {
    "accounts.logout",
    "accounts.set_language",
    "accounts.change_password",
    "accounts.mfa_setup",  # two-step log-in: an owner past the grace period must be able to set it up
    "accounts.mfa_recovery_codes",
    "accounts.mfa_disable",
    "feedback.public",
    "feedback.share",
    "referrals.friend",
    "referrals.revoke_testimonial",  # a client taking back their consent is honoured at once, always
}


def write_allowed(endpoint: str | None) -> bool:
    """Billing itself, and a business's own data (asking for deletion or cancelling it:
    no business is held hostage, DATA-3), stay open too."""
    return bool(endpoint) and (endpoint in ALLOWED_WRITES or endpoint.startswith(("billing.", "data.")))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def billing_standing():
        """Runs after the tenant is bound. Reads stay open (exports included); writes of
        a lapsed account are refused with a message that says why and what to do."""
        g.billing = None
        if request.endpoint in (None, "static") or not current_user.is_authenticated:
            return None
        g.billing = services.current_standing(g.business)
        if request.method in SAFE_METHODS or not g.billing.read_only or write_allowed(request.endpoint):
            return None
        return refuse()

    @app.context_processor
    def billing_context():
        return {"billing": g.get("billing")}


def refuse():
    return read_only(
        _("Your account is read-only: you can see and export everything, but not add or change anything "
          "until the subscription is active again."),
        note=_("Your data is safe and stays yours: every page and every export keeps working, and your customers' "
               "feedback links keep working too."),
        action_url=url_for("billing.page"), action_label=_("Go to billing"),
        others=_("Ask the owner of your business to renew the subscription."))
