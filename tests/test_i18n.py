"""Translations: the catalogs are complete, and each visitor sees the right language.

msgids are English in the source. Every string extracted from pymes/ and templates/
must have a non-fuzzy translation in translations/es and translations/en with the
same %-placeholders. When this fails after you added a string: run
``scripts/i18n extract``, translate the new ``msgstr ""`` entries in
translations/es/LC_MESSAGES/messages.po, then ``scripts/i18n compile``.

A regional catalog (translations/regional/es_ES) is the exception: it holds only the words a
country says differently ("reclamación" in Spain for "reclamo") and is read on top of
its language's catalog for a business in that country, so it is never complete; the
rule for it is that it only overrides (see the regional tests at the end)."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from .factories import csrf_token, login

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ("es", "en")

# %(name)s, %(num)d, %s, %%: every conversion specifier Python's %-formatting knows.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")


# --- compiled catalogs ---------------------------------------------------------------

def _compile_if_stale() -> None:
    """scripts/setup compiles the catalogs for everyone; this keeps the module working
    right after a clone, or after a .po file was edited without recompiling."""
    for po in sorted([*TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"), *TRANSLATIONS.glob("regional/*/LC_MESSAGES/messages.po")]):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog)
        os.replace(tmp, mo)


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogs():
    _compile_if_stale()


# --- the catalogs are complete ---------------------------------------------------------

def _extract(tmp_path: Path):
    """Extract the messages from the source now, as ``scripts/i18n extract`` does
    (keep the options in step with it)."""
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2",
        "--ignore-dirs", ".* ._ __pycache__ node_modules",
        "--no-location", "--sort-output", "-o", str(pot), str(ROOT),
    ])
    with pot.open("rb") as f:
        return read_po(f)


def _catalog(language: str):
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"{path} is missing: run scripts/i18n extract"
    with path.open("rb") as f:
        return read_po(f, locale=language)


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _show(msgid) -> str:
    return repr(msgid[0] if isinstance(msgid, (list, tuple)) else msgid)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    return _extract(tmp_path_factory.mktemp("i18n"))


def test_extraction_finds_the_source_strings(extracted):
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in extracted if m.id}
    # One msgid from each kind of source: a template, a Python gettext, a lazy_gettext, a plural, an e-mail.
    assert {"Log in", "Wrong e-mail or password.", "This field is required.", "%(num)d person in the team",
            "Hello %(name)s,"} <= ids


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(extracted, language):
    catalog = _catalog(language)
    problems = []
    for source in extracted:
        if not source.id:
            continue
        entry = catalog.get(source.id, context=source.context)
        if entry is None:
            problems.append(f"not in the catalog (run scripts/i18n extract): {_show(source.id)}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {_show(source.id)}")
        if isinstance(source.id, (list, tuple)):
            forms = entry.string if isinstance(entry.string, (list, tuple)) else (entry.string,)
            if len(forms) != catalog.num_plurals or not all(forms):
                problems.append(f"plural forms missing: {_show(source.id)}")
                continue
            expected = set(_placeholders(source.id[0])) | set(_placeholders(source.id[1]))
            for form in forms:
                if set(_placeholders(form)) != expected:
                    problems.append(f"placeholders differ: {_show(source.id)} -> {form!r}")
        else:
            if not entry.string:
                problems.append(f"not translated: {_show(source.id)}")
            elif _placeholders(entry.string) != _placeholders(source.id):
                problems.append(f"placeholders differ: {_show(source.id)} -> {entry.string!r}")
    assert not problems, f"translations/{language}: {len(problems)} problem(s):\n  " + "\n  ".join(problems)


def test_placeholder_check_catches_mistakes():
    assert _placeholders("Hola, %(name)s: %(num)d") == ["%(name)s", "%(num)d"]
    assert _placeholders("Hola, %(nombre)s") != _placeholders("Hello, %(name)s")
    assert _placeholders("50 % de descuento") != _placeholders("50 off")  # a lone % breaks Jinja's formatting
    assert _placeholders("50%% de descuento") == _placeholders("50%% off")


# --- who sees which language ---------------------------------------------------------------

def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/login"])
def test_anonymous_pages_are_spanish_by_default(client, path):
    html = _html(client.get(path))
    assert '<html lang="es">' in html
    assert "Iniciar sesión" in html
    assert "Log in" not in html


@pytest.mark.parametrize("path", ["/", "/login"])
def test_anonymous_pages_follow_the_browser_language(client, path):
    html = _html(client.get(path, headers={"Accept-Language": "en"}))
    assert '<html lang="en">' in html
    assert "Log in" in html
    assert "Iniciar sesión" not in html


def test_browser_preferences_pick_the_best_supported_language(client):
    assert "Log in" in _html(client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}))
    assert "Iniciar sesión" in _html(client.get("/login", headers={"Accept-Language": "es-CL,es;q=0.9,en;q=0.8"}))
    assert "Iniciar sesión" in _html(client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}))


def test_visitor_language_choice_is_remembered(client):
    response = client.post("/language", data={"csrf_token": csrf_token(client, "/"), "lang": "en", "next": "/login"})
    assert response.status_code == 303
    html = _html(client.get("/login"))
    assert '<html lang="en">' in html and "Log in" in html
    # The choice beats the browser's preference, both ways.
    assert "Log in" in _html(client.get("/", headers={"Accept-Language": "es"}))
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "lang": "es"})
    assert "Iniciar sesión" in _html(client.get("/login", headers={"Accept-Language": "en"}))


def test_unknown_language_choice_is_ignored(client):
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "lang": "fr"})
    assert "Iniciar sesión" in _html(client.get("/login"))


def test_logged_in_user_sees_their_own_language_whatever_the_browser_says(client, make):
    business = make.business()
    user = make.user(business, language="en")
    assert login(client, user.email).status_code == 303
    for accept in ("es", "es-CL,es;q=0.9", None):
        html = _html(client.get("/", headers={"Accept-Language": accept} if accept else {}))
        assert '<html lang="en">' in html
        assert "Log out" in html and "Cerrar sesión" not in html


def test_spanish_user_sees_spanish_even_with_an_english_browser(client, make):
    user = make.user(make.business(), language="es")
    login(client, user.email)
    html = _html(client.get("/", headers={"Accept-Language": "en"}))
    assert '<html lang="es">' in html
    assert "Cerrar sesión" in html and "Log out" not in html


def test_messages_from_python_code_are_translated(client):
    """gettext in a route and lazy_gettext in a form reach the page in Spanish."""
    token = csrf_token(client, "/login")
    html = client.post("/login", data={"csrf_token": token, "email": "nadie@example.com",
                                       "password": "no es la clave"}).get_data(as_text=True)
    assert "Correo o contraseña incorrectos." in html
    html = client.post("/login", data={"csrf_token": token, "email": "", "password": ""}).get_data(as_text=True)
    assert "Este campo es obligatorio." in html


def test_plural_forms(app):
    from flask_babel import force_locale, ngettext

    with app.test_request_context():
        with force_locale("es"):
            assert ngettext("%(num)d person in the team", "%(num)d people in the team", 1) == "1 persona en el equipo"
            assert ngettext("%(num)d person in the team", "%(num)d people in the team", 3) == "3 personas en el equipo"
        with force_locale("en"):
            assert ngettext("%(num)d person in the team", "%(num)d people in the team", 3) == "3 people in the team"


def test_emails_are_written_in_the_recipient_language(app, outbox):
    from pymes.mail import send_email

    user = type("U", (), {"name": "Ana"})()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        send_email("ana@example.com", "x", "account_exists", "es", user=user, login_url="L", reset_url="R")
    body = outbox.last("ana@example.com").get_body(preferencelist=("plain",)).get_content()
    assert "Hola, Ana:" in body and "Iniciar sesión:" in body


# --- regional catalogs: only the words a country says differently ------------------------

def _regional_catalogs():
    """translations/regional/<language>_<COUNTRY>/: es_ES ("reclamación", "móvil", "importe")."""
    return sorted(p.parent.parent.name for p in TRANSLATIONS.glob("regional/*/LC_MESSAGES/messages.po"))


def test_there_is_a_regional_catalog_for_spain():
    assert "es_ES" in _regional_catalogs()


@pytest.mark.parametrize("regional", _regional_catalogs())
def test_a_regional_catalog_only_overrides_its_language(extracted, regional):
    """Not complete on purpose: every entry overrides a msgid the source still uses and
    the language's catalog translates, with the same placeholders and different words
    (a copy would be dead weight that goes stale)."""
    language = regional.split("_")[0]
    base = _catalog(language)
    with (TRANSLATIONS / "regional" / regional / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=regional)
    problems = []
    entries = [m for m in catalog if m.id]
    assert entries, f"{regional} is empty"
    assert len(entries) < len(base) / 4, f"{regional} should hold only the words that differ"
    for message in entries:
        source = extracted.get(message.id, context=message.context)
        under = base.get(message.id, context=message.context)
        if source is None:
            problems.append(f"no longer in the source: {_show(message.id)}")
            continue
        if message.fuzzy or not all(message.string if isinstance(message.string, (list, tuple)) else [message.string]):
            problems.append(f"fuzzy or empty: {_show(message.id)}")
            continue
        if under is not None and under.string == message.string:
            problems.append(f"same as {language}, drop it: {_show(message.id)}")
        ids = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
        expected = set().union(*(_placeholders(i) for i in ids))
        for form in (message.string if isinstance(message.string, (list, tuple)) else (message.string,)):
            if set(_placeholders(form)) != expected:
                problems.append(f"placeholders differ: {_show(message.id)} -> {form!r}")
    assert not problems, f"translations/{regional}: {len(problems)} problem(s):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("country, currency, zone, expected, absent", [
    ("ES", "EUR", "Europe/Madrid", "Reclamaciones", "Reclamos"),
    ("CL", "CLP", "America/Santiago", "Reclamos", "Reclamaciones"),
    ("MX", "MXN", "America/Mexico_City", "Reclamos", "Reclamaciones"),
])
def test_the_business_country_picks_the_regional_words(client, make, country, currency, zone, expected, absent):
    user = make.user(make.business(country=country, currency=currency, timezone=zone), language="es")
    login(client, user.email)
    html = _html(client.get("/complaints"))
    assert '<html lang="es">' in html  # the UI language stays Spanish; only the words change
    assert expected in html and absent not in html


def test_words_spain_does_not_override_read_as_in_spanish(client, make):
    user = make.user(make.business(country="ES", currency="EUR", timezone="Europe/Madrid"), language="es")
    login(client, user.email)
    html = _html(client.get("/"))
    assert "Cerrar sesión" in html  # in es, not in es_ES: falls back to the Spanish catalog


def test_an_english_user_of_a_spanish_business_reads_english(client, make):
    user = make.user(make.business(country="ES", currency="EUR", timezone="Europe/Madrid"), language="en")
    login(client, user.email)
    html = _html(client.get("/complaints"))
    assert "Complaints" in html and "Reclamaciones" not in html


def test_a_message_written_for_a_business_in_spain_uses_its_words(app, make):
    from pymes.clients.models import Client
    from pymes.complaints.models import Complaint
    from pymes.complaints.services import message_to_client
    from pymes.tenancy import bound

    business = make.business(country="ES", currency="EUR", timezone="Europe/Madrid")
    with app.test_request_context(), bound(business.id):  # a job: no logged-in business
        subject, _text = message_to_client(Complaint(remedy="replacement"), Client(name="Rosa Díaz"), business)
    assert subject == f"Sobre tu reclamación a {business.name}"


def test_a_scheduled_job_writes_in_the_words_of_each_business_country(app, make):
    """Jobs run outside any request (no logged-in business): EachTenant gives each
    business's e-mails its country's words."""
    from flask_babel import force_locale, gettext

    from pymes.jobs import EachTenant

    spain = make.business(country="ES", currency="EUR", timezone="Europe/Madrid")
    chile = make.business(country="CL")
    seen = {}
    with app.app_context():
        run = EachTenant("test")
        for business in (spain, chile):
            with run.tenant(business.id), force_locale("es"):
                seen[business.country] = gettext("Complaints")
        assert run.finish(2) == 2
    assert seen == {"ES": "Reclamaciones", "CL": "Reclamos"}
