"""Billing routes: the owner's billing page, Checkout and Portal redirects, and the
Stripe webhook (the only CSRF-exempt route of the app, WEB-1).

The blueprint is registered only when billing is enabled (both Stripe keys set), so
without keys every billing URL is a plain 404."""
from __future__ import annotations

import json

import stripe
from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.decorators import confirmed_required, owner_required
from ..extensions import csrf
from ..htmx import render
from . import services, stripe_api

bp = Blueprint("billing", __name__, url_prefix="/billing")

# The billing page's forms end in a redirect to Stripe: the browser must allow it.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
            "connect-src 'self'; form-action 'self' https://checkout.stripe.com https://billing.stripe.com; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _page(status: int = 200, problem: str | None = None):
    sub = services.current_subscription()
    standing = services.standing(g.business, sub)
    config = current_app.config
    response = render("billing/page.html", standing=standing, problem=problem,
                      prices={"monthly": bool(config["STRIPE_PRICE_MONTHLY"]),
                              "yearly": bool(config["STRIPE_PRICE_YEARLY"])},
                      status=status)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


def _retry_message() -> str:
    return _("We could not reach our payment provider. Nothing was charged. Try again in a minute.")


@bp.get("")
@owner_required
def page():
    if request.args.get("checkout") == "done":
        flash(_("Thank you! Your subscription starts as soon as the payment provider confirms it."), "success")
        return redirect(url_for(".page"), code=303)
    return _page()


@bp.post("/checkout")
@owner_required
@confirmed_required  # AUTH-5: paying waits for a confirmed e-mail address
def checkout():
    plan = request.form.get("plan", "")
    base = current_app.config["BASE_URL"]
    try:
        url = services.checkout_url(g.business, current_user.email, plan,
                                    success_url=base + url_for(".page", checkout="done"),
                                    cancel_url=base + url_for(".page"))
    except ValueError:
        abort(404)
    except services.AlreadySubscribed:
        flash(_("Your subscription is already active. Change the plan or the card in the billing portal."), "info")
        return redirect(url_for(".page"), code=303)
    except stripe_api.StripeUnavailable:
        return _page(503, _retry_message())
    return redirect(url, code=303)


@bp.post("/portal")
@owner_required
@confirmed_required
def portal():
    try:
        url = services.portal_url(g.business, current_app.config["BASE_URL"] + url_for(".page"))
    except stripe_api.StripeUnavailable:
        return _page(503, _retry_message())
    if url is None:
        flash(_("Subscribe first: the billing portal opens once you have a subscription."), "info")
        return redirect(url_for(".page"), code=303)
    return redirect(url, code=303)


@bp.post("/webhook")
@csrf.exempt
def webhook():
    """Stripe's deliveries. No log-in: the tenant comes from the verified event's
    customer (layer 1). A bad signature, a changed byte or a stale timestamp is a 400
    with nothing written (PAY-1); unknown events are acknowledged and ignored."""
    payload = request.get_data()
    try:
        stripe_api.verify_event(payload, request.headers.get("Stripe-Signature"))
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError):
        return {"error": "invalid signature or payload"}, 400
    if not isinstance(event, dict) or not event.get("id"):
        return {"error": "invalid payload"}, 400
    result = services.handle_event(event)
    return {"result": result}, 200
