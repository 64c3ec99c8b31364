"""Issue 5's audit gaps: messages in the client's language, links from a sale or a visit,
the sent links with Revoke, the link's lifetime, the callback's channel and window, the
public POST limit, tokens kept out of logs, and the inbox by portfolio and period."""
import importlib.util
import io
import logging
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from pymes.clients.models import Client
from pymes.complaints.models import Complaint
from pymes.extensions import db
from pymes.feedback import services
from pymes.feedback.models import FeedbackLink, FeedbackResponse
from pymes.sales.models import Sale
from pymes.tenancy import bound
from pymes.visits.models import Activity

from ..factories import csrf_token, login

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop(app, make):
    business = make.business("Padaria Boa Vista", language="en", country="US", currency="USD",
                             timezone="America/New_York")
    owner = make.user(business, "owner", language="en")
    seller = make.user(business, "seller", name="Sergio Vendedor")
    cid = make.client(business, "Ana Souza", email="ana@example.com", whatsapp="+56987654321", seller_id=seller.id).id
    return business, owner, seller, cid


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(services, "MIN_FILL_SECONDS", 0)


def set_language(app, business, cid, language):
    with app.app_context(), bound(business.id):
        db.session.get(Client, cid).language = language
        db.session.commit()


def send(app, user, cid, **data):
    http = app.test_client()
    login(http, user.email)
    return http, http.post(f"/clients/{cid}/feedback-links",
                           data={"csrf_token": csrf_token(http, f"/clients/{cid}"), "send": "share", **data})


def whatsapp_text(page) -> str:
    from urllib.parse import unquote

    return unquote(re.search(r'href="https://wa.me/\d+\?text=([^"]+)"', page.get_data(as_text=True)).group(1))


def link_path(app, page) -> str:
    return re.search(r'value="[^"]+(/f/[^"]+)"', page.get_data(as_text=True)).group(1)


# --- the client's language ------------------------------------------------------------

def test_messages_follow_the_client_s_language_else_the_business_s(app, shop, outbox):
    business, owner, _seller, cid = shop
    _http, page = send(app, owner, cid)
    assert whatsapp_text(page).startswith("Hello Ana, thank you for choosing Padaria Boa Vista.")  # business: en
    set_language(app, business, cid, "es")
    _http, page = send(app, owner, cid)
    assert whatsapp_text(page).startswith("Hola Ana, gracias por elegir Padaria Boa Vista. ¿Cómo lo hicimos?")
    send(app, owner, cid, send="email")
    message = outbox.last("ana@example.com")
    assert message["Subject"] == "¿Cómo lo hicimos, Ana?"
    assert "Gracias por elegir Padaria Boa Vista" in message.get_body().get_content()


def test_a_portuguese_client_gets_portuguese_whatsapp_and_email(app, shop, outbox):
    business, owner, _seller, cid = shop
    set_language(app, business, cid, "pt")
    _http, page = send(app, owner, cid)
    assert whatsapp_text(page).startswith("Olá Ana, obrigado por escolher Padaria Boa Vista.")
    send(app, owner, cid, send="email")
    message = outbox.last("ana@example.com")
    assert message["Subject"] == "Como nos saímos, Ana?"
    assert "Obrigado por escolher Padaria Boa Vista" in message.get_body().get_content()


def test_the_public_page_defaults_to_the_client_s_language(app, shop):
    business, owner, _seller, cid = shop
    set_language(app, business, cid, "pt")
    _http, page = send(app, owner, cid)
    path = link_path(app, page)
    customer = app.test_client()
    silent = customer.get(path, headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True)
    assert '<html lang="pt">' in silent and "Olá Ana, como nos saímos?" in silent
    russian = customer.get(path, headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<html lang="ru">' in russian  # the browser still wins when it speaks one of ours
    set_language(app, business, cid, None)
    assert '<html lang="en">' in customer.get(path, headers={"Accept-Language": "de"}).get_data(as_text=True)


def test_the_client_form_keeps_the_language(app, shop):
    business, owner, seller, cid = shop
    http = app.test_client()
    login(http, owner.email)
    form = http.get(f"/clients/{cid}/edit").get_data(as_text=True)
    assert 'name="language"' in form and "Português" in form and "Русский" in form
    data = {"csrf_token": csrf_token(http, f"/clients/{cid}/edit"), "name": "Ana Souza", "kind": "client",
            "email": "ana@example.com", "seller_id": str(seller.id), "language": "ru"}
    assert http.post(f"/clients/{cid}/edit", data=data).status_code == 303
    with app.app_context(), bound(business.id):
        assert db.session.get(Client, cid).language == "ru"
    refused = http.post(f"/clients/{cid}/edit", data={**data, "language": "xx"})
    assert refused.status_code == 422
    assert http.post(f"/clients/{cid}/edit", data={**data, "language": ""}).status_code == 303
    with app.app_context(), bound(business.id):
        assert db.session.get(Client, cid).language is None


# --- links from a sale or a visit, the list and Revoke --------------------------------------

def test_a_link_from_a_sale_or_a_visit_names_the_sale(app, shop, make, quick):
    business, owner, seller, cid = shop
    with app.app_context(), bound(business.id):
        other = Client(name="Otra Persona")
        db.session.add(other)
        db.session.flush()
        sale = Sale(client_id=cid, seller_id=seller.id, sold_on=date(2026, 11, 2), description="Pan", amount=10)
        foreign = Sale(client_id=other.id, seller_id=seller.id, sold_on=date(2026, 11, 2), description="X", amount=1)
        db.session.add_all([sale, foreign])
        db.session.flush()
        visit = Activity(client_id=cid, seller_id=seller.id, kind="visit", purpose="delivery", sale_id=sale.id,
                         due_on=date(2026, 11, 3), status="done")
        foreign_visit = Activity(client_id=other.id, seller_id=seller.id, kind="visit", purpose="delivery",
                                 due_on=date(2026, 11, 3), status="done")
        db.session.add_all([visit, foreign_visit])
        db.session.commit()
        ids = sale.id, foreign.id, visit.id, foreign_visit.id
    sale_id, foreign_id, visit_id, foreign_visit_id = ids
    http = app.test_client()
    login(http, seller.email)
    page = http.get(f"/clients/{cid}").get_data(as_text=True)
    assert f'name="sale_id" value="{sale_id}"' in page and f'name="activity_id" value="{visit_id}"' in page
    _http, made = send(app, seller, cid, sale_id=str(sale_id))
    assert made.status_code == 200
    assert send(app, seller, cid, sale_id=str(foreign_id))[1].status_code == 404
    assert send(app, seller, cid, activity_id=str(foreign_visit_id))[1].status_code == 404
    assert send(app, seller, cid, sale_id="abc")[1].status_code == 404
    other_business = make.business()
    make.user(other_business)  # a team there too
    with app.app_context(), bound(other_business.id):
        c = Client(name="Ajeno")
        db.session.add(c)
        db.session.flush()
        s = Sale(client_id=c.id, sold_on=date(2026, 1, 1), description="x", amount=1)
        db.session.add(s)
        db.session.commit()
        stranger_sale = s.id
    assert send(app, seller, cid, sale_id=str(stranger_sale))[1].status_code == 404
    _http, from_visit = send(app, seller, cid, activity_id=str(visit_id))
    with app.app_context(), bound(business.id):
        links = db.session.execute(select(FeedbackLink).order_by(FeedbackLink.id)).scalars().all()
    assert [link.sale_id for link in links] == [sale_id, sale_id]  # the refused ones made nothing
    # a detractor's answer to the sale's link opens a complaint about that sale
    customer = app.test_client()
    path = link_path(app, made)
    form = customer.get(path).get_data(as_text=True)
    customer.post(path, data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
                              "stamp": re.search(r'name="stamp" value="([^"]+)"', form).group(1), "score": "2"})
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(Complaint.sale_id)).scalar_one() == sale_id


def test_the_client_page_lists_sent_links_and_revokes_one_by_htmx(app, shop, quick):
    business, owner, seller, cid = shop
    paths = [link_path(app, send(app, seller, cid)[1]) for _ in range(4)]
    customer = app.test_client()
    form = customer.get(paths[1]).get_data(as_text=True)
    customer.post(paths[1], data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
                                  "stamp": re.search(r'name="stamp" value="([^"]+)"', form).group(1), "score": "9"})
    with app.app_context(), bound(business.id):
        ids = db.session.execute(select(FeedbackLink.id).order_by(FeedbackLink.id)).scalars().all()
        db.session.execute(update(FeedbackLink).where(FeedbackLink.id == ids[2])
                           .values(expires_at=datetime(2026, 1, 5, tzinfo=ZoneInfo("UTC"))))
        db.session.commit()
    http = app.test_client()
    login(http, seller.email)
    assert f'hx-get="/clients/{cid}/feedback-links"' in http.get(f"/clients/{cid}").get_data(as_text=True)
    fragment = http.get(f"/clients/{cid}/feedback-links", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment
    assert re.findall(r'data-status="(\w+)"', fragment) == ["active", "expired", "answered", "active"]
    assert fragment.count('data-testid="revoke-link"') == 3  # not on the expired one
    token = csrf_token(http, f"/clients/{cid}")
    revoked = http.post(f"/clients/{cid}/feedback-links/{ids[0]}/revoke",
                        headers={"HX-Request": "true", "X-CSRFToken": token})
    assert revoked.status_code == 200 and "<html" not in revoked.get_data(as_text=True)
    assert re.findall(r'data-status="(\w+)"', revoked.get_data(as_text=True))[-1] == "revoked"
    assert customer.get(paths[0]).status_code == 404
    assert customer.get(paths[3]).status_code == 200
    assert http.post(f"/clients/{cid}/feedback-links/{ids[3]}/revoke").status_code == 400  # no CSRF token


def test_the_created_page_says_the_business_s_link_lifetime(app, shop):
    business, owner, _seller, cid = shop
    with app.app_context(), bound(business.id):
        services.save_settings(7, 0)
    _http, page = send(app, owner, cid)
    assert re.search(r'data-testid="link-lifetime">[^<]*It works for 7 days\.', page.get_data(as_text=True))


# --- the callback's channel and window ------------------------------------------------------

@pytest.mark.parametrize("hour, window, today", [
    (8, "morning", True), (12, "morning", False), (13, "afternoon", True), (20, "evening", True),
    (21, "evening", False), (23, "any", True), (23, None, True)])
def test_a_callback_is_due_in_the_next_matching_window(hour, window, today):
    now = datetime(2026, 12, 1, hour, 30, tzinfo=ZoneInfo("America/Santiago"))
    assert services.callback_due(window, now) == (date(2026, 12, 1) if today else date(2026, 12, 2))


@pytest.mark.parametrize("channel, kind, label", [("phone", "call", "Llamada"), ("visit", "visit", "Visita"),
                                                   ("whatsapp", "call", "WhatsApp")])
def test_the_callback_carries_the_channel_and_lands_on_the_window_s_day(app, make, monkeypatch, quick, channel,
                                                                       kind, label):
    business = make.business("Óptica Vista Clara")  # Spanish business, Russian customer
    seller = make.user(business, "seller")
    c = make.client(business, "Olga Petrova", seller_id=seller.id, language="ru", phone="+56987654321",
                    address="Los Leones 123, Providencia")  # nothing to ask: the business can use every channel
    secret = make.feedback_link(business, c).secret
    local_day = date(2026, 12, 1)
    monkeypatch.setattr(services, "local_now", lambda b: datetime(2026, 12, 1, 16, 0, tzinfo=ZoneInfo(b.timezone)))
    customer = app.test_client()
    form = customer.get(f"/f/{secret}").get_data(as_text=True)
    assert '<html lang="ru">' in form
    customer.post(f"/f/{secret}", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
                                        "stamp": re.search(r'name="stamp" value="([^"]+)"', form).group(1),
                                        "score": "8", "callback": "1", "callback_channel": channel,
                                        "callback_window": "morning"})
    with app.app_context(), bound(business.id):
        call = db.session.execute(select(Activity)).scalar_one()
    assert (call.kind, call.purpose, call.seller_id) == (kind, "callback", seller.id)
    assert call.due_on == local_day + timedelta(days=1)  # 16:00: this morning is gone, tomorrow morning
    assert label in call.notes and "Mañana (9–12)" in call.notes  # written for the seller, in Spanish


# --- abuse and logs -------------------------------------------------------------------------

def test_the_eleventh_public_post_in_a_minute_is_refused(app, make, shop):
    business, _owner, _seller, cid = shop
    secret = make.feedback_link(business, cid).secret
    visitor = app.test_client()
    form = visitor.get(f"/f/{secret}").get_data(as_text=True)
    data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1), "stamp": "x", "score": "5"}
    codes = [visitor.post(f"/f/{secret}", data=data).status_code for _ in range(11)]
    assert codes[:10] == [200] * 10  # dropped silently as bots (bad stamp): nothing saved
    assert codes[10] == 429
    refused = visitor.post(f"/f/{secret}", data=data)
    assert refused.status_code == 429 and "<html" in refused.get_data(as_text=True)
    with app.app_context(), bound(business.id):
        assert db.session.execute(select(FeedbackResponse)).first() is None


def test_tokens_never_reach_the_access_log():
    from gunicorn.config import Config

    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", conf.access_log_format)
    logger = conf.RedactingLogger(cfg)
    written = io.StringIO()
    logger.access_log.handlers = [logging.StreamHandler(written)]
    secret = "Zq3kX9_vT2-pLm8RwYc4HbN6sJd0FgAe1UiOo7Ky5Ex"
    path = f"/f/{secret}"
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": f"{path}?lang=pt", "PATH_INFO": path, "QUERY_STRING": "lang=pt",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.9"}
    resp = SimpleNamespace(status="200 OK", response_length=512, headers=[], sent=512)
    req = SimpleNamespace(headers=[], method="POST", path=path, query="lang=pt", uri=f"{path}?lang=pt",
                          version=(1, 1))
    logger.access(resp, req, environ, timedelta(milliseconds=12))
    line = written.getvalue()
    assert '"POST /f/[redacted]" 200' in line and secret not in line and secret[:20] not in line


# --- the inbox by portfolio and by period --------------------------------------------------

def test_the_inbox_figures_by_portfolio_and_by_period(app, shop):
    from pymes.territories.models import Portfolio

    business, owner, seller, cid = shop
    with app.app_context(), bound(business.id):
        north, south = Portfolio(name="Cartera Norte"), Portfolio(name="Cartera Sur")
        db.session.add_all([north, south])
        db.session.flush()
        db.session.get(Client, cid).portfolio_id = north.id
        other = Client(name="Bruno Lima", seller_id=seller.id, portfolio_id=south.id)
        db.session.add(other)
        db.session.commit()
        north_id, south_id, other_id = north.id, south.id, other.id
        # north: 10 and 6 now, a 9 two hundred days ago; south: 3 now, one more link e-mailed and
        # unanswered, and one shown to the seller and never sent (not among the links sent)
        services.create_link(db.session.get(Client, other_id), None, sent_by="share")
        for client_id, score, days_ago in ((cid, 10, 1), (cid, 6, 2), (cid, 9, 200), (other_id, 3, 5),
                                           (other_id, None, 3)):
            services.create_link(db.session.get(Client, client_id), None, sent_by="email")
            link = db.session.execute(select(FeedbackLink).order_by(FeedbackLink.id.desc())).scalars().first()
            when = datetime.now(ZoneInfo("UTC")) - timedelta(days=days_ago)
            link.created_at = when
            if score is not None:
                db.session.add(FeedbackResponse(link_id=link.id, client_id=client_id, score=score, created_at=when))
            db.session.commit()
    http = app.test_client()
    login(http, owner.email)

    def row(html, name):
        table = html.split('data-testid="by-portfolio"')[1].split("</table>")[0]
        found = re.search(r"<td>" + name + r"</td><td>([^<]+)</td><td>(\d+)</td>", table)
        return found and (found.group(1).strip(), int(found.group(2)))

    recent = http.get("/feedback?days=90").get_data(as_text=True)
    assert row(recent, "Cartera Norte") == ("0", 2)  # one promoter, one detractor
    assert row(recent, "Cartera Sur") == ("-100", 1)
    assert re.search(r'data-testid="response-rate">\s*75\s*%<', recent)  # 3 of 4 links of the period
    year = http.get("/feedback?days=365").get_data(as_text=True)
    assert row(year, "Cartera Norte") == ("33", 3)  # the old 9 counts in the year
    only_south = http.get(f"/feedback?days=365&portfolio={south_id}").get_data(as_text=True)
    assert re.search(r'data-testid="nps">\s*-100<', only_south) and north_id != south_id
