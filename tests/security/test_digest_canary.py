"""TEN-3 for the daily digests: business B's distinctive strings appear 0 times in the
digest e-mails of business A (and B's own digest does carry them, so the check can bite)."""
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.tenancy import bound
from pymes.visits.digest import send_digests
from pymes.visits.models import Activity

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # noon in Santiago


def _contacts(app, business, seller, name, company):
    day = NOW.astimezone(ZoneInfo(business.timezone)).date()
    with app.app_context(), bound(business.id):
        for offset, purpose in ((0, "delivery"), (-2, "follow_up")):  # today and overdue
            c = Client(name=f"{name} {purpose}", company=company, seller_id=seller.id, address=f"{company} 123")
            db.session.add(c)
            db.session.flush()
            db.session.add(Activity(client_id=c.id, seller_id=seller.id, kind="visit", purpose=purpose,
                                    due_on=day + timedelta(days=offset), notes=f"{name} notes"))
        db.session.commit()


def test_a_digest_holds_nothing_of_another_business(app, make, outbox):
    canary = "CANARY" + "".join(random.choice("QXZJ") for _ in range(8))
    a, a_owner, a_manager, a_seller = make.team("Negocio A")
    b, b_owner, _bm, b_seller = make.team(f"{canary} negocio")
    for seller in (a_owner, a_manager, a_seller):
        _contacts(app, a, seller, f"Cliente A{seller.id}", "Muebles A")
    _contacts(app, b, b_seller, f"{canary} cliente", canary)
    _contacts(app, b, b_owner, f"{canary} dueño", canary)
    with app.app_context():
        sent = send_digests(now=NOW)
    digests = [m for m in outbox.messages() if m["X-Pymes-Template"] == "digest"]
    assert sent == len(digests) == 5
    a_emails = {a_owner.email, a_manager.email, a_seller.email}
    a_digests = [m for m in digests if m["To"] in a_emails]
    b_digests = [m for m in digests if m["To"] not in a_emails]
    assert {m["To"] for m in a_digests} == a_emails
    for message in a_digests:
        # Headers and every part decoded (a base64 body would hide the canary from as_string()).
        text = " ".join([str(value) for value in message.values()] + [
            part.get_content() for part in message.walk() if not part.is_multipart()])
        assert "Cliente A" in message.get_body().get_content()
        assert text.lower().count(canary.lower()) == 0, f"{canary} leaked into {message['To']}'s digest"
    assert b_digests and all(canary in m.get_body().get_content() for m in b_digests)
