"""Numbers stored also as shown in the business's country (issue 24, point 5): whoever
writes a number (the client form, the import, a referral), the shown form follows it,
and the exports print it without formatting each number again."""
from sqlalchemy import select

from pymes.clients import export
from pymes.clients.models import Client
from pymes.clients.services import save_client
from pymes.extensions import db
from pymes.referrals import routes as referral_routes
from pymes.referrals.models import Referral
from pymes.referrals.services import Friend, add_referral
from pymes.tenancy import bound

from ..factories import login


def test_the_shown_number_follows_every_change_of_the_number(app, make):
    business = make.business("Ferretería Ñuble")  # Chile
    with app.app_context(), bound(business.id):
        rosa = save_client(None, {"name": "Rosa Díaz", "phone": "9 8765 4321", "whatsapp": "+34 612 34 56 78"}, "CL")
        assert (rosa.phone, rosa.phone_shown) == ("+56987654321", "9 8765 4321")
        assert rosa.whatsapp_shown == "+34 612 34 56 78"  # a Spanish mobile, written internationally here
        save_client(rosa, {"name": "Rosa Díaz", "phone": "+56 2 2345 6789", "whatsapp": ""}, "CL")
        db.session.refresh(rosa)
        assert (rosa.phone_shown, rosa.whatsapp_shown) == ("(2) 2345 6789", None)
        rosa.phone = None  # a write that does not go through the form
        db.session.commit()
        assert db.session.execute(select(Client.phone_shown)).scalar_one() is None


def test_a_referral_s_number_is_stored_as_shown(app, make):
    business = make.business("Ferretería Ñuble", country="ES", currency="EUR", timezone="Europe/Madrid")
    with app.app_context(), bound(business.id):
        ana = Client(name="Ana")
        db.session.add(ana)
        db.session.commit()
        add_referral(ana, Friend(name="Bea", contact="612345678", phone="+34612345678"), source="manual",
                     friend_consent=True)
        db.session.commit()
        referral = db.session.execute(select(Referral)).scalar_one()
        prospect = db.session.get(Client, referral.prospect_id)
        assert referral.phone_shown == prospect.phone_shown == "612 34 56 78"


def test_the_exports_print_the_stored_form_without_formatting_again(app, make, monkeypatch):
    business = make.business("Ferretería Ñuble")
    owner = make.user(business)
    with app.app_context(), bound(business.id):
        ana = save_client(None, {"name": "Ana", "phone": "+56 9 6123 4567"}, "CL")
        add_referral(ana, Friend(name="Bea", contact="9 5555 1234", phone="+56955551234"), source="manual",
                     friend_consent=True)
        db.session.commit()

    def no_formatting(*_args):
        raise AssertionError("formatted again")

    monkeypatch.setattr(export, "national", no_formatting)
    monkeypatch.setattr("pymes.clients.services.national", no_formatting)
    http = app.test_client()
    login(http, owner.email)
    clients_csv = http.get("/clients/export.csv").get_data(as_text=True)
    assert "9 6123 4567" in clients_csv and "9 5555 1234" in clients_csv
    referrals_csv = http.get("/referrals/export.csv").get_data(as_text=True)
    assert "9 5555 1234" in referrals_csv
    assert referral_routes  # the referral export reads Referral.phone_shown
