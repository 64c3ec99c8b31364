"""Control characters (issue 20, finding 4; DATA-1, WEB-3).

A name with CR/LF once made the public feedback answer a 500 after it was saved (the
managers' e-mail lost), broke "e-mail the feedback link", and stopped the nightly
digests and escalations at that business. Now: every single-line form field drops
control characters in one place (``pymes.forms.FlaskForm``); e-mail subjects are one
line whatever the stored names hold; and each scheduled job isolates businesses."""
import importlib
import logging
import pkgutil
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import flask_wtf
import pytest
from sqlalchemy import select

import pymes
from pymes import mail
from pymes.accounts.models import Business
from pymes.clients.models import Client
from pymes.extensions import db
from pymes.forms import FlaskForm
from pymes.tenancy import bound
from pymes.validation import multi_line, single_line
from pymes.visits.models import Activity

from ..factories import csrf_token, login

BROKEN = "Rosa\r\nBcc: everyone@example.com\x00\x1b"
# what a row saved before the fix can hold (PostgreSQL's text refuses NUL, SQLite's does not)
STORED = "Rosa\r\nBcc: everyone@example.com\x1b"


def test_every_form_of_the_app_uses_the_cleaning_base():
    for module in pkgutil.walk_packages(pymes.__path__, "pymes."):
        importlib.import_module(module.name)
    forms = [cls for cls in _subclasses(flask_wtf.FlaskForm) if cls.__module__.startswith("pymes.")]
    assert len(forms) > 20
    assert [cls.__qualname__ for cls in forms if not issubclass(cls, FlaskForm)] == []


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_cleaners():
    assert single_line("Ana\r\nPérez\x00\x1b[1m\u2028Soto\tß") == "Ana Pérez[1m Soto ß"
    assert multi_line("uno\r\ndos\rtres\x00\tcuatro\u2028cinco\x07") == "uno\ndos\ntres\tcuatro\ncinco"


def test_a_name_typed_with_line_breaks_is_saved_on_one_line(app, make):
    business = make.business()
    owner = make.user(business)
    http = app.test_client()
    login(http, owner.email)
    response = http.post("/clients/quick", data={"csrf_token": csrf_token(http, "/clients"), "name": BROKEN,
                                                 "phone": "9 6123 4567"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(Client.name)).scalar_one() == "Rosa Bcc: everyone@example.com"
    settings = http.post("/settings/business", data={
        "csrf_token": csrf_token(http, "/settings/business"), "name": "Óptica\nVista", "currency": "CLP",
        "timezone": "America/Santiago", "language": "es"})
    assert settings.status_code in (200, 303)
    with app.app_context():
        assert db.session.get(Business, business.id).name == "Óptica Vista"


@pytest.fixture
def stored_broken_names(app, make):
    """Names saved with line breaks before the forms cleaned them (or by an import)."""
    business, owner, manager, seller = make.team("Negocio\r\nNuevo")
    cid = make.client(business, STORED, email="rosa@example.com", seller_id=seller.id).id
    return business, owner, manager, seller, cid


def test_a_detractor_answer_about_such_a_client_reaches_the_managers(app, stored_broken_names, outbox,
                                                                      monkeypatch):
    from pymes.feedback import services

    monkeypatch.setattr(services, "MIN_FILL_SECONDS", 0)
    business, owner, manager, seller, cid = stored_broken_names
    http = app.test_client()
    login(http, seller.email)
    page = http.post(f"/clients/{cid}/feedback-links", data={"csrf_token": csrf_token(http, f"/clients/{cid}"),
                                                             "send": "email"})
    assert page.status_code in (200, 303)  # "e-mail the feedback link" with that name: no 500
    path = outbox.link("rosa@example.com", "/f/").removeprefix(app.config["BASE_URL"])
    customer = app.test_client()
    form = customer.get(path).get_data(as_text=True)
    answered = customer.post(path, data={
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
        "stamp": re.search(r'name="stamp" value="([^"]+)"', form).group(1), "score": "2"})
    assert answered.status_code in (200, 303)
    told = [m for m in outbox.messages() if m["X-Pymes-Template"] == "detractor"]
    assert sorted(m["To"] for m in told) == sorted([owner.email, manager.email])
    for message in outbox.messages():
        assert "\n" not in str(message["Subject"]) and "Bcc" not in message


NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def _due_today(app, business, seller, name):
    day = NOW.astimezone(ZoneInfo(business.timezone)).date()
    with app.app_context(), bound(business.id):
        client = Client(name=name, seller_id=seller.id)
        db.session.add(client)
        db.session.flush()
        db.session.add(Activity(client_id=client.id, seller_id=seller.id, kind="visit", purpose="delivery",
                                due_on=day))
        db.session.commit()


def test_send_digests_goes_on_after_a_business_fails_and_exits_non_zero(app, make, outbox, monkeypatch, caplog):
    first, _o1, _m1, first_seller = make.team("Primero\r\nNegocio")
    second, _o2, _m2, second_seller = make.team("Segundo")
    _due_today(app, first, first_seller, STORED)
    _due_today(app, second, second_seller, "Juan Pérez")
    # The broken names no longer break anything; a mail server refusing the first
    # business's seller stands for any other failure.
    real = mail.deliver

    def refusing(message):
        if message["to"] == first_seller.email:
            raise ConnectionError("550 mailbox unavailable")
        return real(message)

    monkeypatch.setattr(mail, "deliver", refusing)
    # alembic's fileConfig (the test database's migrations) disabled the loggers that existed then
    monkeypatch.setattr(logging.getLogger("pymes.jobs"), "disabled", False)
    from pymes.visits import digest

    monkeypatch.setattr(digest, "datetime", type("Frozen", (datetime,), {"now": staticmethod(lambda tz=None: NOW)}))
    result = app.test_cli_runner().invoke(args=["pymes", "send-digests"])
    assert result.exit_code == 1
    assert f"failed (see the log): {first.id}" in result.output
    assert [m["To"] for m in outbox.messages() if m["X-Pymes-Template"] == "digest"] == [second_seller.email]
    assert any(f"business={first.id}" in r.getMessage() for r in caplog.records)


def test_escalations_go_on_after_a_business_fails(app, make, outbox, monkeypatch):
    from pymes.complaints.models import Complaint
    from pymes.db import utcnow

    ids = []
    for name in ("Primero\nNegocio", "Segundo"):
        business, owner, manager, seller = make.team(name)
        with app.app_context(), bound(business.id):
            client = Client(name=STORED, seller_id=seller.id)
            db.session.add(client)
            db.session.flush()
            past = utcnow() - timedelta(days=3)
            db.session.add(Complaint(client_id=client.id, owner_id=seller.id, description="Se rompió",
                                     severity="high", source="call", opened_at=past, ack_due_at=past,
                                     resolve_due_at=past + timedelta(days=30)))
            db.session.commit()
        ids.append((business.id, owner.email))
    real = mail.deliver
    monkeypatch.setattr(mail, "deliver", lambda m: (_ for _ in ()).throw(ConnectionError("refused"))
                        if m["to"] == ids[0][1] else real(m))
    result = app.test_cli_runner().invoke(args=["pymes", "escalate-complaints"])
    assert result.exit_code == 1
    assert "1 escalations sent." in result.output
    late = [m for m in outbox.messages() if m["X-Pymes-Template"] == "complaint_late"]
    assert ids[1][1] in [m["To"] for m in late]
    for message in late:
        assert "\n" not in str(message["Subject"])
