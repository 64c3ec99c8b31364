"""Settings from the environment.

Local development needs nothing: SQLite in ``instance/``, e-mail written to a local
outbox, rate limits in memory, billing off. In production (``PYMES_ENV=production``)
a missing or unsafe required setting stops the app at start-up with a message that
names the variable, instead of running with a development default.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
# An installed wheel carries templates/, static/, translations/ and migrations/ in
# pymes/_bundle/ (setup.py copies them at build time); a checkout has them beside pymes/.
BUNDLE = PACKAGE / "_bundle"
INSTALLED = BUNDLE.is_dir()
# The SQLite file and the dev outbox: the checkout's instance/, or ./instance when installed.
INSTANCE = Path.cwd() / "instance" if INSTALLED else ROOT / "instance"


def resource(name: str) -> Path:
    """The folder ``name`` (templates, static, translations, migrations), from the
    installed package when there is one, else from the checkout."""
    return BUNDLE / name if INSTALLED else ROOT / name

DEV_SECRET = "dev-only-not-secret"


class ConfigError(RuntimeError):
    """A required setting is missing or unsafe in production."""


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _normalise_db_url(url: str) -> str:
    # Platforms hand out postgres:// URLs; SQLAlchemy wants a driver name.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load(overrides: dict | None = None) -> dict:
    """Build the Flask config from the environment, then apply ``overrides``."""
    env = os.environ.get("PYMES_ENV", "development").strip().lower()
    production = env == "production"
    cfg: dict = {
        "PYMES_ENV": env,
        # json (production default) or text: pymes/logs.py
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "").strip().lower(),
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET),
        # Earlier keys, comma-separated, still accepted when reading (Flask's cookies and the
        # two-step log-in secrets, pymes/accounts/mfa.py) after SECRET_KEY is rotated.
        "SECRET_KEY_FALLBACKS": [k.strip() for k in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k.strip()],
        # Days an owner may log in without two-step verification (sign-up, promotion).
        "MFA_GRACE_DAYS": int(os.environ.get("MFA_GRACE_DAYS", "14")),
        # How long the owner's activity log keeps an entry (pymes prune-activity removes older ones).
        "AUDIT_RETENTION_DAYS": int(os.environ.get("AUDIT_RETENTION_DAYS", "365")),
        "SQLALCHEMY_DATABASE_URI": _normalise_db_url(
            os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'pymes.sqlite3'}")
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "587")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", True),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL", False),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "Fideliza <no-reply@fideliza.local>"),
        "MAIL_OUTBOX_DIR": os.environ.get("MAIL_OUTBOX_DIR", str(INSTANCE / "outbox")),
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        # Billing (issue 8): off unless both Stripe keys are set; see pymes/billing.
        "STRIPE_PRICE_MONTHLY": os.environ.get("STRIPE_PRICE_MONTHLY", ""),
        "STRIPE_PRICE_YEARLY": os.environ.get("STRIPE_PRICE_YEARLY", ""),
        "STRIPE_TIMEOUT": float(os.environ.get("STRIPE_TIMEOUT", "5")),
        # WhatsApp Business Cloud API (issue 23, pymes/whatsapp): optional, per business.
        "WHATSAPP_API_BASE": os.environ.get("WHATSAPP_API_BASE", "https://graph.facebook.com"),
        "WHATSAPP_API_VERSION": os.environ.get("WHATSAPP_API_VERSION", "v21.0"),
        "WHATSAPP_TIMEOUT": float(os.environ.get("WHATSAPP_TIMEOUT", "5")),
        "TRIAL_DAYS": int(os.environ.get("TRIAL_DAYS", "14")),
        # The public price (issue 19): what the Stripe prices above charge, in major units;
        # the landing page shows them, 'pymes billing-check-prices' compares them with Stripe.
        # An empty PRICE_MONTHLY shows no price (self-hosted, no subscription).
        "PRICE_CURRENCY": os.environ.get("PRICE_CURRENCY", "USD"),
        "PRICE_MONTHLY": os.environ.get("PRICE_MONTHLY", "29"),
        "PRICE_YEARLY": os.environ.get("PRICE_YEARLY", "290"),
        "TRIAL_WARNING_DAYS": int(os.environ.get("TRIAL_WARNING_DAYS", "5")),
        "BILLING_GRACE_DAYS": int(os.environ.get("BILLING_GRACE_DAYS", "7")),
        # Days between an owner asking to delete the business and the purge (DATA-3).
        "DELETION_GRACE_DAYS": int(os.environ.get("DELETION_GRACE_DAYS", "14")),
        # Sessions and cookies (SES-1)
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production or _bool("SECURE_COOKIES", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production or _bool("SECURE_COOKIES", False),
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
        "SESSION_LIFETIME_DAYS": 30,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session, which has its own life
        "BABEL_DEFAULT_LOCALE": "es",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "BABEL_TRANSLATION_DIRECTORIES": str(resource("translations")),
        "LANGUAGES": ["es", "en"],
        # Rate limits (AUTH-2, TOK-1): memory by default, Redis when configured,
        # back to memory when Redis is down instead of switching limits off.
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": False,
        # bench/run loads public pages harder than any limit allows; never off in production.
        "RATELIMIT_ENABLED": production or os.environ.get("RATELIMIT_ENABLED", "1") != "0",
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        # Tokens
        "RESET_TOKEN_MINUTES": 30,
        "CONFIRM_TOKEN_HOURS": 48,
        "INVITATION_DAYS": 7,
        # /dev/outbox shows every e-mail, reset links included: local development only
        # (and only to the machine itself, pymes/main/routes.py), never staging.
        "DEV_OUTBOX_PAGE": env == "development",
        "HSTS": production,
        "DB_APP_ROLE": os.environ.get("DB_APP_ROLE", ""),
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (the
        # README's nginx set-up: 1). 0 trusts no forwarded header: the client address is
        # the socket's. Rate limits key on the address this yields.
        "TRUSTED_PROXIES": os.environ.get("TRUSTED_PROXIES", "0"),
    }
    if overrides:
        cfg.update(overrides)
    try:
        cfg["TRUSTED_PROXIES"] = int(str(cfg.get("TRUSTED_PROXIES") or 0).strip())
    except ValueError:
        raise ConfigError("TRUSTED_PROXIES must be a whole number: how many proxies sit in front of the app") from None
    if not 0 <= cfg["TRUSTED_PROXIES"] <= 5:
        raise ConfigError("TRUSTED_PROXIES must be between 0 and 5")
    from .pricing import check as check_prices

    price_problems = check_prices(cfg)
    if price_problems:
        raise ConfigError("; ".join(price_problems))
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # No pre-ping (a round trip before every request's first statement): a pooled
        # connection the server has closed is recognised at check-out without asking it
        # (pymes/db.py, _drop_closed) and replaced; pool_recycle retires connections
        # before a firewall or server idle timeout can cut them silently.
        opts = {"pool_pre_ping": False, "pool_recycle": 1800, "pool_size": 5, "max_overflow": 5,
                "pool_timeout": 5, "connect_args": {"connect_timeout": 5}}
        opts.update(cfg.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = opts
    if cfg["PYMES_ENV"] == "production":
        check_production(cfg)
    return cfg


def billing_enabled(cfg) -> bool:
    """Billing runs only with both Stripe keys; without them (self-hosted, development)
    there are no billing pages, no banners and every feature is available."""
    return bool(cfg.get("STRIPE_SECRET_KEY") and cfg.get("STRIPE_WEBHOOK_SECRET"))


def check_production(cfg: dict) -> None:
    """Refuse to start in production with development defaults."""
    problems = []
    if not cfg.get("SECRET_KEY") or cfg["SECRET_KEY"] == DEV_SECRET or len(cfg["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
    if "DATABASE_URL" not in os.environ and "sqlite" in cfg["SQLALCHEMY_DATABASE_URI"] and not _bool("ALLOW_SQLITE"):
        problems.append("DATABASE_URL must be set (or ALLOW_SQLITE=1 to run on the embedded SQLite file)")
    if not os.environ.get("BASE_URL") and cfg["BASE_URL"].startswith("http://127.0.0.1"):
        problems.append("BASE_URL must be set to the public address (links in e-mails use it)")
    elif not cfg["BASE_URL"].startswith("https://"):
        problems.append("BASE_URL must start with https:// in production")
    if not cfg.get("MAIL_SERVER"):
        problems.append("MAIL_SERVER must be set: without it e-mail only reaches a local outbox")
    if cfg.get("STRIPE_SECRET_KEY") and not (cfg.get("STRIPE_WEBHOOK_SECRET") and cfg.get("STRIPE_PRICE_MONTHLY")):
        problems.append("STRIPE_WEBHOOK_SECRET and STRIPE_PRICE_MONTHLY must be set when STRIPE_SECRET_KEY is")
    if cfg.get("STRIPE_SECRET_KEY") and "PRICE_MONTHLY" not in os.environ:
        problems.append("PRICE_MONTHLY (with PRICE_CURRENCY and PRICE_YEARLY) must be set to what the Stripe prices "
                        "charge: the landing page shows it (check with 'pymes billing-check-prices')")
    if problems:
        raise ConfigError("Fideliza cannot start in production:\n  - " + "\n  - ".join(problems))
