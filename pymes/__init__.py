"""Fideliza: keep a small business's key clients after the sale."""
from __future__ import annotations

from flask import Flask, g, request
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

from . import config as config_module


class IdConverter(BaseConverter):
    """``<id:name>``: a positive id that fits the database's integer column. An absurd
    id is the same plain 404 as a missing one, never a database error (TEN-4)."""

    regex = r"\d{1,30}"
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= 2**31 - 1:
            raise NotFound()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def create_app(config: dict | None = None) -> Flask:
    """The application factory. ``config`` overrides settings read from the environment."""
    app = Flask(__name__, template_folder=str(config_module.resource("templates")),
                static_folder=str(config_module.resource("static")), instance_relative_config=False)
    app.config.update(config_module.load(config))
    app.url_map.converters["id"] = IdConverter
    from .logs import configure as configure_logs

    configure_logs(app)

    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    if config_module.billing_enabled(app.config):
        from .billing.guard import init_app as init_billing

        init_billing(app)  # after the tenant hook: the guard needs the bound tenant
    register_template_helpers(app)
    register_error_handlers(app)
    register_cli(app)
    serve_static(app)
    trust_proxies(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies, the client's address and scheme come
    from the X-Forwarded-For/-Proto entries those proxies appended (werkzeug's ProxyFix
    takes the n-th from the right, so a client cannot forge its way past them). Without
    it every visitor behind nginx is 127.0.0.1 and shares one rate-limit bucket."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def warm_up(app: Flask) -> None:
    """Compile every template (gunicorn's master calls this before forking, so workers
    start with them compiled and shared)."""
    for name in app.jinja_env.list_templates(extensions=("html", "txt", "ics")):
        app.jinja_env.get_template(name)


def serve_static(app: Flask) -> None:
    """Static files through WhiteNoise: the gzip copies made at set-up
    (``python -m whitenoise.compress static``) go to browsers that accept them, so the
    first page stays under 100 KB transferred (performance.md); with a day of caching in
    production. Pages themselves are not compressed: HTML carries CSRF tokens beside
    typed text, the BREACH pattern; a front proxy may compress them knowingly."""
    from whitenoise import WhiteNoise

    def headers(response_headers, path, url):
        response_headers["X-Content-Type-Options"] = "nosniff"

    app.wsgi_app = WhiteNoise(app.wsgi_app, root=app.static_folder, prefix="static/",
                              max_age=0 if app.debug or app.testing else 86400, autorefresh=app.debug,
                              add_headers_function=headers)


def register_extensions(app: Flask) -> None:
    from . import (
        i18n,
        models,  # noqa: F401  (every table in the metadata)
    )
    from .extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    from . import cache

    cache.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.resource("migrations")))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    babel.domain_instance = i18n.RegionalDomain()  # es_ES words on top of es for a business in Spain
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    # No Flask-Login "session protection": sessions live in the user_sessions table (revoked
    # on log-out, expiring, hashed keys), which is the protection. Its "basic" mode also
    # wrote `_fresh` into the cookie of every anonymous request that carried a CSRF token:
    # the browser's /favicon.ico request, sent with the log-in page's cookie, answered
    # after the log-in and replaced the new session cookie, so the user was logged out
    # again at once (seen in CI; tests/accounts/test_session_cookie.py).
    login_manager.session_protection = None
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Log in to see this page.")

    from .accounts.services import load_session

    login_manager.user_loader(load_session)


def register_blueprints(app: Flask) -> None:
    from .accounts.activity import bp as audit_bp
    from .accounts.routes import bp as accounts_bp
    from .clients.routes import bp as clients_bp
    from .complaints.routes import bp as complaints_bp
    from .dashboard.routes import bp as dashboard_bp
    from .data.routes import bp as data_bp
    from .feedback.routes import bp as feedback_bp
    from .main.routes import bp as main_bp
    from .notifications.routes import bp as notifications_bp
    from .referrals.routes import bp as referrals_bp
    from .territories.routes import bp as territories_bp
    from .visits.routes import bp as visits_bp
    from .whatsapp.routes import bp as whatsapp_bp
    from .whatsapp.routes import chat_bp as whatsapp_chat_bp
    from .whatsapp.webhook import bp as whatsapp_webhook_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(clients_bp)
    app.register_blueprint(visits_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(complaints_bp)
    app.register_blueprint(referrals_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(territories_bp)
    app.register_blueprint(data_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(whatsapp_bp)
    app.register_blueprint(whatsapp_webhook_bp)
    app.register_blueprint(whatsapp_chat_bp)


def register_request_hooks(app: Flask) -> None:
    from .security import apply_headers
    from .tenancy import bind_tenant

    @app.before_request
    def bind_from_user():
        """Layer 1: the tenant comes from the logged-in user and nowhere else."""
        g.business = None
        if request.endpoint == "static":
            return
        if current_user.is_authenticated:
            bind_tenant(current_user.tenant_id)
            g.business = current_user.business

    @app.before_request
    def own_clients_only():
        """A seller restricted to their own clients (the business's setting) gets the
        same 404 as for a missing id on every page about another seller's client: the
        client's own pages, its sales' plans, its visits and calls, its feedback links."""
        args = request.view_args or {}
        if not args or not current_user.is_authenticated:
            return
        from flask import abort

        from .clients.ownership import clients_in_view_args
        from .clients.services import restricted_to_own, sees_client

        if not restricted_to_own(current_user):
            return
        # Every id argument is declared in pymes/clients/ownership.py (a test checks the url_map).
        if any(not sees_client(current_user, client_id) for client_id in clients_in_view_args(args)):
            abort(404)

    @app.after_request
    def headers(response):
        response = apply_headers(response)
        policy = g.get("referrer_policy")
        if policy:
            response.headers["Referrer-Policy"] = policy
        return response

    @app.teardown_request
    def unbind(exc):
        g.pop("_tenant_id", None)


def register_template_helpers(app: Flask) -> None:
    from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale

    from . import i18n
    from .accounts.forms import role_label

    app.jinja_env.filters["money"] = i18n.money
    app.jinja_env.filters["country_name"] = i18n.country_name
    app.jinja_env.filters["tax_id_label"] = i18n.tax_id_label
    from . import pricing

    app.jinja_env.globals["public_prices"] = pricing.read
    from .cache import cached_block

    app.jinja_env.globals["cached_block"] = cached_block
    app.jinja_env.filters["role_label"] = role_label

    @app.context_processor
    def globals_():
        return {
            "current_language": str(get_locale() or "es"),
            "format_date": format_date,
            "format_datetime": format_datetime,
            "format_decimal": format_decimal,
            "format_percent": format_percent,
            "ui_languages": i18n.language_choices(),
        }


def register_error_handlers(app: Flask) -> None:
    from .errors import register

    register(app)


def register_cli(app: Flask) -> None:
    from .cli import pymes_cli

    app.cli.add_command(pymes_cli)
