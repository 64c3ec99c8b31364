"""Client exports, CSV and XLSX, with the list's filters.

EXP-1: a text cell that a spreadsheet would read as a formula (= + - @, tab, CR, LF,
NUL first) gets a leading apostrophe, and so does such a character right after a ";"
(Excel's separator in Chile and Spain); numbers stay numbers. EXP-2: rows are read from
the database in batches (``yield_per``) and written as they come, so memory stays flat
whatever the count; XLSX goes through openpyxl's write-only mode and a temporary file."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from babel.numbers import get_currency_precision
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.models import User
from ..extensions import db
from ..i18n import UI_LANGUAGES, tax_id_label
from ..tables import download, file_name, neutralise  # noqa: F401 (still named here by clients/routes.py and importing.py)
from ..tenancy import bound
from ..territories.models import Portfolio, Territory
from . import loyalty
from .import_columns import fold
from .models import Client
from .services import ClientFilters, client_query, national

EXPORT_COLUMNS = (Client.name, Client.company, Client.tax_id, Client.email, Client.phone, Client.whatsapp,
                  Client.phone_shown, Client.whatsapp_shown,
                  Client.address, Client.kind, Client.tier, Client.is_key, Client.seller_id, Client.territory_id,
                  Client.portfolio_id, Client.sales_count, Client.last_sale_on, Client.revenue_12m, Client.created_at)
BATCH = 1000


@dataclass(frozen=True)
class Column:
    """One column of the client export: its header, and the import target its values go
    back to (``import_columns.TARGETS``), so a file exported here imports again, in any of
    the app's languages, with every column recognised. ``None``: the value is worked out
    by the app (the tier, from the sales) or is not the client's to set (created), so the
    import keeps it in the notes."""

    header: Callable[[str | None], str]  # country → header, in the current language
    target: str | None


COLUMNS = (
    Column(lambda country: _("Name"), "name"),
    Column(lambda country: _("Company"), "company"),
    Column(tax_id_label, "tax_id"),
    Column(lambda country: _("E-mail"), "email"),
    Column(lambda country: _("Phone"), "phone"),
    Column(lambda country: _("WhatsApp"), "whatsapp"),
    Column(lambda country: _("Address"), "address"),
    Column(lambda country: _("Type"), "kind"),
    Column(lambda country: _("Tier"), None),
    Column(lambda country: _("Key client"), "is_key"),
    Column(lambda country: _("Seller"), "seller"),
    Column(lambda country: _("Territory"), "territory"),
    Column(lambda country: _("Portfolio"), "portfolio"),
    Column(lambda country: _("Sales"), "purchases"),
    Column(lambda country: _("Last sale"), "last_purchase"),
    Column(lambda country: _("Sales, 12 months"), "total_12m"),
    Column(lambda country: _("Created"), None),
)


def headers(country: str | None = None) -> list[str]:
    """The header row, in the order ``_rows`` writes its cells."""
    return [column.header(country) for column in COLUMNS]


def import_aliases(headers_in_file: list[str], country: str | None = None) -> dict[str, str]:
    """Folded header → import target when the file is one of our client exports (in
    either UI language: exported by someone who works in English, imported in Spanish),
    else nothing. Only for our own export: alone, a header such as "Ventas" could be an
    amount in a shop's own sheet, so it is not a general alias of the number of purchases."""
    folded = {fold(header) for header in headers_in_file}
    for language in UI_LANGUAGES:
        with force_locale(language):
            ours = {fold(column.header(country)): column.target for column in COLUMNS}
        if len(folded & ours.keys()) >= len(ours) - 2:  # a column or two removed by hand
            return {header: target for header, target in ours.items() if target}
    return {}


def rows(user: User, filters: ClientFilters, business):
    """One list per client, in the list's order, read in batches.

    A streamed body is read after the request's teardown has unbound the tenant, so the
    generator binds it again, from the logged-in user's business (layer 1)."""
    with bound(business.id):
        yield from _rows(user, filters, business)


def shown(stored: str | None, e164: str | None, country: str) -> str:
    """A number as shown: the stored form, formatted here only for a row written before
    it was stored (or by a bulk insert that skipped the ORM)."""
    if stored:
        return stored
    return national(e164, country) if e164 else ""


def _rows(user: User, filters: ClientFilters, business):
    sellers = dict(db.session.execute(select(User.id, User.name)).all())
    territories = dict(db.session.execute(select(Territory.id, Territory.name)).all())
    portfolios = dict(db.session.execute(select(Portfolio.id, Portfolio.name)).all())
    tiers = {key: str(label) for key, label in loyalty.TIER_LABELS.items()}
    kinds = {"client": _("Client"), "prospect": _("Prospect")}
    yes, no = _("Yes"), _("No")
    divisor = 10 ** get_currency_precision(business.currency)
    # Plain columns, not ORM objects: three times faster per row (tenant scoping still applies).
    stmt = client_query(user, filters).with_only_columns(*EXPORT_COLUMNS).execution_options(yield_per=BATCH)
    # the cells in the order of ``COLUMNS`` (written out: exports call this for every row)
    for c in db.session.execute(stmt):
        yield [c.name, c.company, c.tax_id, c.email or "", shown(c.phone_shown, c.phone, business.country),
               shown(c.whatsapp_shown, c.whatsapp, business.country), c.address, kinds.get(c.kind, c.kind),
               tiers.get(c.tier, ""), yes if c.is_key else no, sellers.get(c.seller_id, ""),
               territories.get(c.territory_id, ""), portfolios.get(c.portfolio_id, ""), c.sales_count,
               c.last_sale_on.isoformat() if c.last_sale_on else "",
               c.revenue_12m / divisor if divisor > 1 else c.revenue_12m,
               c.created_at.date().isoformat()]
