"""Invitations and the team page."""
from datetime import timedelta

from sqlalchemy import select, update

from pymes.accounts.models import Invitation, User
from pymes.db import utcnow
from pymes.extensions import db
from pymes.tenancy import bound, identity_lookup

from ..factories import csrf_token, login


def invite(client, email, role="seller", name="", htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/team/invite", data={"csrf_token": csrf_token(client, "/team"), "email": email,
                                             "role": role, "name": name}, headers=headers)


def accept(client, path, name="Nuevo Vendedor", password="clave de vendedor", language="es"):
    return client.post(path, data={"csrf_token": csrf_token(client, path), "name": name, "password": password,
                                   "language": language})


def test_owner_invites_a_seller_who_joins_the_same_business(app, client, make, outbox):
    business, owner, _m, _s = make.team("Ópticas Sur")
    login(client, owner.email)
    response = invite(client, "nuevo@example.com", htmx=True)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "nuevo@example.com" in fragment and 'hx-swap-oob="true"' in fragment and "<html" not in fragment

    link = outbox.link("nuevo@example.com", "/invitations/")
    assert "Ópticas Sur" in outbox.last("nuevo@example.com")["Subject"]
    invitee = app.test_client()
    path = link.removeprefix("http://fideliza.test")
    assert invitee.get(path).status_code == 200
    assert accept(invitee, path).status_code == 303
    home = invitee.get("/").get_data(as_text=True)
    assert "Ópticas Sur" in home and "Nuevo Vendedor" in home
    with app.app_context(), identity_lookup():
        user = db.session.execute(select(User).where(User.email == "nuevo@example.com")).scalar_one()
        assert user.tenant_id == business.id and user.role == "seller" and user.email_confirmed
    # The seller has no team page.
    assert invitee.get("/team").status_code == 403


def test_invitation_link_works_once(app, client, make, outbox):
    _b, owner, _m, _s = make.team()
    login(client, owner.email)
    invite(client, "uno@example.com")
    path = outbox.link("uno@example.com", "/invitations/").removeprefix("http://fideliza.test")
    accept(app.test_client(), path)
    again = app.test_client().get(path)
    assert again.status_code == 410


def test_wrong_or_expired_or_cancelled_invitation_explains_itself(app, client, make, outbox):
    business, owner, _m, _s = make.team()
    login(client, owner.email)
    assert app.test_client().get("/invitations/garbage").status_code == 404

    invite(client, "tarde@example.com")
    path = outbox.link("tarde@example.com", "/invitations/").removeprefix("http://fideliza.test")
    with app.app_context(), bound(business.id):
        db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    expired = app.test_client().get(path)
    assert expired.status_code == 410

    invite(client, "cancelada@example.com")
    path = outbox.link("cancelada@example.com", "/invitations/").removeprefix("http://fideliza.test")
    with app.app_context(), bound(business.id):
        invitation_id = db.session.execute(select(Invitation.id).where(Invitation.email == "cancelada@example.com")
                                           ).scalar_one()
    client.post(f"/team/invitations/{invitation_id}/revoke", data={"csrf_token": csrf_token(client, "/team")})
    assert app.test_client().get(path).status_code in (404, 410)


def test_resending_replaces_the_old_link(app, client, make, outbox):
    _b, owner, _m, _s = make.team()
    login(client, owner.email)
    invite(client, "dos@example.com")
    old = outbox.link("dos@example.com", "/invitations/").removeprefix("http://fideliza.test")
    invite(client, "dos@example.com", role="manager")
    new = outbox.link("dos@example.com", "/invitations/").removeprefix("http://fideliza.test")
    assert old != new
    assert app.test_client().get(old).status_code == 410
    joined = app.test_client()
    accept(joined, new)
    with app.app_context(), identity_lookup():
        assert db.session.execute(select(User.role).where(User.email == "dos@example.com")).scalar_one() == "manager"


def test_inviting_a_current_member_is_refused_beside_the_field(client, make):
    _b, owner, _m, seller = make.team()
    login(client, owner.email)
    response = invite(client, seller.email)
    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)


def test_an_email_with_an_account_elsewhere_cannot_accept(app, client, make, outbox):
    _b, owner, _m, _s = make.team()
    elsewhere = make.user(make.business(), email="ocupado@example.com")
    login(client, owner.email)
    invite(client, elsewhere.email)
    path = outbox.link(elsewhere.email, "/invitations/").removeprefix("http://fideliza.test")
    response = accept(app.test_client(), path)
    assert response.status_code == 422
    assert 'class="form-error"' in response.get_data(as_text=True)


def test_manager_cannot_make_owners_and_seller_cannot_invite(app, make):
    _b, _owner, manager, seller = make.team()
    manager_client = app.test_client()
    login(manager_client, manager.email)
    response = invite(manager_client, "jefe@example.com", role="owner")
    assert response.status_code == 422
    seller_client = app.test_client()
    login(seller_client, seller.email)
    assert invite(seller_client, "x@example.com").status_code == 403


def test_last_owner_cannot_be_demoted(client, make):
    _b, owner, manager, _s = make.team()
    other = make.user(_b, "owner")
    login(client, other.email)
    client.post(f"/team/members/{owner.id}/role", data={"csrf_token": csrf_token(client, "/team"), "role": "seller"})
    page = client.post(f"/team/members/{other.id}/role",
                       data={"csrf_token": csrf_token(client, "/team"), "role": "seller"})
    assert page.status_code == 200
    assert "flash-error" in page.get_data(as_text=True)
