"""All e-mail leaves through ``send_email``.

Every message has a plain-text part (``templates/email/<name>.txt``) and an HTML
alternative (``templates/email/<name>.html``, on ``email/_layout.html``: the business's
name and logo, one button per action, a footer) whose CSS is inlined with css-inline,
since many mail clients drop ``<style>``. ``reply_to`` names the person a reply should
reach (the business's owner, the inviting teammate, for a team alert the person it is
about: ``alert_reply_to``): the sender stays ``no-reply``.

The message is rendered now, in the recipient's language, and delivered by a job:
through SMTP when ``MAIL_SERVER`` is set, otherwise written as an ``.eml`` file to
the local outbox (``MAIL_OUTBOX_DIR``) that developers read at ``/dev/outbox``."""
from __future__ import annotations

import logging
import smtplib
import ssl
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app, has_app_context, render_template
from flask_babel import force_locale

from . import jobs
from .validation import single_line

log = logging.getLogger(__name__)


def send_email(to: str, subject: str, template: str, language: str = "es", reply_to: str | None = None,
               **context) -> None:
    """Render ``templates/email/<template>.txt`` in ``language`` and queue it for ``to``.

    ``subject`` is a callable or lazy string so that it is translated in the
    recipient's language, not the sender's."""
    with force_locale(language):
        text = render_template(f"email/{template}.txt", **context)
        html = _inline(render_template(f"email/{template}.html", language=language, **context))
        # A header is one line: a client or business name with a line break (typed before
        # forms cleaned them, or imported) must not break the message (issue 20, finding 4).
        subject_text = " ".join(single_line(str(subject() if callable(subject) else subject)).split())
    message = {
        "to": to,
        "subject": subject_text,
        "text": text,
        "html": html,
        "reply_to": single_line(reply_to) if reply_to else None,
        "sender": current_app.config["MAIL_DEFAULT_SENDER"],
        "template": template,
    }
    jobs.enqueue(deliver, message)


def _build(message: dict) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = message["sender"]
    msg["To"] = message["to"]
    msg["Subject"] = message["subject"]
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="fideliza.local")
    msg["X-Pymes-Template"] = message["template"]
    if message.get("reply_to"):
        msg["Reply-To"] = message["reply_to"]
    msg.set_content(message["text"])
    if message.get("html"):  # jobs queued before the HTML part existed carry none
        msg.add_alternative(message["html"], subtype="html")
    return msg


def _inline(html: str) -> str:
    import css_inline

    return css_inline.inline(html)


def logo_url(business, public_path: str | None) -> str | None:
    """The absolute address of the business's logo for an e-mail, or None when it has
    none or the message has no public page to serve it from (``/f/<token>/logo``)."""
    if not public_path or not business.logo_mime:
        return None
    return public_path.rstrip("/") + "/logo"


def owner_address(tenant_id: int) -> str | None:
    """Where a customer's reply to the business's mail goes: its first active owner."""
    from sqlalchemy import select

    from .accounts.models import Role, User
    from .extensions import db
    from .tenancy import bound

    with bound(tenant_id):
        return db.session.execute(select(User.email).where(
            User.role == Role.OWNER.value, User.active.is_(True)).order_by(User.id).limit(1)).scalar()


def alert_reply_to(tenant_id: int, recipient: str, person: str | None = None) -> str | None:
    """Where a teammate's reply to an alert goes (a complaint past its clock, an unhappy
    client): the person the alert is about (the case's owner, the client's seller), else
    the business's owner; never the recipient themself (None then: a reply to oneself
    helps no one and the sender is no-reply)."""
    def other(address):
        return address if address and address.strip().lower() != (recipient or "").strip().lower() else None

    return other(person) or other(owner_address(tenant_id))


def deliver(message: dict) -> None:
    """Job: deliver one rendered message (runs in the worker or inline)."""
    if not has_app_context():
        from . import create_app

        with create_app().app_context():
            return deliver(message)
    msg = _build(message)
    cfg = current_app.config
    if cfg.get("MAIL_SERVER"):
        _smtp(msg, cfg)
        log.info("mail sent template=%s", message["template"])
    else:
        outbox = Path(cfg["MAIL_OUTBOX_DIR"])
        outbox.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        (outbox / name).write_bytes(bytes(msg))
        log.info("mail written to outbox template=%s", message["template"])


def _smtp(msg: EmailMessage, cfg) -> None:
    host, port, timeout = cfg["MAIL_SERVER"], cfg["MAIL_PORT"], cfg["MAIL_TIMEOUT"]
    if cfg.get("MAIL_USE_SSL"):
        server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
    with server:
        if cfg.get("MAIL_USE_TLS") and not cfg.get("MAIL_USE_SSL"):
            server.starttls(context=ssl.create_default_context())
        if cfg.get("MAIL_USERNAME"):
            server.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        server.send_message(msg)


def read_outbox(outbox_dir: str | None = None) -> list[EmailMessage]:
    """Messages in the local outbox, oldest first (the dev page and the tests)."""
    from email import policy
    from email.parser import BytesParser

    folder = Path(outbox_dir or current_app.config["MAIL_OUTBOX_DIR"])
    if not folder.exists():
        return []
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]
