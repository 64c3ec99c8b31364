"""What a new password may not be (issue 20, finding 15): ``aaaaaaaaaaaa`` was accepted.
Now, beside the 12-character minimum: not one of the 10,000 most common passwords (the
list bundled in zxcvbn), not made of the e-mail or the business name, not trivially
guessable. Checked wherever a password is chosen: sign-up, reset, invitation, change."""
import pytest

from pymes.accounts import passwords

from ..factories import PASSWORD, csrf_token, login
from .test_invitations import accept, invite
from .test_reset import ask_reset


def _signup(client, password, email="ana@example.com", business="Ferretería El Roble"):
    return client.post("/signup", data={
        "csrf_token": csrf_token(client, "/signup"), "business_name": business, "name": "Ana Soto",
        "email": email, "password": password, "country": "CL", "currency": "CLP",
        "timezone": "America/Santiago", "language": "es"})


def _error(response) -> str:
    html = response.get_data(as_text=True)
    return html[html.index('id="password-error"'):][:400] if 'id="password-error"' in html else ""


@pytest.mark.parametrize("password", [
    "aaaaaaaaaaaa",                 # the review's
    "123456789012", "qwertyuiopas", "abcabcabcabc", "passwordpassword",
    "1qaz2wsx3edc",                 # in the common list, 12 characters
    "ana@example.com", "anaexample2024", "Ferretería El Roble", "ferreteriaelroble!", "elroble ferreteria 1",
])
def test_weak_passwords_are_refused_at_sign_up_with_a_message(client, password, outbox):
    response = _signup(client, password)
    assert response.status_code == 422
    assert _error(response)
    assert 'value="Ferretería El Roble"' in response.get_data(as_text=True)  # nothing else lost (DATA-1)
    assert outbox.messages() == []


@pytest.mark.parametrize("password", [PASSWORD, "mi perro se llama Toby", "el roble de la esquina 77"])
def test_a_sentence_of_ones_own_is_accepted(client, password, outbox):
    assert _signup(client, password).status_code == 303


def test_the_common_list_is_the_10000_most_common():
    common = passwords.common_passwords()
    assert len(common) == 10_000
    assert {"123456", "password", "qwerty", "1qaz2wsx3edc"} <= common


def test_reset_refuses_a_password_made_of_the_users_email(client, make, outbox):
    business = make.business("Óptica Vista Clara")
    user = make.user(business, email="rosa.diaz@vistaclara.example")
    ask_reset(client, user.email)
    path = outbox.link(user.email, "/password/reset/").removeprefix("http://fideliza.test")
    for weak in ("rosa.diaz@vistaclara", "opticavistaclara2025", "aaaaaaaaaaaa"):
        response = client.post(path, data={"csrf_token": csrf_token(client, path), "password": weak,
                                           "confirm": weak})
        assert response.status_code == 422, weak
    assert login(client, user.email).status_code == 303  # the old password still works


def test_password_change_and_invitation_refuse_weak_ones(app, make, outbox):
    business = make.business("Muebles Sur")
    owner = make.user(business)
    http = app.test_client()
    login(http, owner.email)
    changed = http.post("/settings/password", data={
        "csrf_token": csrf_token(http, "/settings/profile"), "password-current_password": PASSWORD,
        "password-password": "mueblessur123"})
    assert changed.status_code == 422
    invite(http, "nuevo@example.com")
    path = outbox.link("nuevo@example.com", "/invitations/").removeprefix("http://fideliza.test")
    guest = app.test_client()
    for weak in ("aaaaaaaaaaaa", "nuevo@example.com", "muebles sur 2024"):
        assert accept(guest, path, password=weak).status_code == 422, weak
    assert accept(guest, path, password="clave de vendedor").status_code == 303
