"""Recording sales. Each sale refreshes its client's figures and tier; the post-sale
plan (issue 4) hooks in here."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from babel.numbers import NumberFormatError, get_currency_precision, parse_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..accounts.models import User
from ..clients.models import Client
from ..clients.services import refresh_client
from ..events import sale_deleting, sale_saved
from ..extensions import db
from ..i18n import business_today
from ..validation import FieldError
from .models import Sale

MAX_AMOUNT_MINOR = 10**13  # ten trillion minor units: far beyond any pyme's single sale


def parse_money(text: str | None, currency: str, locale: str, field_name: str) -> int | None:
    """What a person typed ("12.500" in Chile, "12,50" in Spain) → integer minor units."""
    text = (text or "").strip().replace(" ", "").lstrip("$€")
    if not text:
        return None
    try:
        value = parse_decimal(text, locale=locale, strict=False)
    except (NumberFormatError, InvalidOperation):
        raise FieldError(field_name, str(_l("Write an amount, like %(example)s.", example="12.500"))) from None
    minor = int((value * (10 ** get_currency_precision(currency))).to_integral_value())
    if abs(minor) >= MAX_AMOUNT_MINOR:
        raise FieldError(field_name, str(_l("That amount is too large.")))
    return minor


def margin_from(amount: int, margin_text: str | None, margin_kind: str, currency: str, locale: str) -> int | None:
    if not (margin_text or "").strip():
        return None
    if margin_kind == "percent":
        try:
            pct = parse_decimal(margin_text.strip().rstrip("%"), locale=locale, strict=False)
        except (NumberFormatError, InvalidOperation):
            raise FieldError("margin", str(_l("Write a percentage, like 30."))) from None
        if pct > 100:
            raise FieldError("margin", str(_l("The margin cannot be more than %(max)d%% of the amount.", max=100)))
        return int((Decimal(amount) * pct / 100).to_integral_value())
    return parse_money(margin_text, currency, locale, "margin")


def check_sale(*, sold_on: date, amount: int | None, margin: int | None, delivery_on: date | None,
               today: date) -> None:
    """The rules of a sale's figures and dates (no database): the sale form and the
    client import both go through here, so a file cannot bring in what the form refuses."""
    if amount is None:
        raise FieldError("amount", str(_l("Write the amount of the sale.")))
    if amount < 0:
        raise FieldError("amount", str(_l("The amount cannot be negative. Record a refund on the complaint.")))
    if margin is not None and margin > amount:
        raise FieldError("margin", str(_l("The margin cannot be larger than the amount.")))
    if sold_on > today:
        raise FieldError("sold_on", str(_l("A sale cannot be dated in the future.")))
    if sold_on < date(2000, 1, 1):
        raise FieldError("sold_on", str(_l("Check the year of the sale.")))
    if delivery_on is not None and delivery_on < sold_on:
        raise FieldError("delivery_on", str(_l("The delivery cannot be before the sale.")))
    if delivery_on is not None and delivery_on > sold_on + timedelta(days=730):
        raise FieldError("delivery_on", str(_l("The delivery must be within two years of the sale.")))


def record_sale(client: Client, *, sold_on: date, description: str, product_line: str, amount: int | None,
                margin: int | None, seller_id: int | None, delivery_on: date | None, actor: User,
                today: date | None = None, sale: Sale | None = None, commit: bool = True) -> Sale:
    """Validate and save a sale (new, or ``sale`` edited), then refresh the client.

    ``commit=False`` leaves the transaction open for a caller that saves many rows as
    one unit (the client import: all rows or none)."""
    today = today or business_today()
    check_sale(sold_on=sold_on, amount=amount, margin=margin, delivery_on=delivery_on, today=today)
    if seller_id and db.session.execute(
            select(User.id).where(User.id == seller_id, User.active.is_(True))).scalar_one_or_none() is None:
        raise FieldError("seller_id", str(_l("Choose an active member of your team.")))
    if sale is None:
        sale = Sale(client_id=client.id)
        db.session.add(sale)
    sale.sold_on, sale.description, sale.product_line = sold_on, description.strip(), (product_line or "").strip()
    sale.amount, sale.margin, sale.seller_id, sale.delivery_on = amount, margin, seller_id or None, delivery_on
    db.session.flush()
    refresh_client(client, today, actor)
    sale_saved.send(sale, client=client, today=today)  # visits plans the follow-up (rule 1: nothing is done at the signature)
    if commit:
        db.session.commit()
    return sale


def delete_sale(sale: Sale, client: Client, actor: User, commit: bool = True) -> None:
    """Delete a sale: its still-planned contacts go with it, logged ones stay as history,
    and a complaint about it keeps its case without the link (the handlers of
    ``events.sale_deleting`` in visits and complaints)."""
    sale_deleting.send(sale)
    db.session.delete(sale)
    db.session.flush()
    refresh_client(client, actor=actor)
    if commit:
        db.session.commit()
