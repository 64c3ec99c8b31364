"""Settings → WhatsApp: connecting the business's number (issue 23, point 1)."""
from sqlalchemy import select, text

from pymes.extensions import db
from pymes.tenancy import bound
from pymes.whatsapp import services
from pymes.whatsapp.models import WhatsappConnection

from ..factories import csrf_token, login
from .conftest import PHONE_ID, TOKEN, WABA_ID


def _connect(http, token=TOKEN, phone=PHONE_ID):
    return http.post("/settings/whatsapp", data={
        "csrf_token": csrf_token(http, "/settings/whatsapp"), "phone_number_id": phone,
        "business_account_id": WABA_ID, "access_token": token})


def _rows(app, business_id):
    with app.app_context(), bound(business_id):
        return db.session.execute(select(WhatsappConnection)).scalars().all()


def test_owner_connects_and_sees_the_number_meta_verified(app, make, graph):
    business = make.business()
    owner = make.user(business, "owner")
    http = app.test_client()
    login(http, owner.email)
    assert "WhatsApp" in http.get("/settings/business").get_data(as_text=True)
    page = http.get("/settings/whatsapp").get_data(as_text=True)
    assert "wa.me" not in page and "Opcional" in page  # Spanish first: the business is Chilean
    response = _connect(http)
    assert response.status_code == 303
    page = http.get("/settings/whatsapp").get_data(as_text=True)
    assert "+56 9 8765 4321" in page and "Ferretería Sur" in page
    (row,) = _rows(app, business.id)
    assert (row.phone_number_id, row.business_account_id, row.connected_by_id) == (PHONE_ID, WABA_ID, owner.id)
    assert graph.requests[-1]["authorization"] == f"Bearer {TOKEN}"
    with app.app_context(), bound(business.id):
        assert services.token(services.connection()) == TOKEN


def test_the_token_is_stored_sealed_never_in_clear(app, make, graph):
    """TOK-1: the database row (and so a backup or an export) does not hold the token."""
    business = make.business()
    owner = make.user(business, "owner")
    http = app.test_client()
    login(http, owner.email)
    _connect(http)
    with app.app_context(), bound(business.id):  # row-level security: the row is read as its business
        raw = db.session.execute(text("SELECT * FROM whatsapp_connections")).one()
    assert not any(TOKEN in str(value) for value in raw)
    assert not any(TOKEN[8:30] in str(value) for value in raw)
    assert TOKEN not in http.get("/settings/whatsapp").get_data(as_text=True)  # never shown again


def test_a_wrong_token_gets_a_clear_message_and_stores_nothing(app, make, graph):
    business = make.business()
    owner = make.user(business, "owner")
    http = app.test_client()
    login(http, owner.email)
    response = _connect(http, token="EAAGrevokedToken000000000000")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Meta no aceptó el token de acceso" in body
    assert PHONE_ID in body and "EAAGrevokedToken" not in body  # the ids typed are kept, the token is not echoed
    assert _rows(app, business.id) == []


def test_a_wrong_phone_number_id_is_named_on_its_field(app, make, graph):
    business = make.business()
    owner = make.user(business, "owner")
    http = app.test_client()
    login(http, owner.email)
    response = _connect(http, phone="123456789")
    assert response.status_code == 422
    assert "identificador" in response.get_data(as_text=True)
    assert _rows(app, business.id) == []


def test_meta_down_stores_nothing_and_says_try_again(app, make, graph):
    business = make.business()
    owner = make.user(business, "owner")
    http = app.test_client()
    login(http, owner.email)
    graph.script = [(503, {"error": {"message": "down", "code": 2}})] * 3
    response = _connect(http)
    assert response.status_code == 422 and "no respondió" in response.get_data(as_text=True)
    assert _rows(app, business.id) == []


def test_bad_ids_never_reach_meta(app, make, graph):
    business = make.business()
    owner = make.user(business, "owner")
    http = app.test_client()
    login(http, owner.email)
    response = _connect(http, phone="+56 9 8765 4321")
    assert response.status_code == 422 and graph.requests == []


def test_only_owners_reach_the_page(app, make, graph):
    business, owner, manager, seller = make.team()
    for user in (manager, seller):
        http = app.test_client()
        login(http, user.email)
        assert http.get("/settings/whatsapp").status_code == 403
        assert http.post("/settings/whatsapp", data={"phone_number_id": PHONE_ID}).status_code in (400, 403)
        assert http.post("/settings/whatsapp/disconnect").status_code in (400, 403)
    assert graph.requests == [] and _rows(app, business.id) == []


def test_another_business_neither_sees_nor_changes_the_connection(app, make, graph):
    """TEN-1/TEN-2: B's connection is invisible to A, and A disconnecting touches only A."""
    a, b = make.business("Negocio A"), make.business("Negocio B")
    a_owner, b_owner = make.user(a, "owner"), make.user(b, "owner")
    http_b = app.test_client()
    login(http_b, b_owner.email)
    _connect(http_b)
    http_a = app.test_client()
    login(http_a, a_owner.email)
    page = http_a.get("/settings/whatsapp").get_data(as_text=True)
    assert "Ferretería Sur" not in page and PHONE_ID not in page and 'data-testid="whatsapp-disconnect"' not in page
    token = csrf_token(http_a, "/settings/whatsapp")
    assert http_a.post("/settings/whatsapp/disconnect", data={"csrf_token": token}).status_code == 303
    assert http_a.post("/settings/whatsapp/template", data={
        "csrf_token": token, "feedback_template": "x", "template_language": "es"}).status_code == 303
    (row,) = _rows(app, b.id)
    assert row.feedback_template == "" and _rows(app, a.id) == []


def test_disconnecting_deletes_the_token(app, make, graph):
    business = make.business()
    owner = make.user(business, "owner")
    http = app.test_client()
    login(http, owner.email)
    _connect(http)
    response = http.post("/settings/whatsapp/disconnect", data={"csrf_token": csrf_token(http, "/settings/whatsapp")})
    assert response.status_code == 303
    assert _rows(app, business.id) == []
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM whatsapp_connections")).scalar() == 0
    page = http.get("/settings/whatsapp").get_data(as_text=True)
    assert "Ferretería Sur" not in page and 'data-testid="whatsapp-connect"' in page
    activity = http.get("/settings/activity").get_data(as_text=True)
    assert "WhatsApp conectado" in activity and "WhatsApp desconectado" in activity  # the owner's activity log


def test_template_name_and_language_are_saved_and_checked(app, make, graph):
    business = make.business()
    owner = make.user(business, "owner")
    http = app.test_client()
    login(http, owner.email)
    _connect(http)
    token = csrf_token(http, "/settings/whatsapp")
    bad = http.post("/settings/whatsapp/template", data={"csrf_token": token, "feedback_template": "Pedido Opinión",
                                                          "template_language": "es"})
    assert bad.status_code == 422
    missing = http.post("/settings/whatsapp/template", data={"csrf_token": token,
                                                              "feedback_template": "pedido_opinion"})
    assert missing.status_code == 422
    ok = http.post("/settings/whatsapp/template", data={"csrf_token": token, "feedback_template": "pedido_opinion",
                                                         "template_language": "es_CL"})
    assert ok.status_code == 303
    (row,) = _rows(app, business.id)
    assert (row.feedback_template, row.template_language) == ("pedido_opinion", "es_CL")


def test_connection_attempts_are_limited_per_business(app, make, graph):
    """Each attempt is a call to Meta: ten in ten minutes, then a 429 that calls no one."""
    business = make.business()
    owner = make.user(business, "owner")
    http = app.test_client()
    login(http, owner.email)
    for _ in range(10):
        assert _connect(http, token="EAAGwrongToken0000000000000").status_code == 422
    assert _connect(http).status_code == 429
    assert len(graph.requests) == 10 and _rows(app, business.id) == []
