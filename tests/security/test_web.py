"""WEB-1..3 and SES-2: CSRF everywhere, security headers, escaped output, no open redirects."""
import pytest

from pymes.extensions import db
from pymes.tenancy import bound

from ..factories import csrf_token, login
from . import routes

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def owner_client(app, make):
    from pymes.extensions import limiter

    limiter.enabled = False
    business, owner, _m, _s = make.team("Negocio Web")
    http = app.test_client()
    login(http, owner.email)
    ids = {arg: factory(app, business, owner) for arg, factory in routes.registry(make).items()}
    return http, ids, business


def test_every_state_changing_route_refuses_a_missing_csrf_token(app, owner_client):
    """WEB-1, generated from url_map: no token → 400 and nothing changes."""
    http, ids, business = owner_client
    checked = []
    for rule in routes.rules(app):
        for method in set(rule.methods) & STATE_CHANGING:
            values = dict(ids, token="x" * 43)
            path = routes.build(rule, {arg: values.get(arg, "x") for arg in rule.arguments})
            response = http.open(path, method=method, data={"name": "sin token", "email": "a@example.com"})
            # Meta's webhook has no CSRF token but a signature: without one it is a 403, nothing stored
            expected = 403 if rule.endpoint == "whatsapp_webhook.receive" else 400
            assert response.status_code == expected, (rule.rule, method, response.status_code)
            checked.append(rule.rule)
    assert len(checked) >= 20
    from pymes.clients.models import Client

    with app.app_context(), bound(business.id):
        assert not db.session.query(Client).filter(Client.name == "sin token").count()


def test_htmx_requests_pass_with_the_header_token(app, owner_client):
    http, _ids, _b = owner_client
    token = csrf_token(http, "/team")
    response = http.post("/team/invite", data={"email": "hx@example.com", "role": "seller"},
                         headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200
    assert "hx@example.com" in response.get_data(as_text=True)


def _check_headers(response, private: bool):
    csp = response.headers.get("Content-Security-Policy", "")
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp, (response.request.path, directive)
    assert "unsafe-eval" not in csp
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy")
    if private:
        assert response.headers.get("Cache-Control") == "no-store", response.request.path


def test_security_headers_everywhere(app, client, owner_client):
    for path in ("/", "/login", "/signup", "/nope", "/confirm/" + "x" * 43):
        _check_headers(client.get(path), private=path.startswith("/confirm"))
    http, ids, _b = owner_client
    for path in ("/", "/team", "/clients", f"/clients/{ids['client_id']}", "/agenda", "/settings/profile",
                 "/clients?q=a"):
        response = http.get(path, headers={"HX-Request": "true"} if "q=" in path else {})
        _check_headers(response, private=True)
    static = client.get("/static/css/app.css")
    assert static.headers.get("X-Content-Type-Options") == "nosniff"
    assert "Strict-Transport-Security" not in client.get("/login").headers
    app.config["HSTS"] = True
    assert "max-age=" in client.get("/login").headers.get("Strict-Transport-Security", "")


PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


@pytest.mark.parametrize("payload", PAYLOADS)
def test_typed_text_is_rendered_inert(app, make, outbox, payload):
    """WEB-3: business, user, invitation and client fields with markup come out escaped."""
    business = make.business(f"Tienda {payload}")
    owner = make.user(business, "owner", name=f"Ana {payload}")
    make.invitation(business, owner, name=f"Inv {payload}")

    cid = make.client(business, f"Cliente {payload}", company=payload, notes=payload, address=payload,
                      seller_id=owner.id).id
    http = app.test_client()
    login(http, owner.email)
    for path in ("/", "/team", "/clients", f"/clients/{cid}", f"/clients/{cid}/edit", "/settings/business"):
        html = http.get(path).get_data(as_text=True)
        assert payload not in html, path
        assert "&lt;script&gt;" in html or "&#34;&gt;&lt;img" in html or "&#34;&gt;" in html, path


OPEN_REDIRECTS = [
    "//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "http:evil.com", "javascript:alert(1)",
    "/%09/evil.com", "////evil.com", "https:/evil.com", "%2F%2Fevil.com", "/\t/evil.com", " //evil.com",
    "evil.com", "data:text/html,<script>alert(1)</script>",
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_next_never_leaves_the_site(app, make, target):
    from pymes.extensions import limiter

    limiter.enabled = False
    user = make.user(make.business())
    http = app.test_client()
    token = csrf_token(http)
    response = http.post("/login", data={"csrf_token": token, "email": user.email,
                                         "password": "correct horse battery staple", "next": target})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location in ("/", "http://localhost/"), (target, location)


def test_next_keeps_a_local_path(app, make):
    user = make.user(make.business())
    http = app.test_client()
    response = http.post("/login", data={"csrf_token": csrf_token(http), "email": user.email,
                                         "password": "correct horse battery staple", "next": "/team?x=1"})
    assert response.headers["Location"].endswith("/team?x=1")
