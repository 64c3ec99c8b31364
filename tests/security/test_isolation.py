"""TEN-1..4: another business's objects are invisible, untouchable and undetectable.

The matrix is generated from ``app.url_map``: every rule × method × object type."""
import io
import random
import re

import pytest
from sqlalchemy import select

from pymes.accounts.models import Business
from pymes.extensions import db
from pymes.tenancy import TenantMismatch, TenantNotBound, bound, identity_lookup, unscoped

from ..factories import csrf_token, login
from . import routes

MISSING_ID = 2_147_000_000


def test_every_id_argument_has_a_factory(app):
    unknown = {arg for rule in routes.id_rules(app) for arg in rule.arguments} - routes.KNOWN_ARGS
    assert not unknown, f"add a factory to tests/security/routes.py for: {sorted(unknown)}"
    assert routes.id_rules(app), "the inventory found no id routes at all"


def _snapshot(app, business_id):
    """Every row of every tenant-owned table of one business (and the business row)."""
    rows = {}
    with app.app_context(), bound(business_id):
        for table in db.metadata.sorted_tables:
            if "tenant_id" not in table.c:
                continue
            rows[table.name] = db.session.execute(
                table.select().where(table.c.tenant_id == business_id).order_by(*table.primary_key.columns)).all()
        rows["businesses"] = db.session.execute(
            select(Business.__table__).where(Business.id == business_id)).all()
    return rows


def _without_csrf(response) -> bytes:
    """The body with the anti-CSRF token blanked: the token is signed with the current
    second, so two requests a second apart differ there and only there."""
    return re.sub(rb'[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}', b"CSRF", response.get_data())


@pytest.fixture
def two_tenants(app, make):
    from pymes.extensions import limiter

    limiter.enabled = False  # these tests are about isolation, not limits (the next app re-enables)
    a, a_owner, _am, _as = make.team("Negocio A")
    b, b_owner, _bm, _bs = make.team("Negocio B")
    return a, a_owner, b, b_owner


def test_other_tenants_objects_answer_404_exactly_like_missing_ones(app, make, two_tenants):
    a, a_owner, b, b_owner = two_tenants
    factories = routes.registry(make)
    b_ids = {arg: factory(app, b, b_owner) for arg, factory in factories.items()}
    missing = {arg: MISSING_ID for arg in factories}
    before = _snapshot(app, b.id)
    http = app.test_client()
    login(http, a_owner.email)
    token = csrf_token(http, "/")
    checked = 0
    for rule in routes.id_rules(app):
        for method in routes.methods(rule):
            responses = []
            for ids in (b_ids, missing):
                responses.append(http.open(routes.build(rule, ids), method=method,
                                           data={"csrf_token": token, "name": "x", "status": "done",
                                                 "role": "seller", "tier": "apostle", "reason": "x"}))
            foreign, absent = responses
            assert foreign.status_code == 404, (rule.rule, method, foreign.status_code)
            assert _without_csrf(foreign) == _without_csrf(absent), (rule.rule, method)
            checked += 1
    assert checked >= 10
    assert _snapshot(app, b.id) == before, "a request as tenant A changed tenant B's rows"


def test_tenant_id_in_url_form_or_header_changes_nothing(app, two_tenants):
    a, a_owner, b, _b_owner = two_tenants
    before = _snapshot(app, b.id)
    http = app.test_client()
    login(http, a_owner.email)
    token = csrf_token(http, "/settings/business")
    response = http.post(f"/settings/business?tenant_id={b.id}", data={
        "csrf_token": token, "tenant_id": str(b.id), "name": "Nombre nuevo", "currency": "CLP",
        "timezone": "America/Santiago", "language": "es"}, headers={"X-Tenant-Id": str(b.id)},
        content_type="multipart/form-data")
    assert response.status_code == 303
    assert _snapshot(app, b.id) == before
    with app.app_context():
        assert db.session.get(Business, a.id).name == "Nombre nuevo"
    home = http.get(f"/?tenant_id={b.id}", headers={"X-Tenant-Id": str(b.id)}).get_data(as_text=True)
    assert "Nombre nuevo" in home and "Negocio B" not in home


def test_canary_crawl_finds_nothing_of_the_other_tenant(app, make, outbox, two_tenants):
    """TEN-3: B's distinctive strings appear 0 times in anything rendered for A."""
    a, a_owner, _b, _b_owner = two_tenants
    canary = "CANARY" + "".join(random.choice("QXZJ") for _ in range(8))
    b2 = make.business(f"{canary} negocio")
    b2_owner = make.user(b2, "owner", name=f"{canary} dueño", email=f"{canary.lower()}@example.com")
    make.invitation(b2, b2_owner, email=f"{canary.lower()}.inv@example.com", name=f"{canary} invitado")
    for factory in routes.registry(make).values():
        factory(app, b2, b2_owner)
    with app.app_context(), bound(b2.id):
        from pymes.clients.models import Client

        db.session.add(Client(name=f"{canary} cliente", company=canary, email=f"{canary.lower()}.c@example.com",
                              notes=canary))
        from pymes.audit.models import AuditEvent

        db.session.add(AuditEvent(action="login", actor_name=f"{canary} dueño", subject=f"{canary.lower()}@example.com",
                                  ip="10.9.9.9", device=canary))
        from pymes.whatsapp.models import WhatsappConnection

        db.session.add(WhatsappConnection(phone_number_id="106540352242922", business_account_id="102290129340398",
                                          token_sealed=f"v1:{canary}", verified_name=f"{canary} WhatsApp",
                                          display_phone_number=f"+56 9 {canary}", feedback_template=canary.lower()))
        db.session.commit()

    http = app.test_client()
    login(http, a_owner.email)
    # A's own e-mails, and content of A's own objects so the id routes have something to show.
    http.post("/team/invite", data={"csrf_token": csrf_token(http, "/team"), "email": "nuevo@example.com",
                                    "role": "seller"})
    a_ids = {arg: factory(app, a, a_owner) for arg, factory in routes.registry(make).items()}

    seen, queue, pages = set(), ["/"], 0
    for rule in routes.rules(app):
        if "GET" in rule.methods and not rule.arguments:
            queue.append(rule.rule)
        elif "GET" in rule.methods and rule in routes.id_rules(app):
            queue.append(routes.build(rule, a_ids))
    while queue and pages < 300:
        path = queue.pop(0)
        if path in seen or path.startswith("/static") or "logout" in path:
            continue
        seen.add(path)
        for headers in ({}, {"HX-Request": "true"}):
            response = http.get(path, headers=headers)
            data = response.get_data()
            pages += 1
            assert canary.lower().encode() not in data.lower(), f"{canary} leaked into {path}"
            if path.endswith(".xlsx"):  # zipped: read the sheet itself
                from openpyxl import load_workbook

                cells = [str(v) for row in load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(
                    values_only=True) for v in row]
                assert not any(canary in cell for cell in cells), f"{canary} leaked into {path}"
        if response.mimetype != "text/html":
            continue
        body = data.decode()
        for link in re.findall(r'(?:href|hx-get)="(/[^"#]*)"', body):
            if link not in seen:
                queue.append(link.replace("&amp;", "&"))
    assert pages > 20
    assert any(p.startswith("/clients/export.csv") for p in seen) and any(".xlsx" in p for p in seen)
    assert {"/settings/activity", "/settings/activity/export.csv"} <= seen  # the activity log and its export
    assert "/settings/whatsapp" in seen  # B's WhatsApp connection is not on A's page
    for message in outbox.messages():
        assert canary.lower() not in message.as_string().lower()


def _own_ids(app, tenant_id) -> dict:
    """Ids tenant A may legitimately reach, per route argument."""
    from pymes.accounts.models import Invitation, User
    from pymes.clients.models import Client, ClientSpecialist
    from pymes.feedback.models import FeedbackLink
    from pymes.sales.models import Sale
    from pymes.territories.models import Portfolio, Territory
    from pymes.visits.models import Activity

    models = {"link_id": FeedbackLink, "user_id": User, "invitation_id": Invitation, "client_id": Client, "sale_id": Sale,
              "activity_id": Activity, "specialist_id": ClientSpecialist, "territory_id": Territory,
              "portfolio_id": Portfolio}
    with app.app_context(), bound(tenant_id):
        return {arg: set(db.session.execute(select(model.id)).scalars()) for arg, model in models.items()}


def test_ten_thousand_random_ids_leak_nothing_and_never_fail(app, make, two_tenants):
    """TEN-4: random ids on every id route: only 404s (or A's own), never a 5xx."""
    a, a_owner, b, b_owner = two_tenants
    for factory in routes.registry(make).values():
        factory(app, b, b_owner)
    own = _own_ids(app, a.id)
    http = app.test_client()
    login(http, a_owner.email)
    token = csrf_token(http, "/")
    rnd = random.Random(2026)
    id_rules = routes.id_rules(app)
    statuses = {}
    for i in range(10_000):
        rule = id_rules[i % len(id_rules)]
        method = routes.methods(rule)[i % len(routes.methods(rule))]
        ids = {arg: rnd.choice([rnd.randint(1, 400), rnd.randint(1, 2**31 - 1), 2**31, 10**12])
               for arg in rule.arguments}
        response = http.open(routes.build(rule, ids), method=method, data={"csrf_token": token})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (rule.rule, ids, response.status_code)
        if not all(ids[arg] in own.get(arg, set()) for arg in rule.arguments):
            assert response.status_code == 404, (rule.rule, method, ids, response.status_code)
    assert statuses.get(404, 0) > 9000


# --- layer 3: the ORM safety net -------------------------------------------------------------

def test_orm_refuses_tenant_queries_with_no_tenant(app, make):
    from pymes.accounts.models import Invitation, User

    business = make.business()
    make.user(business)
    with app.app_context():
        with pytest.raises(TenantNotBound):
            db.session.execute(select(User)).all()
        with pytest.raises(TenantNotBound):
            db.session.execute(select(Invitation)).all()
        with identity_lookup():
            assert db.session.execute(select(User)).all()  # log-in may read users...
            with pytest.raises(TenantNotBound):
                db.session.execute(select(Invitation)).all()  # ...and nothing else


def test_orm_scopes_reads_updates_and_deletes(app, make):
    from sqlalchemy import delete, update

    from pymes.accounts.models import Invitation, User

    a, a_owner, _m, _s = make.team()
    b, b_owner, _bm, _bs = make.team()
    make.invitation(a, a_owner)
    make.invitation(b, b_owner)
    with app.app_context():
        with bound(a.id):
            assert {u.tenant_id for u in db.session.execute(select(User)).scalars()} == {a.id}
            db.session.execute(update(User).values(name="Cambiado"), execution_options={"synchronize_session": False})
            db.session.execute(delete(Invitation))
            db.session.commit()
        with bound(b.id):
            assert "Cambiado" not in {u.name for u in db.session.execute(select(User)).scalars()}
            assert len(db.session.execute(select(Invitation)).all()) == 1


def test_flush_guard_refuses_writes_into_another_tenant(app, make):
    from pymes.accounts.models import Invitation, User

    a, a_owner, _m, _s = make.team()
    b, b_owner, _bm, _bs = make.team()
    with app.app_context(), bound(a.id):
        db.session.add(Invitation(tenant_id=b.id, email="x@example.com", role="seller", invited_by_id=b_owner.id,
                                  expires_at=a.created_at))
        with pytest.raises(TenantMismatch):
            db.session.flush()
        db.session.rollback()
        user = db.session.get(User, a_owner.id)
        user.tenant_id = b.id
        with pytest.raises(TenantMismatch):
            db.session.flush()
        db.session.rollback()


def test_unscoped_is_an_explicit_escape_hatch(app, make):
    from pymes.accounts.models import User

    a, _o, _m, _s = make.team()
    b, _bo, _bm, _bs = make.team()
    with app.app_context(), unscoped():
        tenants = {u.tenant_id for u in db.session.execute(select(User)).scalars()}
        dialect = db.engine.dialect.name
    if dialect == "postgresql":
        assert tenants == set()  # row-level security still applies to the app's role
    else:
        assert {a.id, b.id} <= tenants


def test_counts_and_subqueries_are_scoped_too(app, make):
    """``select(func.count()).select_from(User)`` names no entity in its columns, and a
    subquery hides its entity from the top level: both must still count one tenant."""
    from sqlalchemy import func

    from pymes.accounts.models import User
    from pymes.clients.models import Client

    a, _o, _m, _s = make.team()
    b, b_owner, _bm, _bs = make.team()
    with app.app_context():
        with bound(b.id):
            db.session.add_all([Client(name=f"B{i}") for i in range(5)])
            db.session.commit()
        with bound(a.id):
            db.session.add(Client(name="A"))
            db.session.commit()
            assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 3
            inner = select(Client).where(Client.deleted_at.is_(None)).subquery()
            assert db.session.execute(select(func.count()).select_from(inner)).scalar_one() == 1
        with pytest.raises(TenantNotBound):
            db.session.execute(select(func.count()).select_from(Client)).scalar_one()
