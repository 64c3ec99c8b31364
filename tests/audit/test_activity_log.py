"""The owner's activity log (issue 20): what gets recorded (log-ins with device and
address, failed log-ins, team changes, exports, deletions), who may read it, the CSV
export (EXP-1), that nothing can change a row, the 12-month retention job, and that a
business sees only its own (TEN-)."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from pymes import audit
from pymes.audit.models import AuditEvent
from pymes.db import utcnow
from pymes.extensions import db
from pymes.tenancy import bound

from ..factories import PASSWORD, csrf_token, login

PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0.0.0 Mobile Safari/537.36")


def rows(app, business) -> list[AuditEvent]:
    with app.app_context(), bound(business.id):
        found = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        db.session.expunge_all()
        return list(found)


def actions(app, business) -> list[str]:
    return [r.action for r in rows(app, business)]


def test_a_login_is_recorded_with_the_device_and_the_address(app, make):
    business, owner, _m, _s = make.team()
    phone = app.test_client()
    response = phone.post("/login", data={"csrf_token": csrf_token(phone), "email": owner.email,
                                          "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "203.0.113.7"}, headers={"User-Agent": PHONE})
    assert response.status_code == 303
    (entry,) = rows(app, business)
    assert (entry.action, entry.actor_id, entry.subject) == ("login", owner.id, owner.email)
    assert (entry.device, entry.ip) == ("Chrome · Android", "203.0.113.7")
    assert entry.details == {"with": "password"}
    page = phone.get("/settings/activity").get_data(as_text=True)
    assert "Inició sesión" in page and "Chrome · Android" in page and "203.0.113.7" in page


def test_a_failed_login_is_recorded_for_a_known_address_only(app, make):
    business, owner, _m, _s = make.team()
    other = make.business()
    http = app.test_client()
    with http.post("/login", data={"csrf_token": csrf_token(http), "email": owner.email, "password": "wrong one"},
                   environ_base={"REMOTE_ADDR": "198.51.100.9"}) as response:
        assert response.status_code == 422
        assert rows(app, business) == []  # written after the answer went out (AUTH-3: same time either way)
    (entry,) = rows(app, business)
    assert (entry.action, entry.subject, entry.ip, entry.details) == ("login_failed", owner.email, "198.51.100.9",
                                                                      {"step": "password"})
    with http.post("/login", data={"csrf_token": csrf_token(http), "email": "nobody@example.com",
                                   "password": "wrong one"}) as response:
        assert response.status_code == 422
    assert len(rows(app, business)) == 1 and rows(app, other) == []


def test_team_changes_exports_and_deletions_are_recorded(app, client, make):
    business, owner, manager, seller = make.team()
    login(client, owner.email)
    token = csrf_token(client, "/team")
    client.post(f"/team/members/{seller.id}/role", data={"csrf_token": token, "role": "manager"})
    client.post("/team/invite", data={"csrf_token": token, "email": "nueva@example.com", "role": "seller"})
    client.post(f"/team/members/{manager.id}/deactivate", data={"csrf_token": token})
    client_id = make.client(business, "Ferretería Sur").id
    client.post(f"/clients/{client_id}/delete", data={"csrf_token": token})
    client.post(f"/clients/{client_id}/restore", data={"csrf_token": token})
    client.get("/clients/export.csv").close()
    client.get("/settings/data/export.zip").close()

    logged = rows(app, business)
    assert [r.action for r in logged] == ["login", "role_changed", "invitation_sent", "member_deactivated",
                                          "client_deleted", "client_restored", "export", "export"]
    assert logged[1].details == {"from": "seller", "to": "manager"} and logged[1].actor_id == owner.id
    assert logged[2].subject == "nueva@example.com"
    assert [r.details["what"] for r in logged[-2:]] == ["clients", "all_data"]
    page = client.get("/settings/activity").get_data(as_text=True)
    assert "Ventas → Gerente" in page and "Cliente eliminado" in page and "Ferretería Sur" in page
    only = client.get("/settings/activity?action=client_deleted").get_data(as_text=True)
    assert 'data-action="client_deleted"' in only and 'data-action="invitation_sent"' not in only


def test_only_owners_read_it(app, make):
    _b, _o, manager, seller = make.team()
    for user in (manager, seller):
        http = app.test_client()
        login(http, user.email)
        assert http.get("/settings/activity").status_code == 403
        assert http.get("/settings/activity/export.csv").status_code == 403


def test_the_csv_export_is_formula_safe_and_round_trips(app, client, make):
    """EXP-1: a client named like a formula is text in the export."""
    business, owner, _m, _s = make.team()
    login(client, owner.email)
    client_id = make.client(business, '=HYPERLINK("http://evil.example","x")').id
    client.post(f"/clients/{client_id}/delete", data={"csrf_token": csrf_token(client, "/")})
    response = client.get("/settings/activity/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    body = table[1:]
    deleted = next(r for r in body if r[2] == "Cliente eliminado")
    assert deleted[3] == "'" + '=HYPERLINK("http://evil.example","x")'
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)
    # The download itself is in the log.
    assert actions(app, business)[-1] == "export"


def test_nothing_can_change_or_delete_an_entry(app, make):
    business, owner, _m, _s = make.team()
    with app.app_context(), bound(business.id):
        audit.record("client_deleted", "Cliente X", user=db.session.get(type(owner), owner.id))
    with app.app_context(), bound(business.id):
        entry = db.session.execute(select(AuditEvent)).scalar_one()
        entry.subject = "otra cosa"
        with pytest.raises(audit.ActivityIsPermanent):
            db.session.flush()
        db.session.rollback()
        entry = db.session.execute(select(AuditEvent)).scalar_one()
        db.session.delete(entry)
        with pytest.raises(audit.ActivityIsPermanent):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(audit.ActivityIsPermanent):
            db.session.execute(update(AuditEvent).values(subject="x"))
        with pytest.raises(audit.ActivityIsPermanent):
            db.session.execute(AuditEvent.__table__.delete())
        db.session.rollback()
        # Below the ORM the database refuses too (a trigger, on SQLite and PostgreSQL).
        with pytest.raises(Exception, match="never changed"):
            db.session.execute(text("UPDATE audit_events SET subject = 'x'"))
        db.session.rollback()
        assert db.session.execute(select(AuditEvent.subject)).scalar_one() == "Cliente X"
    # And no route writes to it.
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/settings/activity"):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule


def test_entries_older_than_twelve_months_are_pruned(app, make):
    a, a_owner, _m, _s = make.team()
    b, b_owner, _m2, _s2 = make.team()
    now = utcnow()
    for business, owner in ((a, a_owner), (b, b_owner)):
        with app.app_context(), bound(business.id):
            db.session.add_all([
                AuditEvent(action="login", actor_id=owner.id, actor_name="x", created_at=now - timedelta(days=366)),
                AuditEvent(action="export", actor_id=owner.id, actor_name="x", created_at=now - timedelta(days=364)),
            ])
            db.session.commit()
    result = app.test_cli_runner().invoke(args=["pymes", "prune-activity"])
    assert result.exit_code == 0, result.output
    assert "2 activity entries" in result.output
    assert actions(app, a) == ["export"] and actions(app, b) == ["export"]


def test_a_business_reads_only_its_own_activity(app, make):
    """TEN-3: another business's log-ins never show on this owner's page or export."""
    a, a_owner, _m, _s = make.team("Negocio A")
    b, b_owner, _m2, _s2 = make.team("Negocio B")
    b_http = app.test_client()
    b_http.post("/login", data={"csrf_token": csrf_token(b_http), "email": b_owner.email, "password": PASSWORD},
                environ_base={"REMOTE_ADDR": "192.0.2.77"})
    a_http = app.test_client()
    login(a_http, a_owner.email)
    page = a_http.get("/settings/activity").get_data(as_text=True)
    export = a_http.get("/settings/activity/export.csv").get_data(as_text=True)
    for body in (page, export):
        assert a_owner.email in body
        assert b_owner.email not in body and "192.0.2.77" not in body


def test_device_labels():
    assert audit.device_label(PHONE) == "Chrome · Android"
    assert audit.device_label("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                              "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1") == "Safari · iPhone"
    assert audit.device_label("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                              "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0") == "Edge · Windows"
    assert audit.device_label("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 "
                              "Firefox/133.0") == "Firefox · Mac"
    assert audit.device_label("curl/8.5.0") == "curl/8.5.0"
    assert audit.device_label(None) == ""


def test_imports_and_their_undo_and_wrong_codes_are_recorded(app, client, make):
    import re

    import pyotp

    business, owner, _m, _s = make.team()
    login(client, owner.email)
    token = csrf_token(client, "/clients/import")
    uploaded = client.post("/clients/import", data={"csrf_token": token, "file": (
        io.BytesIO("Nombre,Correo\nAna Pérez,ana.perez@example.com\n".encode()), "clientes.csv")},
        content_type="multipart/form-data")
    iid = int(re.search(r"/clients/import/(\d+)$", uploaded.headers["Location"]).group(1))
    assert client.post(f"/clients/import/{iid}", data={
        "csrf_token": csrf_token(client, f"/clients/import/{iid}")}).status_code == 303
    assert client.post(f"/clients/import/{iid}/undo", data={
        "csrf_token": csrf_token(client, f"/clients/import/{iid}")}).status_code == 303
    logged = rows(app, business)
    assert [(r.action, r.subject) for r in logged[-2:]] == [("import", "clientes.csv"), ("import_undone", "clientes.csv")]
    assert logged[-2].details == {"created": 1, "merged": 0} and logged[-1].details == {"removed": 1}

    # A wrong two-step code is a failed log-in too.
    page = client.get("/settings/security/setup").get_data(as_text=True)
    secret = re.search(r'data-testid="mfa-secret">([^<]+)<', page).group(1).replace(" ", "")
    client.post("/settings/security/setup", data={"csrf_token": csrf_token(client, "/settings/security/setup"),
                                                   "code": pyotp.TOTP(secret).now(), "password": PASSWORD})
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, owner.email)
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    client.post("/login/code", data={"csrf_token": csrf_token(client, "/login/code"), "code": wrong})
    last = rows(app, business)[-1]
    assert (last.action, last.details) == ("login_failed", {"step": "code"})
    assert "mfa_on" in actions(app, business)
