"""Public links of a soft-deleted client (issue 20, finding 11; TOK-1, DATA-3): its
referral code answered a different 404 from an unknown code (telling that the code
existed), and its feedback links stayed live, where a detractor's answer got a 422
with no message. Now the code's 404 is the unknown code's, byte for byte, and the
feedback link shows the "link does not work" page; both come back with an undo."""
import re
import secrets

from sqlalchemy import func, select

from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.feedback.models import FeedbackResponse
from pymes.tenancy import bound

from ..factories import csrf_token, login


def _setup(app, make, monkeypatch):
    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)
    business, owner, _manager, seller = make.team("Bicicletería Andes")
    ana_id = make.client(business, "Ana Soto", seller_id=seller.id, email="ana@example.com").id
    http = app.test_client()
    login(http, owner.email)
    path = f"/clients/{ana_id}/referral-link"
    page = http.post(path, data={"csrf_token": csrf_token(http, path)}).get_data(as_text=True)
    code_path = re.search(r'value="([^"]+/r/[^"]+)"', page).group(1).removeprefix(app.config["BASE_URL"])
    made = http.post(f"/clients/{ana_id}/feedback-links", data={"csrf_token": csrf_token(http, f"/clients/{ana_id}"),
                                                                "send": "share"})
    link = re.search(r'value="([^"]+/f/[^"]+)"', made.get_data(as_text=True)).group(1)
    return business, http, ana_id, code_path, link.removeprefix(app.config["BASE_URL"])


def _delete(http, client_id):
    assert http.post(f"/clients/{client_id}/delete", data={"csrf_token": csrf_token(http, "/clients")}).status_code \
        in (200, 303)


def test_tok1_a_deleted_clients_code_answers_like_an_unknown_code(app, make, monkeypatch):
    _business, http, ana_id, code_path, _link = _setup(app, make, monkeypatch)
    visitor = app.test_client()
    assert visitor.get(code_path).status_code == 200
    _delete(http, ana_id)
    deleted = visitor.get(code_path)
    unknown = visitor.get("/r/" + secrets.token_urlsafe(24)[:len(code_path) - 3])
    assert deleted.status_code == unknown.status_code == 404
    assert deleted.get_data() == unknown.get_data()
    posted = visitor.post(code_path, data={"csrf_token": csrf_token(visitor), "name": "Pablo",
                                           "contact": "pablo@example.com", "consent": "1"})
    assert posted.status_code == 404 and posted.get_data() == unknown.get_data()


def test_a_deleted_clients_feedback_link_is_dead_with_a_message_and_back_on_undo(app, make, monkeypatch):
    business, http, ana_id, _code, link = _setup(app, make, monkeypatch)
    customer = app.test_client()
    page = customer.get(link).get_data(as_text=True)
    fields = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
              "stamp": re.search(r'name="stamp" value="([^"]+)"', page).group(1)}
    _delete(http, ana_id)
    gone = customer.get(link)
    assert gone.status_code == 404 and "Este enlace no funciona" in gone.get_data(as_text=True)
    answered = customer.post(link, data={**fields, "score": "2", "comment": "Mal"})
    assert answered.status_code == 404 and "Este enlace no funciona" in answered.get_data(as_text=True)
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(func.count()).select_from(FeedbackResponse)).scalar_one() == 0
    http.post(f"/clients/{ana_id}/restore", data={"csrf_token": csrf_token(http, "/clients")})
    assert customer.get(link).status_code == 200
