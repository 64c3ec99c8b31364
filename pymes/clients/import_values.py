"""Client import, step 3a: cell values as people write them (dates, amounts, counts, yes/no,
kinds and channels, and what looks like a spreadsheet formula). Pure functions of the
text and the business's locale: no database. See ``importing.py`` for the steps."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from babel.dates import get_month_names
from babel.numbers import get_currency_precision

from .import_columns import fold

# --- dates and amounts as people write them ---------------------------------------------------

def _month_names(locale: str) -> dict[str, int]:
    """Month names and their abbreviations in the business's language, Spanish and English
    ("mar", "marzo", "march", "sept") → month number."""
    names: dict[str, int] = {}
    for language in dict.fromkeys((locale, "es", "en", "pt")):
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                try:
                    months = get_month_names(width, context, locale=language)
                except Exception:  # an unknown locale: the others still apply
                    continue
                for number, name in months.items():
                    names.setdefault(fold(name), number)
                    names.setdefault(fold(name)[:3], number)
    names.setdefault("sept", 9)
    names.setdefault("set", 9)
    return names


class ImpossibleDate(ValueError):
    """Day and month that do not exist together (31/04/2024): flagged, never guessed."""


EXCEL_EPOCH = date(1899, 12, 30)


def parse_day(text: str, locale: str, months: dict[str, int] | None = None) -> date:
    """``2025-03-31``, ``05-03-2025``, ``05/03/2025``, ``5.3.25``, ``5 mar 2025``,
    ``5 de marzo de 2025``, ``March 5, 2025`` or an Excel serial day; day first, month
    first only for en_US. ``ImpossibleDate`` when the day does not exist in that month."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}([ T].*)?", text):
        year, month, day = (int(p) for p in re.split(r"[-T ]", text)[:3])
        return _make_date(year, month, day)
    match = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(\s+\d{1,2}:\d{2}(:\d{2})?)?", text)
    if match:
        first, second, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        year = year + 2000 if year < 100 else year
        month, day = (first, second) if locale.endswith("_US") else (second, first)
        return _make_date(year, month, day)
    if re.fullmatch(r"\d{5}(\.0+)?", text) and 20000 <= float(text) <= 80000:  # an Excel day number as text
        return EXCEL_EPOCH + timedelta(days=int(float(text)))
    months = months if months is not None else _month_names(locale)
    words = [fold(w) for w in re.split(r"[\s,./\-]+", text)]
    words = [w for w in words if w and w not in ("de", "del", "of", "the")]
    if len(words) == 3:
        numbers = [w for w in words if w.isdigit()]
        named = [months.get(w) or months.get(w[:3]) for w in words if not w.isdigit()]
        if len(numbers) == 2 and len(named) == 1 and named[0]:
            day, year = (int(numbers[0]), int(numbers[1])) if len(numbers[1]) == 4 else \
                (int(numbers[1]), int(numbers[0]))
            if len(numbers[0]) == 4:
                year, day = int(numbers[0]), int(numbers[1])
            return _make_date(year + 2000 if year < 100 else year, named[0], day)
    raise ValueError(text)


def _make_date(year: int, month: int, day: int) -> date:
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1900 <= year <= 2999):
        raise ValueError(f"{year}-{month}-{day}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ImpossibleDate(f"{year}-{month}-{day}") from None


def parse_amount(text: str, currency: str, locale: str) -> int | None:
    """``$12.990``, ``12.990``, ``1.234,50``, ``12,990.00``, ``US$ 45``, ``CLP 12990`` →
    integer minor units of ``currency``. When both separators appear, the last one is
    the decimal mark; when only one appears, the business's locale decides, except that
    a single separator followed by exactly three digits in a currency without cents
    (``12,990`` in pesos) groups thousands. ``ValueError`` when it is not an amount."""
    from babel.numbers import get_decimal_symbol

    cleaned = re.sub(r"[^\d.,\-]", "", text.replace("\u00a0", " "))
    if not cleaned or not re.search(r"\d", cleaned):
        if text.strip():
            raise ValueError(text)
        return None
    negative = cleaned.startswith("-")
    cleaned = cleaned.lstrip("-")
    precision = get_currency_precision(currency)
    if "." in cleaned and "," in cleaned:
        decimal_mark = "." if cleaned.rfind(".") > cleaned.rfind(",") else ","
    elif "." in cleaned or "," in cleaned:
        mark = "." if "." in cleaned else ","
        head, _sep, tail = cleaned.rpartition(mark)
        if cleaned.count(mark) > 1:
            decimal_mark = "," if mark == "." else "."  # 1.234.567: only thousands
        elif precision == 0 and len(tail) == 3:
            decimal_mark = "," if mark == "." else "."
        else:
            try:
                decimal_mark = get_decimal_symbol(locale)
            except Exception:
                decimal_mark = ","
            if mark != decimal_mark and len(tail) != 3:
                decimal_mark = mark  # "12.5" in Chile is not twelve thousand five
    else:
        decimal_mark = "."
    group = "," if decimal_mark == "." else "."
    normal = cleaned.replace(group, "").replace(decimal_mark, ".")
    try:
        value = Decimal(normal)
    except InvalidOperation:
        raise ValueError(text) from None
    minor = int((value * (10 ** precision)).to_integral_value())
    if minor >= 10 ** 15:
        raise ValueError(text)
    return -minor if negative else minor


def _count(text: str) -> int:
    cleaned = re.sub(r"[\s.,](?=\d{3}\b)", "", text.strip())
    if not re.fullmatch(r"\d{1,6}(\.0+)?", cleaned):
        raise ValueError(text)
    return int(float(cleaned))


# --- one row -------------------------------------------------------------------------------

KINDS = {"cliente": "client", "client": "client", "customer": "client", "prospecto": "prospect",
         "prospect": "prospect", "potencial": "prospect", "lead": "prospect"}
CHANNELS = {"whatsapp": "whatsapp", "wsp": "whatsapp", "telefono": "phone", "phone": "phone", "llamada": "phone",
            "call": "phone", "correo": "email", "email": "email", "mail": "email", "visita": "visit",
            "visit": "visit"}
YES = {"si", "s", "yes", "y", "x", "1", "true", "verdadero"}
NO = {"no", "n", "0", "false", "falso"}
SPLIT = re.compile(r"\s*:::\s*|\s*[;\n]\s*|\s+/\s+")


def formula_like(text: str) -> bool:
    """A cell a spreadsheet would run as a formula (EXP-1's list); phones such as
    ``+56 9 1234 5678`` and numbers such as ``-5`` are not."""
    if not text or text[0] not in "=+-@":
        return False
    if text[0] in "=@":
        return True
    # Google Contacts writes several numbers in one cell: "+56 9 … ::: +56 2 …"
    return any(re.search(r"[^0-9 .,()+\-]", part) for part in SPLIT.split(text[1:]))
