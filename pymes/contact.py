"""How to reach a client: which of their numbers takes WhatsApp, the ``wa.me`` link with a
message, the name a message greets them by and the language it is in. Shared by the
feedback links, the agenda and the public pages, so that all three decide the same way."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

import phonenumbers

MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
_FIXED_OR_MOBILE = phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE

# Countries whose mobiles are country-wide numbers (no area code) while phonenumbers types
# every number FIXED_LINE_OR_MOBILE: Chile's plan gives mobiles 9 + eight digits and
# landlines an area code (2 Santiago, 32 Valparaíso…). There the library's geocoder, which
# places a landline in its city and a mobile only in the country, tells them apart. Where
# mobiles carry area codes too (United States, Mexico, Argentina) it cannot, and a number
# of unknown kind counts as a mobile: a WhatsApp button that may fail beats none.
COUNTRY_WIDE_MOBILES = {"CL"}
MOBILE_HEADERS = re.compile(r"mobil|movil|celular|cel\b|cell|whatsapp|wsp|handy|сотов|мобил")
LANDLINE_HEADERS = re.compile(r"fijo|fixed|landline|home|casa|business|work|trabajo|oficina|office|fax|рабоч|домаш")


def number_is_mobile(number: phonenumbers.PhoneNumber, header: str = "") -> bool:
    """Whether a parsed number can take WhatsApp. phonenumbers' type for its own country
    decides (MOBILE yes; FIXED_LINE, TOLL_FREE, VOIP… no). Where the plan cannot tell
    (FIXED_LINE_OR_MOBILE): in the countries of ``COUNTRY_WIDE_MOBILES`` the geocoder;
    elsewhere the column or label it came with ("Móvil", "Home Phone": an import passes
    the header, a vCard its TYPE), and without one it counts as a mobile."""
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return True
    if kind != _FIXED_OR_MOBILE:
        return False
    region = phonenumbers.region_code_for_number(number)
    if region in COUNTRY_WIDE_MOBILES:
        from phonenumbers import geocoder  # 0.3 s of data to load: only when a number needs it

        place = geocoder.description_for_number(number, "en")
        return not place or place == geocoder.country_name_for_number(number, "en")
    label = _plain(header.lower()) if header else ""
    if label and MOBILE_HEADERS.search(label):
        return True
    return not (label and LANDLINE_HEADERS.search(label))


def _plain(text: str) -> str:
    """Lower case without accents ("Móvil" → "movil"); Cyrillic kept."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def is_mobile(e164: str | None, header: str = "") -> bool:
    """A stored number that can take WhatsApp (``number_is_mobile``); the one rule for the
    WhatsApp buttons, the public pages and the import."""
    if not e164:
        return False
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return number_is_mobile(number, header)


def whatsapp_number(client) -> str | None:
    """The number to open WhatsApp with: the WhatsApp field when the owner filled it,
    else the phone when it is a mobile. A landline gives None (WhatsApp would fail)."""
    if client.whatsapp:
        return client.whatsapp
    if is_mobile(client.phone):
        return client.phone
    return None


# where the library's example "mobile" reads like a landline to the people of the country
# (Chile's plan cannot tell them apart, and its example is a Santiago number)
_MOBILE_EXAMPLES = {"CL": "+56 9 1234 5678"}


def phone_example(country: str, mobile: bool = True) -> str:
    """A number written the way people of ``country`` write one, to show as an example."""
    if mobile and country in _MOBILE_EXAMPLES:
        return _MOBILE_EXAMPLES[country]
    kind = phonenumbers.PhoneNumberType.MOBILE if mobile else phonenumbers.PhoneNumberType.FIXED_LINE
    number = phonenumbers.example_number_for_type(country, kind)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL) if number else ""


def wa_url(number: str | None, text: str = "") -> str:
    """``https://wa.me/<digits>?text=...`` ("" without a number)."""
    if not number:
        return ""
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"https://wa.me/{digits}" + (f"?text={quote(text)}" if text else "")


# Words that make a name a business's, not a person's: legal forms (Chile, Spain, Portugal,
# Brazil, the English-speaking world, Russia) and the kinds of shop a client book holds.
_LEGAL = {"spa", "ltda", "limitada", "sa", "s.a", "s.a.", "eirl", "e.i.r.l", "e.i.r.l.", "sl", "s.l", "s.l.", "slu",
          "sas", "cía", "cia", "hnos", "y cía", "inc", "inc.", "llc", "ltd", "ltd.", "lda", "me", "mei", "epp",
          "ооо", "оао", "зао", "пао", "ао", "ип"}
_TRADES = {"taller", "panadería", "panaderia", "ferretería", "ferreteria", "restaurante", "restaurant", "almacén",
           "almacen", "comercial", "constructora", "distribuidora", "inversiones", "sociedad", "empresa", "empresas",
           "tienda", "café", "cafe", "cafetería", "clínica", "clinica", "farmacia", "minimarket", "botillería",
           "hotel", "hostal", "colegio", "escuela", "academia", "peluquería", "peluqueria", "librería", "imprenta",
           "transportes", "servicios", "agrícola", "agricola", "industrial", "importadora", "exportadora",
           "inmobiliaria", "automotora", "veterinaria", "lavandería", "supermercado", "mercado", "bazar",
           "club", "centro", "estudio", "oficina", "fundación", "corporación", "asociación", "municipalidad",
           "company", "shop", "store", "studio", "group", "grupo", "holding", "bakery", "garage", "workshop",
           "padaria", "loja", "mercearia", "магазин", "кафе", "ресторан", "мастерская",
           "салон", "студия", "компания", "пекарня"}


def looks_like_a_business(name: str) -> bool:
    words = [w.strip(",.()\"'«»").lower() for w in name.split()]
    if any(w in _LEGAL or w in _TRADES for w in words):
        return True
    return bool(re.search(r"\d", name)) or bool(re.search(r"\b(s\.a\.|e\.i\.r\.l\.|s\.l\.)", name.lower()))


def greeting_name(client) -> str:
    """The name a message greets the client by. A person by their first name ("Rosa"); a
    company by its name ("Taller Mecánico Soto", never "Taller"); the contact person of a
    company (its name in ``company``, a person in ``name``) by the person's first name."""
    name = " ".join((client.name or "").split())
    company = " ".join((getattr(client, "company", "") or "").split())
    if not name:
        return company
    if company and name.lower() == company.lower():
        return company
    if looks_like_a_business(name):
        return name
    return name.split(" ")[0]


CLIENT_LANGUAGES = ("es", "en", "pt", "ru")  # the customers' public pages and messages


def client_language(client, business) -> str:
    """The language messages to this client are written in: theirs, else the business's."""
    return client.language if client.language in CLIENT_LANGUAGES else business.language
