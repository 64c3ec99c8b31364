"""Business and profile settings."""
from pymes.accounts.models import Business
from pymes.extensions import db

from ..factories import csrf_token, login

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


def save_business(client, **changes):
    data = {"csrf_token": csrf_token(client, "/settings/business"), "name": "Nuevo Nombre", "currency": "USD",
            "timezone": "America/Santiago", "language": "en"}
    data.update(changes)
    return client.post("/settings/business", data=data, content_type="multipart/form-data")


def test_owner_changes_business_settings_and_logo(app, client, make):
    business, owner, _m, _s = make.team()
    login(client, owner.email)
    import io

    response = save_business(client, logo=(io.BytesIO(PNG), "logo.png"))
    assert response.status_code == 303
    with app.app_context():
        saved = db.session.get(Business, business.id)
        assert (saved.name, saved.currency, saved.language, saved.logo_mime) == ("Nuevo Nombre", "USD", "en", "image/png")
    logo = client.get("/settings/business/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png" and logo.data == PNG


def test_a_script_disguised_as_a_logo_is_refused(client, make):
    import io

    _b, owner, _m, _s = make.team()
    login(client, owner.email)
    response = save_business(client, name="Se queda", logo=(io.BytesIO(b"<svg onload=alert(1)>"), "logo.png"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="logo-error"' in html and 'value="Se queda"' in html


def test_only_owners_reach_business_settings(app, make):
    _b, _o, manager, seller = make.team()
    for user in (manager, seller):
        c = app.test_client()
        login(c, user.email)
        assert c.get("/settings/business").status_code == 403


def test_profile_language_switches_the_interface(client, make):
    _b, owner, _m, _s = make.team()
    login(client, owner.email)
    response = client.post("/settings/profile", data={"csrf_token": csrf_token(client, "/settings/profile"),
                                                       "profile-name": "Ana María", "profile-language": "en"})
    assert response.status_code == 303
    page = client.get("/", headers={"Accept-Language": "es"})
    assert '<html lang="en">' in page.get_data(as_text=True)
    assert "Ana María" in page.get_data(as_text=True)


def test_money_is_formatted_for_the_business_locale(app, make):
    from flask import g

    from pymes.i18n import money

    clp = make.business(currency="CLP", country="CL", language="es")
    eur = make.business(currency="EUR", country="ES", language="es")
    with app.test_request_context():
        g.business = clp
        assert money(1234567) == "$1.234.567"
        g.business = eur
        assert money(123456).replace("\xa0", " ") == "1.234,56 €"
