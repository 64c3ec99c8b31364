"""Issue 19, words a shop owner reads: the tax id by its country's name, the country by
its name, "Sin cartera", roles named without assuming a gender, the owner's view of a
testimonial's name choice, a proper first name in greetings, no "usted" and no ISO
dates on screen."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.db import utcnow
from pymes.extensions import db
from pymes.feedback import services as feedback
from pymes.feedback.models import FeedbackLink, FeedbackResponse
from pymes.tenancy import bound
from pymes.territories.models import Portfolio

from .factories import csrf_token, login

ROOT = Path(__file__).resolve().parent.parent


def _page(http, path: str) -> str:
    response = http.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _client(app, business, **fields) -> int:
    with app.app_context(), bound(business.id):
        client = Client(**fields)
        db.session.add(client)
        db.session.commit()
        return client.id


# --- the tax id is called what the business's country calls it ------------------------

@pytest.mark.parametrize("country, currency, label", [
    ("CL", "CLP", "RUT (opcional)"),
    ("ES", "EUR", "NIF / CIF (opcional)"),
    ("MX", "MXN", "RFC (opcional)"),
    ("AR", "ARS", "CUIT (opcional)"),
    ("PE", "PEN", "RUC (opcional)"),
    ("CO", "COP", "NIT (opcional)"),
    ("US", "USD", "Identificación fiscal (opcional)"),  # no local name known: the generic one
])
def test_the_client_form_names_the_tax_id_by_the_business_country(app, make, country, currency, label):
    business = make.business(country=country, currency=currency, timezone="UTC")
    owner = make.user(business)
    http = app.test_client()
    login(http, owner.email)
    html = _page(http, "/clients/new")
    field = re.search(r'<label[^>]*for="tax_id"[^>]*>\s*([^<]+?)\s*<', html)
    assert field and field.group(1) == label
    assert "RUT / n.º tributario" not in html


def test_the_tax_id_shown_on_a_client_and_in_the_export_carries_its_name(app, make):
    business = make.business(country="ES", currency="EUR", timezone="Europe/Madrid")
    owner = make.user(business)
    cid = _client(app, business, name="Talleres Soto SL", company="Talleres Soto SL", tax_id="B12345678")
    http = app.test_client()
    login(http, owner.email)
    assert "NIF / CIF B12345678" in _page(http, f"/clients/{cid}")
    csv = http.get("/clients/export.csv").get_data(as_text=True).lstrip("\ufeff")
    assert csv.splitlines()[0].split(",")[:3] == ["Nombre", "Empresa", "NIF / CIF"]


def test_each_business_sees_its_own_tax_id_name_in_one_running_app(app, make):
    """The label was once written as ``none | tax_id_label``: Jinja folded that constant
    filter call when it compiled the template, so the first business to open a client
    page fixed the name for every business served by that process."""
    for country, currency, name in (("CL", "CLP", "RUT"), ("ES", "EUR", "NIF / CIF"), ("MX", "MXN", "RFC")):
        business = make.business(country=country, currency=currency, timezone="UTC")
        owner = make.user(business)
        cid = _client(app, business, name="Cliente", company="Empresa", tax_id="X123")
        http = app.test_client()
        login(http, owner.email)
        assert f"Empresa · {name} X123" in _page(http, f"/clients/{cid}")


def test_an_english_reader_sees_the_local_name_too(app, make):
    business = make.business(country="CL")
    owner = make.user(business, language="en")
    http = app.test_client()
    login(http, owner.email)
    assert re.search(r'for="tax_id"[^>]*>\s*RUT \(optional\)\s*<', _page(http, "/clients/new"))


# --- the country by its name ---------------------------------------------------------

@pytest.mark.parametrize("country, language, words", [
    ("CL", "es", "País: Chile."), ("ES", "es", "País: España."), ("ES", "en", "Country: Spain."),
    ("BR", "es", "País: Brasil."),
])
def test_business_settings_name_the_country(app, make, country, language, words):
    business = make.business(country=country, currency="USD", timezone="UTC")
    owner = make.user(business, language=language)
    http = app.test_client()
    login(http, owner.email)
    html = _page(http, "/settings/business")
    assert words in html
    assert f"País: {country}." not in html and f"Country: {country}." not in html


# --- "Sin cartera", not "Nadie" --------------------------------------------------------

def test_the_feedback_inbox_calls_clients_without_a_portfolio_sin_cartera(app, make):
    business, _owner, manager, seller = make.team()
    with app.app_context(), bound(business.id):
        portfolio = Portfolio(name="Talleres del sur")
        db.session.add(portfolio)
        db.session.flush()
        inside = Client(name="Rosa Díaz", seller_id=seller.id, portfolio_id=portfolio.id)
        outside = Client(name="Luis Paz")  # no portfolio, no seller
        db.session.add_all([inside, outside])
        db.session.commit()
        for client in (inside, outside):
            feedback.create_link(client, None)
            link = db.session.execute(select(FeedbackLink).order_by(FeedbackLink.id.desc())).scalars().first()
            db.session.add(FeedbackResponse(link_id=link.id, client_id=client.id, score=9, comment=""))
        db.session.commit()
    http = app.test_client()
    login(http, manager.email)
    html = _page(http, "/feedback")
    portfolios = re.search(r'data-testid="by-portfolio">(.*?)</table>', html, re.S).group(1)
    sellers = re.search(r'data-testid="by-seller">(.*?)</table>', html, re.S).group(1)
    assert "<td>Sin cartera</td>" in portfolios and "<td>Talleres del sur</td>" in portfolios
    assert "<td>Sin vendedor</td>" in sellers
    assert "Nadie" not in portfolios + sellers


# --- roles without assuming a gender -------------------------------------------------------

def test_roles_are_named_without_assuming_a_gender(app, make):
    business = make.business()
    owner = make.user(business, name="Carolina Fuentes")
    make.user(business, "seller", name="Marta Vendedora")
    http = app.test_client()
    login(http, owner.email)
    team = _page(http, "/team")
    assert "Titular" in team and "Ventas" in team
    assert "Dueño" not in team and "Dueña" not in team
    assert "Titular" in _page(http, "/")  # the home page's "name · role" line


# --- the owner's view of the customer's name choice --------------------------------------

def test_the_owner_reads_the_customers_name_choice_in_the_third_person(app, make):
    from pymes.referrals.models import Testimonial

    business, owner, _manager, seller = make.team()
    cid = _client(app, business, name="Camila Rojas", seller_id=seller.id)
    with app.app_context(), bound(business.id):
        db.session.add(Testimonial(client_id=cid, text="Muy buena atención", name_display="first", may_publish=True,
                                   status="pending", source="feedback", consent_at=utcnow()))
        db.session.commit()
    http = app.test_client()
    login(http, owner.email)
    for path in (f"/clients/{cid}", "/testimonials"):
        html = _page(http, path)
        assert "Solo su nombre" in html, path
        assert "Solo mi nombre" not in html, path


# --- greetings by a proper first name ----------------------------------------------------------

def test_a_company_is_greeted_by_its_name_not_its_first_word(app, make, monkeypatch):
    monkeypatch.setattr(feedback, "MIN_FILL_SECONDS", 0)
    business, _owner, _manager, seller = make.team("Ferretería El Roble")
    cid = _client(app, business, name="Taller Mecánico Soto", seller_id=seller.id, whatsapp="+56987654321")
    http = app.test_client()
    login(http, seller.email)
    path = f"/clients/{cid}/referral-link"
    page = http.post(path, data={"csrf_token": csrf_token(http, path)}).get_data(as_text=True)
    assert "Taller%20Mec%C3%A1nico%20Soto" in page  # the WhatsApp text greets the workshop
    friend_path = re.search(r'value="[^"]*(/r/[^"]+)"', page).group(1)
    friend = _page(app.test_client(), friend_path)
    assert "Taller Mecánico Soto recomienda Ferretería El Roble" in friend


def test_the_complaint_message_greets_a_company_by_its_name(app, make):
    from pymes.complaints.models import Complaint
    from pymes.complaints.services import message_to_client

    business = make.business("Ferretería El Roble")
    with app.test_request_context(), bound(business.id):
        client = Client(name="Taller Mecánico Soto")
        _subject, text = message_to_client(Complaint(remedy="replace"), client, business)
        assert text.startswith("Hola, Taller Mecánico Soto") or "Taller Mecánico Soto" in text.split(",")[0]
        person = Client(name="Rosa María Díaz")
        _subject, text = message_to_client(Complaint(remedy="replace"), person, business)
        assert "Rosa" in text.split(",")[0] and "Díaz" not in text.split(",")[0]


# --- "tú", never "usted" -------------------------------------------------------------------------

# "usted" itself, and formal commands that never read as a third person in our sentences
# ("hable con", "intente de nuevo"...); "su negocio" is left out: it is also "their
# business" ("los clientes y su negocio"). A new one of these in the
# Spanish catalog is a slip from the "tú" the app speaks.
USTED = re.compile(r"\busted\b|\b(?:hable|intente|inténtelo|ingrese|comuníquese|póngase|diríjase|"
                   r"verifique|asegúrese|disculpe|escríbanos|llámenos)\b",
                   re.IGNORECASE)


def _spanish_strings():
    with (ROOT / "translations/es/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="es")
    for message in catalog:
        if not message.id:
            continue
        for text in (message.string if isinstance(message.string, (list, tuple)) else (message.string,)):
            yield message.id, text or ""


def test_the_app_speaks_tu_never_usted():
    slips = [(msgid, text) for msgid, text in _spanish_strings() if USTED.search(text)]
    assert not slips, "\n".join(f"{m!r}: {t!r}" for m, t in slips)


def test_the_usted_check_can_fail():
    assert USTED.search("Si cree que es un error, hable con el dueño de su negocio.")
    assert USTED.search("Intente de nuevo más tarde.") and USTED.search("¿Usted ya tiene una cuenta?")
    assert not USTED.search("Si crees que es un error, habla con quien tenga el rol de titular en tu negocio.")


def test_the_403_page_speaks_tu(app, make):
    business = make.business()
    seller = make.user(business, "seller")
    http = app.test_client()
    login(http, seller.email)
    response = http.get("/team")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert not USTED.search(html) and "Si necesitas acceso" in html


# --- dates on screen go through Babel ----------------------------------------------------------

def test_the_sale_picker_of_a_complaint_shows_dates_as_people_write_them(app, make):
    from pymes.sales.models import Sale

    business, owner, _manager, seller = make.team()
    cid = _client(app, business, name="Rosa Díaz", seller_id=seller.id)
    with app.app_context(), bound(business.id):
        db.session.add(Sale(client_id=cid, sold_on=date(2026, 3, 7), description="Bicicleta", amount=450000,
                            seller_id=seller.id))
        db.session.commit()
    http = app.test_client()
    login(http, owner.email)
    html = _page(http, f"/clients/{cid}/complaints/new")
    option = re.search(r'<option value="\d+"[^>]*>([^<]*Bicicleta[^<]*)</option>', html).group(1)
    assert "2026-03-07" not in option
    assert "7 mar 2026" in option


def test_no_role_is_named_with_a_gender_in_spanish():
    """A woman who owns the shop is not a "dueño": the roles are Titular, Gerente, Ventas
    and Servicio / administración, and sentences about a role name the role."""
    gendered = re.compile(r"\bdueñ[oa]s?\b|\bpropietari[oa]s?\b", re.IGNORECASE)
    slips = [(msgid, text) for msgid, text in _spanish_strings() if gendered.search(text)]
    assert not slips, "\n".join(f"{m!r}: {t!r}" for m, t in slips)


# --- Portuguese as Brazil writes it; Russian without assuming a gender -------------------------

def _strings(language: str):
    with (ROOT / f"translations/{language}/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale=language)
    for message in catalog:
        if not message.id:
            continue
        for text in (message.string if isinstance(message.string, (list, tuple)) else (message.string,)):
            if text:
                yield message.id, text


# European Portuguese words and constructions a Brazilian customer reads as foreign
# ("morada" for endereço, "partilhar", "consigo" for você, "escrever-lhe", "está a
# correr"), and object pronouns that make the customer a man ("contatá-lo").
EUROPEAN_PT = re.compile(r"\b(?:contacto|contactar|contactá|morada|telemóvel|partilh\w*|consigo|equipa|ficheiro|"
                         r"utilizador\w*|registo|ecrã|facto)\b|\w+-lhe\b|\best(?:á|ão|ou) a \w+r\b", re.IGNORECASE)
MASCULINE_YOU_PT = re.compile(r"\b(?:contatá|contactá|atendê|visitá|ajudá|avisá|chamá|lembrá|informá)-lo\b|"
                              r"\bo podemos\b|\bsatisfeito\b|\bser contatado\b", re.IGNORECASE)  # "usá-lo": a thing


def test_portuguese_is_brazilian_throughout():
    slips = [(m, t) for m, t in _strings("pt") if EUROPEAN_PT.search(t) or MASCULINE_YOU_PT.search(t)]
    assert not slips, "\n".join(f"{m!r}: {t!r}" for m, t in slips)


def test_the_portuguese_check_can_fail():
    assert EUROPEAN_PT.search("Escreva a morada onde o podemos visitar.")
    assert EUROPEAN_PT.search("Como está a correr com a sua compra?") and EUROPEAN_PT.search("ligar-lhe")
    assert MASCULINE_YOU_PT.search("para podermos contatá-lo") and MASCULINE_YOU_PT.search("Quero ser contatado")
    assert not EUROPEAN_PT.search("Escreva o endereço onde podemos visitar você.")


# A first person or a past tense that names a gender: "Я согласен" (a man agrees),
# "связался" (the business as a man). Present and future tenses have none.
GENDERED_RU = re.compile(r"\bсоглас(?:ен|на)\b|\bсвязал(?:ся|ась)\b|\bдовол(?:ен|ьна)\b|\bрад(?:а)?\b(?! ,)|"
                         r"\bсамого\b|\bсотрудник\b|\bдруга\b", re.IGNORECASE)


def test_russian_does_not_assume_a_gender():
    slips = [(m, t) for m, t in _strings("ru") if GENDERED_RU.search(t)]
    assert not slips, "\n".join(f"{m!r}: {t!r}" for m, t in slips)


def test_the_russian_check_can_fail():
    assert GENDERED_RU.search("Я согласен, чтобы %(business)s связался со мной по этому поводу.")
    assert not GENDERED_RU.search("Даю согласие: %(business)s может связаться со мной по этому поводу.")
    assert not GENDERED_RU.search("Рады, что вы довольны.")  # plural: no gender


def test_the_public_page_in_portuguese_and_russian_reads_as_reviewed(app, make):
    business = make.business("Padaria Boa Vista")
    cid = _client(app, business, name="Ana Souza", email="ana@example.com")
    secret = make.feedback_link(business, cid).secret
    http = app.test_client()
    pt = _page(http, f"/f/{secret}?lang=pt")
    assert "Quero que entrem em contato comigo" in pt and "contatado" not in pt
    ru = _page(http, f"/f/{secret}?lang=ru")
    assert "друзьям или знакомым" in ru


def test_a_wrong_phone_names_the_country(app, make):
    from pymes.clients.services import normalise_phone
    from pymes.validation import FieldError

    with app.test_request_context():
        from flask_babel import force_locale

        with force_locale("es"), pytest.raises(FieldError) as error:
            normalise_phone("12", "CL")
    assert "para Chile" in error.value.message and "para CL" not in error.value.message


# --- no ISO date on any screen -------------------------------------------------------------------

ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# Not a date shown to a person but an example of what a file may hold: the import page
# names the date formats it reads (2025-03-31 among them).
EXAMPLES_OF_FILE_CONTENT = {("/clients/import", "2025-03-31")}


def _visible_text(html: str) -> str:
    """What a person reads: no script or style, no tags (so no attribute: an <input
    type="date"> keeps its ISO value, which the browser shows in the person's format)."""
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", html)


def test_no_page_shows_an_iso_date(app, make):
    """Every page a logged-in owner can open, with one object of each kind (sales,
    visits, complaints, referrals… with their dates), in Spanish and in English: dates
    go through Babel ("7 mar 2026"), never "2026-03-07"."""
    from .security import routes

    business = make.business()
    owner = make.user(business)
    ids = {arg: factory(app, business, owner) for arg, factory in routes.registry(make).items()}
    for language in ("es", "en"):
        with app.app_context(), bound(business.id):
            from pymes.accounts.models import User

            db.session.get(User, owner.id).language = language
            db.session.commit()
        http = app.test_client()
        login(http, owner.email)
        paths = ["/"] + [r.rule for r in routes.rules(app) if "GET" in r.methods and not r.arguments]
        paths += [routes.build(r, ids) for r in routes.id_rules(app) if "GET" in r.methods]
        seen, problems = 0, []
        for path in dict.fromkeys(paths):
            if "logout" in path or path.startswith(("/static", "/dev")):
                continue
            response = http.get(path)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            seen += 1
            for found in ISO_DATE.findall(_visible_text(response.get_data(as_text=True))):
                if (path, found) not in EXAMPLES_OF_FILE_CONTENT:
                    problems.append(f"{path}: {found}")
        assert seen > 20
        assert not problems, f"ISO dates on screen ({language}):\n  " + "\n  ".join(problems)


def test_the_iso_date_check_can_fail():
    assert ISO_DATE.search(_visible_text("<option>2026-03-07 · Bicicleta</option>"))
    assert not ISO_DATE.search(_visible_text('<input type="date" value="2026-03-07"> 7 mar 2026'))
