"""``flask --app wsgi pymes …`` commands."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from .demo import DEMO_BUSINESS, DEMO_EMAIL, DEMO_PASSWORD, DEMO_TEAM  # noqa: F401  (the README's log-in)

pymes_cli = AppGroup("pymes", help="Fideliza commands.")


def _each_business(job, report):
    """Run a scheduled job; if some businesses failed (each one logged, the others done),
    report what was done and exit 1 so cron and monitoring notice."""
    from .jobs import JobIncomplete

    try:
        done = job()
    except JobIncomplete as incomplete:
        click.echo(report(incomplete.done))
        click.echo(f"{len(incomplete.failed)} businesses failed (see the log): "
                   f"{', '.join(map(str, incomplete.failed))}", err=True)
        raise SystemExit(1) from incomplete
    click.echo(report(done))


@pymes_cli.command("demo")
@click.option("--fresh", is_flag=True, help="Delete the demo business first and build it again with today's dates.")
def demo(fresh: bool) -> None:
    """Create the demo business: a year of clients, sales, follow-up, feedback, complaints,
    referrals and testimonials (pymes/demo.py). Idempotent: an existing demo is left as it is."""
    from .demo import build

    result = build(echo=click.echo, fresh=fresh)
    if not result["created"]:
        click.echo(f"Demo business '{DEMO_BUSINESS}' already exists (nothing changed; --fresh rebuilds it with "
                   f"today's dates). Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
        return
    counts = result["counts"]
    tiers = counts["tiers"]
    click.echo(f"Demo business '{DEMO_BUSINESS}' created in {result['seconds']} s: {counts['clients']} clients "
               f"({tiers['apostle']} apostles, {tiers['frequent']} frequent, {tiers['sporadic']} sporadic, "
               f"{tiers['buyer']} one-off buyers, {counts['prospects']} prospects), {counts['sales']} sales, "
               f"{counts['contacts']} visits and calls, {counts['answers']} feedback answers, "
               f"{counts['complaints']} complaints, {counts['referrals']} referrals, "
               f"{counts['testimonials']} testimonials.")
    click.echo(f"Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
    click.echo("Team members (same password): " + ", ".join(email for _n, email, _r in DEMO_TEAM))


@pymes_cli.command("seed")
@click.option("--scale", type=click.Choice(["small", "medium", "scale"]),
              help="A data set of performance.md: small (1 × 200), medium (2 × 10,000), "
                   "scale (200 businesses × 5,000 clients); overrides the three options below.")
@click.option("--businesses", default=1, show_default=True, help="How many businesses to create.")
@click.option("--clients", default=100, show_default=True, help="Clients per business.")
@click.option("--sales-per-client", default=3.0, show_default=True, help="Average sales per client.")
@click.option("--seed", "seed_number", default=42, show_default=True, help="Same number, same data.")
def seed_command(scale: str | None, businesses: int, clients: int, sales_per_client: float, seed_number: int) -> None:
    """Create a deterministic data set (bulk inserts) and report how long it took."""
    from .seed import PASSWORD, SCALES, seed

    if scale:
        businesses, clients, sales_per_client = SCALES[scale]
    counts = seed(businesses, clients, sales_per_client, seed_number, echo=click.echo)
    _analyze()
    click.echo(f"Created {counts['businesses']} businesses, {counts['clients']} clients, {counts['sales']} sales, "
               f"{counts['activities']} visits and calls, {counts['answers']} feedback answers "
               f"in {counts['seconds']} s. Owners log in as seed<N>-owner0@example.com / {PASSWORD}")


@pymes_cli.command("send-digests")
def send_digests_command() -> None:
    """E-mail each seller today's visits and calls (run from cron or the worker; idempotent)."""
    from .visits.digest import send_digests

    _each_business(lambda: send_digests(echo=click.echo), lambda sent: f"{sent} digests sent.")


@pymes_cli.command("send-radar")
def send_radar_command() -> None:
    """E-mail each owner the week's key-client radar (once per ISO week; run from cron)."""
    from .radar.services import send_radars

    _each_business(lambda: send_radars(echo=click.echo), lambda sent: f"{sent} radars sent.")


@pymes_cli.command("escalate-complaints")
def escalate_complaints_command() -> None:
    """E-mail the managers about complaints that missed a target (once per target; run from cron)."""
    from .complaints.jobs import escalate_breaches

    _each_business(lambda: escalate_breaches(echo=click.echo), lambda sent: f"{sent} escalations sent.")


@pymes_cli.command("send-followups")
def send_followups_command() -> None:
    """Ask resolved complaints' clients for feedback again on their day (idempotent; run from cron)."""
    from .complaints.jobs import send_followups

    _each_business(lambda: send_followups(echo=click.echo), lambda done: f"{done} follow-ups sent.")


@pymes_cli.command("send-feedback-requests")
def send_feedback_requests_command() -> None:
    """E-mail feedback links the set number of days after each delivery, for businesses
    that turned it on (once per sale; run daily from cron)."""
    from .feedback.services import send_after_delivery

    _each_business(lambda: send_after_delivery(echo=click.echo), lambda sent: f"{sent} feedback links sent.")


@pymes_cli.command("billing-sync")
def billing_sync_command() -> None:
    """Re-read every subscription from Stripe and repair what a missed webhook left stale."""
    from flask import current_app

    from .billing.services import sync_all
    from .config import billing_enabled

    if not billing_enabled(current_app.config):
        raise click.ClickException("Billing is off: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.")
    counts = sync_all(echo=click.echo)
    click.echo(f"{counts['checked']} subscriptions checked, {counts['changed']} repaired, "
               f"{counts['failed']} could not be read.")
    if counts["failed"]:
        raise SystemExit(1)


def _analyze() -> None:
    from .db import analyze
    from .extensions import db

    analyze(db.engine)


@pymes_cli.command("billing-check-prices")
def billing_check_prices_command() -> None:
    """Compare the price the landing page shows (PRICE_*) with the Stripe prices Checkout charges."""
    from flask import current_app

    from . import pricing
    from .billing import stripe_api
    from .config import billing_enabled

    config = current_app.config
    if not billing_enabled(config):
        raise click.ClickException("Billing is off: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.")
    prices = pricing.read(config)
    if prices is None:
        raise click.ClickException("PRICE_MONTHLY is not set: the landing page shows no price.")
    try:
        found = {plan: stripe_api.retrieve_price(config[f"STRIPE_PRICE_{plan.upper()}"])
                 for plan in ("monthly", "yearly") if config.get(f"STRIPE_PRICE_{plan.upper()}")}
    except stripe_api.StripeUnavailable as error:
        raise click.ClickException(f"Stripe could not be read ({error}); nothing was checked.") from error
    problems = pricing.compare_with_stripe(prices, found, config)
    if prices.yearly is not None and "yearly" not in found:
        problems.append("PRICE_YEARLY is shown but STRIPE_PRICE_YEARLY is not set: nobody can buy it")
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"The prices shown match Stripe: {prices.monthly_text('en')} a month"
               + (f", {prices.yearly_text('en')} a year." if prices.yearly is not None else "."))


@pymes_cli.command("analyze")
def analyze_command() -> None:
    """Refresh the database planner's statistics (after a bulk load or a migration; daily from cron)."""
    _analyze()
    click.echo("Planner statistics refreshed.")


@pymes_cli.command("purge-deleted")
def purge_deleted_command() -> None:
    """Delete for good the businesses whose deletion grace period is over (run daily from cron)."""
    from .data.services import purge_due

    _each_business(lambda: purge_due(echo=click.echo), lambda purged: f"{purged} businesses purged.")


@pymes_cli.command("prune-activity")
def prune_activity_command() -> None:
    """Delete activity-log entries older than AUDIT_RETENTION_DAYS (365; run daily from cron)."""
    from sqlalchemy import select

    from .accounts.models import Business
    from .audit import prune
    from .extensions import db

    ids = db.session.execute(select(Business.id).order_by(Business.id)).scalars().all()
    _each_business(lambda: prune(ids), lambda removed: f"{removed} activity entries older than the retention period removed.")


@pymes_cli.command("worker")
def worker() -> None:
    """Run the RQ worker (needs REDIS_URL)."""
    from flask import current_app

    from .jobs import run_worker

    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: jobs run inline, there is nothing for a worker to do.")
    run_worker()
