"""Where each column of an imported file goes: the targets a column can have and how a
header is recognised.

Shops bring files made by other products, each with its own headers. The ones
recognised here come from those products' documented export formats:

- Google Contacts, current CSV (``First Name``, ``Middle Name``, ``Last Name``,
  ``Organization Name``, ``E-mail 1 - Value``, ``Phone 1 - Value``,
  ``Address 1 - Formatted``, ``Labels``…) and the older "Google CSV" (``Name``,
  ``Given Name``, ``Additional Name``, ``Family Name``, ``Group Membership``,
  ``Organization 1 - Name``…). A Google cell can hold several values joined by
  `` ::: ``; the rows split them.
- Outlook CSV (``E-mail Address``, ``Mobile Phone``, ``Business Phone``,
  ``Home Street``, ``Business City``…).
- HubSpot contacts (``First Name``, ``Last Name``, ``Email``, ``Phone Number``,
  ``Mobile Phone Number``, ``Company Name``, ``Street Address``, ``Contact owner``…)
  and Pipedrive people (``Name``, ``Organization``, ``Email - Work``,
  ``Phone - Mobile``, ``Owner``, sometimes prefixed ``Person - ``).
- Spanish and Latin-American sheets (``Nombre``/``Apellidos``,
  ``Teléfono``/``Celular``/``Móvil``/``Fono``, ``Correo``, ``RUT``/``NIF``/``CUIT``,
  ``Dirección``/``Comuna``/``Población``/``Provincia``/``CP``) and their summary
  columns (``Última compra``, ``Monto``, ``N° compras``, ``Total comprado``).

A header is folded (lower case, no accents, letters and digits only) and looked up
among exact aliases, then among patterns for the numbered columns of those products.
What is not recognised goes to the notes as ``Header: value``: nothing is dropped
unless the owner chooses "ignore" in the mapping step.

Some targets take several columns (``MULTI``): the parts of a name are joined with
spaces, several phones are sorted by number type, extra e-mails and anything for the
notes are kept in the notes.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Target:
    key: str
    label: object  # lazy string
    group: str  # client, sale, summary, other
    multi: bool = False
    example: str = ""
    aliases: tuple[str, ...] = ()


TARGETS = (
    Target("name", _l("Name"), "client", aliases=(
        "nombre", "name", "nombrecompleto", "fullname", "cliente", "client", "nombredelcliente", "clientname",
        "displayname", "contactname", "nombreyapellido", "nombreyapellidos", "nombreapellido", "razonsocialonombre",
        "contacto", "contact", "personname")),
    Target("name_part", _l("Part of the name (first, middle, last)"), "client", multi=True, aliases=(
        "firstname", "givenname", "middlename", "additionalname", "lastname", "familyname", "surname",
        "apellido", "apellidos", "primerapellido", "segundoapellido", "nombres", "primernombre",
        "segundonombre", "nombrepila")),
    Target("kind", _l("Type"), "client", example="cliente / prospecto", aliases=("tipo", "type", "kind")),
    Target("company", _l("Company"), "client", aliases=(
        "empresa", "company", "razonsocial", "companyname", "compania", "organization", "organizationname",
        "organisation", "organizacion", "negocio", "associatedcompany")),
    Target("tax_id", _l("Tax id"), "client", aliases=(
        "rut", "nif", "cif", "rfc", "cuit", "cuil", "taxid", "vat", "idfiscal", "ruc", "dni", "nie", "nit",
        "vatnumber", "rutempresa")),
    Target("email", _l("E-mail"), "client", multi=True, aliases=(
        "correo", "email", "mail", "correoelectronico", "emailaddress", "email1", "email2", "email3",
        "correo1", "correo2", "emailprincipal")),
    Target("phone", _l("Phone (mobiles become the WhatsApp number)"), "client", multi=True, aliases=(
        "telefono", "phone", "tel", "fono", "celular", "movil", "mobile", "phonenumber", "mobilephone",
        "mobilephonenumber", "cellphone", "cell", "telefonomovil", "telefonofijo", "fonofijo", "telefono1",
        "telefono2", "telefonos", "primaryphone", "homephone", "businessphone", "otherphone", "workphone",
        "numerodetelefono", "whatsappotelefono")),
    Target("whatsapp", _l("WhatsApp"), "client", aliases=("whatsapp", "wsp", "whatsappnumber", "numerowhatsapp")),
    Target("address", _l("Address"), "client", multi=True, aliases=(
        "direccion", "address", "domicilio", "calle", "street", "streetaddress", "direccionpostal",
        "postaladdress", "address1", "address2", "direccion1", "homeaddress", "businessaddress")),
    Target("address_part", _l("City, region or postal code (added to the address)"), "client", multi=True,
           aliases=("comuna", "ciudad", "city", "poblacion", "localidad", "municipio", "provincia", "region",
                    "state", "stateregion", "codigopostal", "cp", "postalcode", "zip", "zipcode", "pais",
                    "country", "countryregion", "barrio", "colonia", "departamento", "estado")),
    Target("territory", _l("Territory"), "client", aliases=("territorio", "territory", "zona", "zone")),
    Target("portfolio", _l("Portfolio"), "client", aliases=("cartera", "portfolio", "carteradeclientes")),
    Target("seller", _l("Seller"), "client", aliases=(
        "vendedor", "seller", "vendedorresponsable", "responsibleseller", "rep", "contactowner", "owner",
        "ejecutivo", "ejecutivodeventas", "salesrep", "comercial")),
    Target("preferred_channel", _l("Preferred channel"), "client", example="whatsapp / teléfono / correo / visita",
           aliases=("canal", "channel", "canalpreferido", "preferredchannel")),
    Target("is_key", _l("Key client"), "client", example="sí / no", aliases=("clave", "clienteclave", "keyclient", "key")),
    Target("notes", _l("Notes"), "client", multi=True, aliases=(
        "notas", "notes", "observaciones", "comentarios", "comments", "nota", "note", "observacion")),
    Target("note", _l("Notes, with the column's name"), "other", multi=True),
    Target("sold_on", _l("Date of the sale"), "sale", example="2025-03-31", aliases=(
        "fecha", "date", "fechaventa", "fechadeventa", "saledate", "fechadelaventa", "dateofthesale")),
    Target("description", _l("What was sold"), "sale", aliases=(
        "descripcion", "description", "producto", "product", "detalle", "loquesevendio", "whatwassold")),
    Target("product_line", _l("Product line"), "sale", aliases=("lineadeproducto", "linea", "productline", "line")),
    Target("amount", _l("Amount"), "sale", example="12.500", aliases=(
        "monto", "importe", "amount", "total", "valor", "value", "precio", "price", "montoultimacompra",
        "lastpurchaseamount")),
    Target("margin", _l("Margin"), "sale", example="3.000 / 30%", aliases=("margen", "margin")),
    Target("delivery_on", _l("Delivery / start of service"), "sale", aliases=(
        "entrega", "fechaentrega", "fechadeentrega", "delivery", "deliverydate", "deliverystartofservice")),
    Target("last_purchase", _l("Last purchase (date)"), "summary", example="05-03-2025", aliases=(
        "ultimacompra", "fechaultimacompra", "fechadeultimacompra", "fechaultimaventa", "ultimaventa",
        "lastpurchase", "lastpurchasedate", "lastorder", "lastorderdate", "dateoflastpurchase")),
    Target("first_purchase", _l("First purchase (date)"), "summary", aliases=(
        "primeracompra", "fechaprimeracompra", "clientedesde", "customersince", "firstpurchase",
        "firstpurchasedate", "firstorderdate")),
    Target("purchases", _l("Number of purchases"), "summary", example="12", aliases=(
        "ncompras", "nocompras", "nrocompras", "numerodecompras", "cantidaddecompras", "compras", "purchases",
        "numberofpurchases", "orders", "ordercount", "numberoforders", "pedidos", "totalcompras",
        "cantidadcompras", "numcompras")),
    Target("purchases_12m", _l("Purchases in the last 12 months"), "summary", aliases=(
        "compras12meses", "ncompras12meses", "nocompras12meses", "comprasultimos12meses", "purchases12months",
        "purchaseslast12months", "orders12months")),
    Target("total_spent", _l("Total bought (ever)"), "summary", example="$1.250.000", aliases=(
        "totalcomprado", "montototal", "totalspent", "totalsales", "lifetimevalue", "totalventas",
        "totalgastado", "totalhistorico", "ventastotales")),
    Target("total_12m", _l("Total bought in the last 12 months"), "summary", aliases=(
        "total12meses", "totalultimos12meses", "comprado12meses", "ventas12meses", "total12months",
        "totallast12months", "monto12meses")),
    Target("ignore", _l("Ignore this column"), "other", multi=True),
)
BY_KEY = {t.key: t for t in TARGETS}
SALE_KEYS = tuple(t.key for t in TARGETS if t.group == "sale")
SUMMARY_KEYS = tuple(t.key for t in TARGETS if t.group == "summary")
MULTI = frozenset(t.key for t in TARGETS if t.multi)
ALIASES = {alias: t.key for t in TARGETS for alias in t.aliases}

# The numbered and prefixed columns of Google, Outlook, HubSpot and Pipedrive exports.
PATTERNS = (
    # meta columns: the label of the next column ("E-mail 1 - Label: Work"), phonetic spellings, photos
    (re.compile(r"^(e?mail|phone|address|website|organization|relation|event|im|customfield)\d*(label|type)$"),
     "ignore"),
    (re.compile(r"^(phonetic|yomi).*|.*yomi$|^fileas$|^photo$|^emaildisplayname$"), "ignore"),
    (re.compile(r"^e?mail\d*(value|address)?$|^e?mail\d*address$|^e?mail(work|home|other)$|^correo\w*$"), "email"),
    (re.compile(r"^phone\d*(value)?$|^(home|business|mobile|other|primary|car|companymain|work|cell|assistants)phone\d*$"
                r"|^phone(work|home|mobile|other|main|cell)$|^(telefono|fono|celular|movil)\w*$"), "phone"),
    (re.compile(r"^address\d*(formatted|street|extendedaddress|pobox)?$|^(business|home|other)street\d*$"
                r"|^(postal|street)address\w*$"), "address"),
    (re.compile(r"^address\d*(city|region|postalcode|country)$"
                r"|^(business|home|other)(city|state|postalcode|countryregion|country)$"), "address_part"),
    (re.compile(r"^organization\d*name$"), "company"),
    # Name prefixes and suffixes (Google's "Name Prefix", Outlook's "Title"): kept in the
    # notes, not in the name, so that "Sr." does not become part of a client's name.
    (re.compile(r"^namesuffix$|^nameprefix$|^title$|^suffix$"), "note"),
)


def fold(text: str) -> str:
    """Lower case, no accents, letters and digits only: "Teléfono " → "telefono"."""
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", text)


def detect(header: str) -> str:
    """The target a header goes to when the owner has not chosen: an alias, a pattern of
    a known export, or the notes (with the header's name) when unknown."""
    folded = fold(header)
    if not folded:
        return "ignore"
    candidates = (folded, folded.removeprefix("person"), folded.removeprefix("contact"))
    for candidate in candidates:
        if candidate in ALIASES:
            return ALIASES[candidate]
    for candidate in candidates:
        for pattern, key in PATTERNS:
            if pattern.match(candidate):
                return key
    return "note"


def detect_all(headers: list[str], labels: dict[str, str] | None = None) -> dict[str, str]:
    """Position → target for every column. A single-valued target taken by an earlier
    column sends later ones to the notes (nothing is lost); ``labels`` (the template's
    own headers in the UI language) count as aliases too."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    labels = labels or {}
    for position, header in enumerate(headers):
        key = labels.get(fold(header)) or detect(header)
        if key in taken and key not in MULTI:
            key = "note"
        taken.add(key)
        mapping[str(position)] = key
    # A file with a full-name column and name parts (Google's older format: Name, Given
    # Name, Family Name) keeps the full name; the parts are then the same words again.
    return mapping


def headers_key(headers: list[str]) -> str:
    """The same columns in the same order, whatever their case or accents: the key under
    which an owner's mapping is remembered for the next file."""
    return hashlib.sha256("\x1f".join(fold(h) for h in headers).encode()).hexdigest()[:40]
