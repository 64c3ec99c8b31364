"""Home page, health check and the development-only outbox viewer."""
from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, g, jsonify, render_template, request
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..htmx import render_cached
from .home import home_page

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return render_template("main/landing.html")
    # kept per session: the page may carry forms (their CSRF token is the session's)
    return render_cached("main/home.html", "main.home", (),
                         lambda: home_page(g.business, current_user._get_current_object()).context(), per_session=True)


@bp.get("/healthz")
def healthz():
    """Load balancers and the Procfile platform poll this: 200 when the database answers."""
    try:
        db.session.execute(select(1)).scalar_one()
    except Exception:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


def _outbox_enabled() -> None:
    """The outbox holds every e-mail, reset and invitation links included: only with
    ``PYMES_ENV=development`` and only to the machine itself (a loopback address; behind
    a trusted proxy, the visitor's address), whatever else the server runs."""
    import ipaddress

    if not current_app.config.get("DEV_OUTBOX_PAGE") or current_app.config.get("PYMES_ENV") != "development":
        abort(404)
    try:
        local = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False
    if not local:
        abort(404)
    g.no_store = True


@bp.get("/dev/outbox")
def outbox():
    """Development only: the e-mails written to the local outbox, newest first."""
    _outbox_enabled()
    folder = Path(current_app.config["MAIL_OUTBOX_DIR"])
    files = sorted(folder.glob("*.eml"), reverse=True)[:50] if folder.exists() else []
    messages = []
    for path in files:
        msg = read_outbox_file(path)
        messages.append({"name": path.stem, "to": msg["To"], "subject": msg["Subject"], "date": msg["Date"]})
    return render_template("dev/outbox.html", messages=messages)


@bp.get("/dev/outbox/<name>")
def outbox_message(name: str):
    _outbox_enabled()
    if not re.fullmatch(r"[0-9]+-[0-9a-f]{8}", name):
        abort(404)
    path = Path(current_app.config["MAIL_OUTBOX_DIR"]) / f"{name}.eml"
    if not path.exists():
        abort(404)
    msg = read_outbox_file(path)
    body = msg.get_body(preferencelist=("plain",)).get_content()
    links = re.findall(r"https?://\S+", body)
    return render_template("dev/message.html", msg=msg, body=body, links=links)


def read_outbox_file(path: Path):
    from email import policy
    from email.parser import BytesParser

    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


from . import pwa  # noqa: E402,F401  (the manifest, favicon and service worker routes on this blueprint)
