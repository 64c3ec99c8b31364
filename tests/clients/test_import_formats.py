"""Files that shops really have, made from each product's documented export format
(``tests/clients/files/``): Google Contacts (current and older), Outlook, HubSpot,
Pipedrive, a vCard from a phone, a Chilean sheet with summary columns and a Spanish
Excel CSV. Each goes through the real upload, preview and confirm pages, and every
name, phone, e-mail, company and summary figure must arrive."""
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from pymes.clients import import_routes
from pymes.clients.models import ClientOpening
from pymes.extensions import db
from pymes.sales.models import Sale
from pymes.tenancy import bound

from .test_import import clients, confirm, import_id, logged, stored, text_of, upload

FILES = Path(__file__).parent / "files"
TODAY = date(2026, 12, 5)


@pytest.fixture
def shop(app, make, monkeypatch):
    """A Chilean hardware shop (es_CL, CLP) with its seller Marta; the import's "today"
    is pinned so that the sheets' purchase dates keep their meaning."""
    monkeypatch.setattr(import_routes, "business_today", lambda: TODAY)
    business = make.business("Ferretería Formatos")
    owner = make.user(business, "owner", language="en")
    seller = make.user(business, "seller", language="en", name="Marta Vendedora")
    return business, owner, seller


@pytest.fixture
def spanish_shop(app, make, monkeypatch):
    monkeypatch.setattr(import_routes, "business_today", lambda: TODAY)
    business = make.business("Ferretería Madrid", country="ES", currency="EUR", timezone="Europe/Madrid")
    return business, make.user(business, "owner", language="en")


def imported(app, business, owner, name):
    http = logged(app, owner)
    iid = import_id(upload(http, (FILES / name).read_bytes(), name))
    response = confirm(http, iid)
    assert response.status_code == 303, text_of(response)[:3000]
    return http, iid, clients(app, business)


def test_google_contacts_current_format(app, shop):
    business, owner, _seller = shop
    _http, iid, book = imported(app, business, owner, "google_contacts.csv")
    assert set(book) == {"José Luis Pérez Muñoz", "María Núñez", "Ñandú Ferretería"}
    jose = book["José Luis Pérez Muñoz"]
    assert (jose.company, jose.email) == ("Constructora Andes SpA", "jose.perez@andes.cl")
    assert (jose.phone, jose.whatsapp) == ("+56223456789", "+56987654321")  # landline phone, mobile WhatsApp
    assert jose.address == "Av. Providencia 1234, Providencia, Región Metropolitana, Chile, 7500000"
    for kept in ("E-mail 2 - Value: pepe.perez@gmail.com", "Organization Title: Jefe de obra", "Birthday: 1979-04-12",
                 "Nickname: Pepe", "Labels: * myContacts ::: Clientes", "Compra pintura cada mes"):
        assert kept in jose.notes, kept
    maria = book["María Núñez"]
    # two mobiles in one Google cell (" ::: "): the first is phone and WhatsApp, the second is kept
    assert (maria.phone, maria.whatsapp) == ("+56961234567", "+56961234567")
    assert "Phone 1 - Value: +56955551234" in maria.notes and "Name Prefix: Sra." in maria.notes
    nandu = book["Ñandú Ferretería"]
    assert (nandu.company, nandu.phone, nandu.whatsapp) == ("Ñandú Ferretería Ltda.", "+56322261234", None)
    assert stored(app, business, iid).summary["rejected"] == 0


def test_google_contacts_older_format_keeps_phones_and_emails(app, shop):
    business, owner, _seller = shop
    _http, _iid, book = imported(app, business, owner, "google_contacts_legacy.csv")
    camila = book["Camila Andrea Rojas"]  # "Name" with its parts beside it: not doubled
    assert (camila.email, camila.phone, camila.whatsapp) == ("camila.rojas@example.com", "+56229876543",
                                                             "+56977771111")
    assert camila.company == "Taller Rojas" and "Organization 1 - Title: Dueña" in camila.notes
    assert "Prefiere que la llamen en la tarde" in camila.notes
    tomas = book["Tomás Fuentes"]
    assert (tomas.phone, tomas.whatsapp) == ("+56961112222", "+56961112222")


def test_outlook_export(app, shop):
    business, owner, _seller = shop
    _http, _iid, book = imported(app, business, owner, "outlook_contacts.csv")
    ricardo = book["Ricardo Sepúlveda"]
    assert (ricardo.company, ricardo.email) == ("Maderas del Sur S.A.", "rsepulveda@maderas.cl")
    assert (ricardo.phone, ricardo.whatsapp) == ("+56224567890", "+56981234567")
    assert ricardo.address == "Camino a Melipilla 8500, Maipú, Región Metropolitana, Chile"
    assert "Title: Sr." in ricardo.notes and "Job Title: Gerente de compras" in ricardo.notes
    paula = book["Paula Araya"]
    assert paula.address == "" and "Home City: Viña del Mar" in paula.notes  # a city alone is not an address


def test_hubspot_export_with_its_owner_as_the_responsible_seller(app, shop):
    business, owner, seller = shop
    _http, _iid, book = imported(app, business, owner, "hubspot_contacts.csv")
    valentina = book["Valentina Soto Díaz"]
    assert (valentina.phone, valentina.whatsapp) == ("+56223334444", "+56982221111")
    assert valentina.company == "Ferrosur Ltda." and valentina.seller_id == seller.id
    assert valentina.address == "Los Carrera 455, Concepción, Biobío, 4030000, Chile"
    assert "Lifecycle Stage: Customer" in valentina.notes and "Record ID: 51" in valentina.notes
    assert book["Felipe Morales"].whatsapp == "+56993334444"


def test_pipedrive_export(app, shop):
    business, owner, seller = shop
    _http, _iid, book = imported(app, business, owner, "pipedrive_people.csv")
    andres = book["Andrés Contreras"]
    assert (andres.company, andres.email, andres.seller_id) == ("Constructora Cumbre", "andres@cumbre.cl", seller.id)
    assert (andres.phone, andres.whatsapp) == ("+56227778888", "+56984445555")
    assert andres.address == "Apoquindo 3000, Las Condes" and "Person - Labels: Cliente VIP" in andres.notes


def test_vcard_from_android_and_iphone(app, shop):
    business, owner, _seller = shop
    _http, _iid, book = imported(app, business, owner, "contactos_telefono.vcf")
    assert set(book) == {"Sofía Muñoz", "Diego Silva", "Luis Martínez", "Fernanda Torres"}
    sofia = book["Sofía Muñoz"]  # vCard 2.1, quoted-printable UTF-8
    assert (sofia.company, sofia.email) == ("Panadería La Espiga", "sofia.munoz@example.com")
    assert (sofia.phone, sofia.whatsapp) == ("+56223456700", "+56988887777")
    assert "Pide factura a nombre de la panadería" in sofia.notes
    assert "Phone 2: +56987650001" in book["Diego Silva"].notes  # a second mobile is kept, not dropped
    luis = book["Luis Martínez"]
    assert luis.address.startswith("Gran Avenida 5600, San Miguel") and "Birthday: 1985-09-18" in luis.notes
    assert book["Fernanda Torres"].whatsapp == "+56971234567"  # vCard 4.0 tel: URI


def test_chilean_sheet_with_summary_columns_places_clients_on_the_ladder(app, shop):
    business, owner, _seller = shop
    http, iid, book = imported(app, business, owner, "planilla_clientes_chile.csv")
    assert set(book) == {"Taller Mecánico Hernández", "Isabel Espinoza", "Jorge Valenzuela", "Daniela Flores"}
    taller = book["Taller Mecánico Hernández"]
    assert (taller.tax_id, taller.whatsapp) == ("76.123.456-7", "+56965432109")
    assert "Comuna: Puente Alto" in taller.notes  # no street: the comuna is kept in the notes
    assert taller.tier == "frequent" and taller.sales_count == 12  # 12 purchases a year: frequent on day one
    isabel = book["Isabel Espinoza"]
    assert isabel.tier == "buyer" and isabel.sales_count == 1  # a single big purchase stays a one-off buyer
    jorge = book["Jorge Valenzuela"]  # no amount: no sale, but the ladder still knows 3 purchases
    assert jorge.tier == "sporadic" and jorge.last_sale_on == date(2026, 10, 3)
    daniela = book["Daniela Flores"]  # 31/04 does not exist: flagged, not guessed, and the client is kept
    assert "Última compra: 31/04/2026" in daniela.notes and daniela.sales_count == 0
    with app.app_context(), bound(business.id):
        sales = {s.client_id: s for s in db.session.execute(select(Sale)).scalars()}
        openings = db.session.execute(select(ClientOpening)).scalars().all()
    assert sales[taller.id].amount == 45990 and sales[taller.id].sold_on == date(2026, 11, 20)
    assert sales[taller.id].description == "Imported purchase"
    assert sales[isabel.id].amount == 1250000
    assert len(openings) == 3
    record = stored(app, business, iid)
    daniela_row = next(r for r in record.rows if r["values"]["name"] == "Daniela Flores")
    assert any("31/04/2026 is not a real date" in w for w in daniela_row["warnings"])
    page = text_of(http.get(f"/clients/{taller.id}"))
    assert "according to the imported spreadsheet" in page


def test_spanish_excel_csv_keeps_surnames_mobiles_and_towns(app, spanish_shop):
    business, owner = spanish_shop
    _http, iid, book = imported(app, business, owner, "excel_espana.csv")
    assert set(book) == {"José Luis García Pérez", "Núria Puig i Ferrer", "Íñigo Ibáñez"}
    jose = book["José Luis García Pérez"]
    assert (jose.phone, jose.whatsapp) == ("+34911234567", "+34612345678")
    assert jose.address == "C/ Mayor, 5, 2º B, Alcalá de Henares, Madrid, 28801" and jose.tax_id == "12345678Z"
    nuria = book["Núria Puig i Ferrer"]
    assert (nuria.phone, nuria.whatsapp) == ("+34699123456", "+34699123456")
    inigo = book["Íñigo Ibáñez"]
    assert (inigo.phone, inigo.whatsapp) == ("+34934123456", None)
    assert "Población: Sabadell" in inigo.notes and "Paga a 30 días" in inigo.notes
    assert any("Latin-1" in note for note in stored(app, business, iid).notes)


def test_the_preview_shows_where_every_column_goes(app, shop):
    business, owner, _seller = shop
    http = logged(app, owner)
    iid = import_id(upload(http, (FILES / "google_contacts.csv").read_bytes(), "google_contacts.csv"))
    page = text_of(http.get(f"/clients/import/{iid}"))
    headers = (FILES / "google_contacts.csv").read_text().splitlines()[0].split(",")
    for header in headers:
        assert f'data-column="{header}"' in page, header
    mapping = stored(app, business, iid).mapping
    assert mapping["0"] == "name_part" and mapping["18"] == "email" and mapping["17"] == "ignore"
