"""Logs: one JSON object per line in production (``LOG_FORMAT=json``, the production
default), plain text in development; secrets never written.

Public links, e-mailed links and iCal feeds carry their secret in the URL; an exception's
message may quote a URL or a query's parameters. Every record is passed through the
same redaction as gunicorn's access log (any run of 32+ URL-safe characters, which is
what a token, a session key or a Stripe secret looks like), and e-mail addresses are
masked to their first letter and domain."""
from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

# 32+ URL-safe characters (tokens, session keys, Stripe secrets), and the shorter personal
# referral code after /r/ (a public link as well)
SECRET = re.compile(r"[A-Za-z0-9_-]{32,}|(?<=/r/)[A-Za-z0-9_-]+")
EMAIL = re.compile(r"\b([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")


def redact(text: str) -> str:
    return EMAIL.sub(r"\1…@\2", SECRET.sub("[redacted]", text))


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg"[, "request", "exc"]}``, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "msg": redact(record.getMessage())}
        request = _request()
        if request:
            entry["request"] = request
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def _request() -> dict | None:
    from flask import has_request_context, request

    if not has_request_context():
        return None
    return {"method": request.method, "path": redact(request.path)}


def configure(app) -> None:
    """Install the formatter on the root handler once (gunicorn's workers and the CLI)."""
    fmt = app.config.get("LOG_FORMAT") or ("json" if app.config.get("PYMES_ENV") == "production" else "text")
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    root.setLevel(logging.WARNING)
    formatter = JsonFormatter() if fmt == "json" else RedactingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    for handler in root.handlers:
        handler.setFormatter(formatter)
    logging.getLogger("pymes").setLevel(logging.INFO)
