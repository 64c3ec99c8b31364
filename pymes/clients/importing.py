"""Client import: read the file, map its columns, check every row, find duplicates,
then import every accepted row in one transaction (all or nothing), and undo it.

The steps:

1. ``import_files.read_upload`` turns the bytes (CSV, XLSX or vCard) into a header
   and rows of text, with the hostile-file limits.
2. ``import_columns.detect_all`` gives every column a target (the name, a part of the
   name, a phone, the notes, a sale's amount, a summary figure…). The owner can change
   any of them on the preview (``set_mapping``); the choice is remembered for the next
   file with the same headers (``ClientImport.headers_key``). A file whose name column
   is not recognised is not refused: the preview asks the owner to pick it.
3. ``import_rows.analyse`` builds each row's client with the same rules as the client form
   (``ClientForm``, ``services.normalise_phone``). Nothing is silently lost: the parts
   of a name are joined, several phones are sorted by phonenumbers' number type (a
   mobile becomes the WhatsApp number, and the phone when there is no landline),
   extra e-mails and numbers, unknown columns, and any value that cannot go in its
   field land in the notes as ``Header: value`` with a warning on the row. A row is
   *rejected* only when the client itself cannot be saved (no name, a field too long);
   an incomplete or wrong sale never rejects its client (the row gets a warning).
   A row is a *duplicate* (same e-mail or E.164 phone as a client of the book or an
   earlier row) or *new*.
4. Summary columns (last purchase, number of purchases, totals) become an opening
   balance (``ClientOpening``, see ``loyalty.opening_dates``), so that a client with 12
   purchases last year is frequent on day one. An amount with a date and no
   description becomes a sale described as an imported purchase.
5. ``run_import`` re-checks the rows, creates the clients, merges the chosen
   duplicates (filling empty fields, or overwriting only when the owner chose so),
   records the sales, and writes down what it did (``ClientImport.undo``) so that
   ``undo_import`` can take it back for ``UNDO_DAYS`` days.

Where each step lives: reading in ``import_files.py``, mapping in ``import_columns.py``,
values as people write them (dates, amounts, counts) in ``import_values.py``, checking
rows in ``import_rows.py`` (no writes), and this module applies: the import's record,
the all-or-nothing run, undo and the report of what was not imported. The routes are
in ``import_routes.py`` on the clients blueprint.
"""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from ..accounts.models import User
from ..db import utcnow
from ..extensions import db
from ..sales.models import Sale
from ..validation import FieldError
from ..visits.services import cadence, plan_for_new_sales, plan_for_sale
from . import export
from .export import neutralise
from .import_columns import BY_KEY, MULTI, TARGETS, detect_all, fold, headers_key
from .import_files import UploadProblem, max_bytes, max_rows, read_upload, size_label  # noqa: F401 (the routes reach them here)
from .import_rows import analyse, counts, has_name_column, load_context
from .models import Client, ClientImport, ClientOpening
from .services import place_on_ladder, refresh_client, rules

UNDO_DAYS = 7
COLUMNS = TARGETS  # what the upload page lists


def template_labels(headers: list[str] | None = None, country: str | None = None) -> dict[str, str]:
    """The template's own headers (in the UI language) as aliases of their targets, and,
    for a file that is one of our client exports, its headers: it imports again with
    every column recognised."""
    labels = export.import_aliases(headers or [], country)
    labels.update({fold(str(t.label)): t.key for t in TARGETS if t.group in ("client", "sale", "summary")
                   and t.key not in ("name_part", "address_part")})
    return labels


def template_headers() -> list[str]:
    return [str(t.label) for t in TARGETS if t.group in ("client", "sale")
            and t.key not in ("name_part", "address_part")] + [str(BY_KEY[k].label) for k in (
                "last_purchase", "purchases", "total_spent")]


def _remembered_mapping(headers: list[str]) -> dict[str, str] | None:
    key = headers_key(headers)
    return db.session.execute(
        select(ClientImport.mapping).where(ClientImport.headers_key == key, ClientImport.mapping_chosen.is_(True))
        .order_by(ClientImport.updated_at.desc(), ClientImport.id.desc()).limit(1)).scalar_one_or_none()


def create_import(user: User, business, file_name: str, data: bytes, today: date) -> ClientImport:
    """Read and check an uploaded file and keep it for the preview (``UploadProblem`` when
    the file as a whole is unusable; nothing is stored then)."""
    sheet = read_upload(file_name, data, business.locale)
    notes = list(sheet.notes)
    remembered = _remembered_mapping(sheet.headers)
    if remembered and len(remembered) == len(sheet.headers):
        mapping = remembered
        notes.append(_("The columns go where you chose last time for a file with these headers; change them "
                       "below if needed."))
    else:
        mapping = detect_all(sheet.headers, template_labels(sheet.headers, business.country))
    record = ClientImport(created_by_id=user.id, file_name=file_name.replace("\x00", "")[:200],
                          headers=sheet.headers, mapping=mapping, notes=notes,
                          rows=[{"n": r["n"], "cells": r["cells"]} for r in sheet.rows],
                          headers_key=headers_key(sheet.headers), mapping_chosen=False)
    _analyse_record(record, business, today)
    db.session.add(record)
    db.session.commit()
    return record


def _analyse_record(record: ClientImport, business, today: date, choices: dict[int, str] | None = None) -> None:
    if not has_name_column(record.mapping):
        record.rows = [{"n": r["n"], "cells": r["cells"]} for r in record.rows]
        record.summary = {"needs_name": 1, "new": 0, "duplicate": 0, "rejected": 0, "sales": 0, "warned": 0,
                          "openings": 0}
        return
    rows = analyse(record.rows, record.headers, record.mapping, load_context(business, today), choices)
    record.rows = rows
    record.summary = counts(rows)


def set_mapping(record: ClientImport, business, today: date, chosen: dict[str, str]) -> list[str]:
    """The owner's targets for the columns (position → key); the rows are checked again.
    Returns the problems of the choice (a single-valued target chosen twice)."""
    if record.status != "preview":
        return [_("This file was already imported.")]
    mapping = dict(record.mapping)
    for position, key in chosen.items():
        if position in mapping and key in BY_KEY:
            mapping[position] = key
    taken: dict[str, list[str]] = {}
    for position, key in mapping.items():
        taken.setdefault(key, []).append(position)
    errors = [_("“%(target)s” is chosen for several columns (%(columns)s): choose it for one only.",
                target=BY_KEY[key].label, columns=", ".join(record.headers[int(p)] for p in positions))
              for key, positions in taken.items() if len(positions) > 1 and key not in MULTI]
    if errors:
        return errors
    record.mapping = mapping
    record.mapping_chosen = True
    _analyse_record(record, business, today)
    db.session.commit()
    return []


# --- importing -----------------------------------------------------------------------------

class ImportFailed(Exception):
    """The import was rolled back as a whole; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


MERGE_FIELDS = ("company", "tax_id", "email", "phone", "whatsapp", "address", "territory_id", "portfolio_id",
                "seller_id", "preferred_channel", "notes")


def merge_into(client: Client, values: dict, overwrite: bool = False) -> dict[str, object]:
    """Fill the client's empty fields from the row; a field that has a value keeps it,
    unless the owner chose to overwrite (then the file's non-empty values win; notes
    are appended, never replaced). Returns the fields changed and their old values."""
    old: dict[str, object] = {}
    for name in MERGE_FIELDS:
        new, current = values.get(name), getattr(client, name)
        if not new or new == current:
            continue
        if name == "notes" and current:
            if overwrite or new not in current:
                old[name] = current
                client.notes = f"{current}\n{new}"[:5000]
            continue
        if not current or overwrite:
            old[name] = current
            setattr(client, name, new)
    if values.get("is_key") and not client.is_key:
        old["is_key"] = False
        client.is_key = True
    return old


def _signature(rows: list[dict]) -> list:
    return [(r["n"], r["status"], (r["dup"] or {}).get("client_id"), (r["dup"] or {}).get("row")) for r in rows]


def refresh(record: ClientImport, business, today: date, choices: dict[int, str]) -> bool:
    """Check the rows again against the book as it is now. False (and the preview
    updated) when the answer changed since the preview: a client was added or deleted."""
    rows = analyse(record.rows, record.headers, record.mapping, load_context(business, today), choices)
    changed = _signature(rows) != _signature(record.rows)
    record.rows = rows
    record.summary = counts(rows)
    return not changed


def _add_opening(client: Client, opening: dict, record: ClientImport, new: bool, opened: set[int]) -> bool:
    """Keep a row's summary as the client's opening balance; a client that has one
    already (an earlier import, or an earlier row of this file) keeps it. A client the
    import creates had none before it: no query for those."""
    if client.id in opened or (not new and db.session.execute(
            select(ClientOpening.id).where(ClientOpening.client_id == client.id)).first()):
        return False
    opened.add(client.id)
    db.session.add(ClientOpening(
        client_id=client.id, import_id=record.id, purchases=opening["purchases"], period=opening["period"],
        first_purchase_on=date.fromisoformat(opening["first_on"]) if opening["first_on"] else None,
        last_purchase_on=date.fromisoformat(opening["last_on"]), total_amount=opening["total"],
        total_period=opening["total_period"]))
    return True


def run_import(record: ClientImport, user: User, business, today: date, choices: dict[int, str]) -> dict:
    """Import the accepted rows of a previewed file in one transaction: every new client,
    every merge the user chose and every sale, or (on any error) nothing at all.

    A concurrent second confirm of the same file finds its status already changed (the
    guarded UPDATE below matches no row) and is rolled back: the file is imported once."""
    if record.status != "preview":
        raise ImportFailed(_("This file was already imported."))
    if not has_name_column(record.mapping):
        raise ImportFailed(_("Choose the column that holds the clients' names first."))
    if not refresh(record, business, today, choices):
        db.session.commit()
        raise ImportFailed(_("Your client book changed since the preview (a client was added or deleted). Check "
                             "the rows again and confirm."))
    rows = record.rows
    undo: dict = {"clients": [], "sales": [], "merged": {}, "openings": []}
    try:
        created: dict[int, Client] = {}
        for row in rows:
            if row["status"] == "new":
                created[row["n"]] = Client(**row["values"])
        db.session.add_all(created.values())
        db.session.flush()
        undo["clients"] = [c.id for c in created.values()]
        merging = [r for r in rows if r["status"] == "duplicate" and r["choice"] in ("merge", "overwrite")]
        existing_ids = {r["dup"]["client_id"] for r in merging if "client_id" in r["dup"]}
        existing = {c.id: c for c in db.session.execute(
            select(Client).where(Client.id.in_(existing_ids))).scalars()} if existing_ids else {}
        targets: dict[int, Client] = dict(created)
        merged = 0
        for row in merging:
            dup = row["dup"]
            client = existing.get(dup["client_id"]) if "client_id" in dup else created.get(dup["row"])
            if client is None:
                raise ImportFailed(_("A client to merge into was deleted meanwhile. Upload the file again."))
            old = merge_into(client, row["values"], overwrite=row["choice"] == "overwrite")
            if client.id not in undo["clients"] and old:
                before = undo["merged"].setdefault(str(client.id), {})
                for name, value in old.items():
                    before.setdefault(name, value)
            targets[row["n"]] = client
            merged += 1
        openings = 0
        new_ids, opened = set(undo["clients"]), set()
        for row in rows:
            client = targets.get(row["n"])
            if client is not None and row.get("opening") and _add_opening(client, row["opening"], record,
                                                                              client.id in new_ids, opened):
                openings += 1
                if client.id not in undo["clients"]:
                    undo["openings"].append(client.id)
        db.session.flush()
        made = _add_sales(rows, targets)
        undo["sales"] = [sale.id for _client, sale in made]
        sales = len(made)
        _place_clients(rows, targets, made, set(undo["clients"]), user, today)
        follow_up = cadence()  # after the tiers: a check-in's distance depends on the tier
        created_ids = set(undo["clients"])
        for client, sale in made:
            if client.id not in created_ids:
                plan_for_sale(sale, client, rules=follow_up, today=today)  # rule 1, as for a sale typed in
        plan_for_new_sales([(sale, client) for client, sale in made if client.id in created_ids], follow_up, today)
        summary = dict(counts(rows), created=len(created), merged=merged, sales_recorded=sales, openings=openings,
                       skipped=sum(1 for r in rows if r["status"] == "duplicate"
                                   and r["choice"] not in ("merge", "overwrite")))
        claimed = db.session.execute(
            update(ClientImport).where(ClientImport.id == record.id, ClientImport.status == "preview")
            .values(status="imported", summary=summary, rows=rows, undo=undo, imported_at=utcnow(),
                    updated_at=utcnow())
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            raise ImportFailed(_("This file was already imported."))
        db.session.commit()
    except ImportFailed:
        db.session.rollback()
        raise
    except FieldError as error:
        db.session.rollback()
        raise ImportFailed(_("Nothing was imported: %(reason)s", reason=error.message)) from error
    except Exception:
        db.session.rollback()
        current_app.logger.exception("client import %s rolled back", record.id)
        raise ImportFailed(_("Nothing was imported: the database refused a row. Your client book is as it was; "
                             "try again, or upload the file again.")) from None
    db.session.refresh(record)
    return summary


def _add_sales(rows: list[dict], targets: dict[int, Client]) -> list[tuple[Client, Sale]]:
    """The rows' sales, saved together. Each was checked by the sale form's rules when the
    rows were analysed, again at confirm (``refresh``), with its seller among the active
    team: what ``sales.services.record_sale`` checks one at a time."""
    made = []
    for row in rows:
        client, sale = targets.get(row["n"]), row.get("sale")
        if client is None or not sale:
            continue
        made.append((client, Sale(
            client_id=client.id, sold_on=date.fromisoformat(sale["sold_on"]), description=sale["description"].strip(),
            product_line=(sale["product_line"] or "").strip(), amount=sale["amount"], margin=sale["margin"],
            seller_id=sale["seller_id"] or None,
            delivery_on=date.fromisoformat(sale["delivery_on"]) if sale["delivery_on"] else None)))
    db.session.add_all([sale for _client, sale in made])
    db.session.flush()
    return made


def _place_clients(rows: list[dict], targets: dict[int, Client], made: list[tuple[Client, Sale]],
                   created: set[int], user: User, today: date) -> None:
    """Every client the import gave a sale or an opening balance, placed on the ladder once
    (not once per sale). A client this import created has no sales but the file's, no
    answers, referrals or testimonials: its figures come from memory. A client it merged
    into is recomputed from the database (``refresh_client``)."""
    real: dict[int, list[tuple[date, int]]] = {}
    for client, sale in made:
        real.setdefault(client.id, []).append((sale.sold_on, sale.amount or 0))
    placed = {client.id: client for client, _sale in made}
    placed.update({c.id: c for r in rows if r.get("opening") and (c := targets.get(r["n"])) is not None})
    new_ids = [i for i in placed if i in created]
    openings: dict[int, ClientOpening] = {}
    for start in range(0, len(new_ids), 500):
        openings.update({o.client_id: o for o in db.session.execute(
            select(ClientOpening).where(ClientOpening.client_id.in_(new_ids[start:start + 500]))).scalars()})
    tier_rules = rules()
    window_start = today - timedelta(days=365)
    for client_id, client in placed.items():
        if client_id not in created:
            refresh_client(client, today, user)
            continue
        sold = real.get(client_id, [])
        revenue = sum(amount for day, amount in sold if window_start < day <= today)
        place_on_ladder(client, [day for day, _amount in sold], revenue, openings.get(client_id), today, user,
                        tier_rules=tier_rules)


# --- undo ----------------------------------------------------------------------------------

def can_undo(record: ClientImport, now=None) -> bool:
    now = now or utcnow()
    return (record.status == "imported" and record.undone_at is None and record.imported_at is not None
            and now - record.imported_at <= timedelta(days=UNDO_DAYS))


def undo_deadline(record: ClientImport):
    return record.imported_at + timedelta(days=UNDO_DAYS) if record.imported_at else None


def _used_since(client_ids: list[int], import_sales: list[int]) -> set[int]:
    """Clients created by the import that the team has worked with since: a sale the
    import did not make, a logged contact, a feedback link, a complaint or a referral.
    Undo keeps them (and says so) rather than delete that work."""
    from ..complaints.models import Complaint
    from ..feedback.models import FeedbackLink
    from ..referrals.models import Referral
    from ..sales.models import Sale
    from ..visits.models import Activity

    if not client_ids:
        return set()
    used: set[int] = set()
    ids = list(client_ids)
    used.update(db.session.execute(select(Sale.client_id).where(
        Sale.client_id.in_(ids), Sale.id.not_in(import_sales or [0]))).scalars())
    used.update(db.session.execute(select(Activity.client_id).where(
        Activity.client_id.in_(ids), Activity.status != "planned")).scalars())
    used.update(db.session.execute(select(FeedbackLink.client_id).where(FeedbackLink.client_id.in_(ids))).scalars())
    used.update(db.session.execute(select(Complaint.client_id).where(Complaint.client_id.in_(ids))).scalars())
    used.update(db.session.execute(select(Referral.referrer_id).where(Referral.referrer_id.in_(ids))).scalars())
    used.update(db.session.execute(select(Referral.prospect_id).where(Referral.prospect_id.in_(ids))).scalars())
    return used


def undo_import(record: ClientImport, user: User, today: date) -> dict:
    """Take an import back: delete the clients it created (with their sales, plans and
    history) and the sales it added to existing clients, put back the fields it filled
    or overwrote, remove the opening balances it added. Clients the team has worked
    with since are kept and counted. One transaction."""
    from ..sales.models import Sale
    from ..sales.services import delete_sale
    from .services import refresh_client

    if not can_undo(record):
        raise ImportFailed(_("This import can no longer be undone (only for %(days)d days after it).",
                           days=UNDO_DAYS))
    undo = record.undo or {}
    created = [int(i) for i in undo.get("clients", [])]
    import_sales = [int(i) for i in undo.get("sales", [])]
    try:
        kept = _used_since(created, import_sales)
        removing = [cid for cid in created if cid not in kept]
        # sales the import added to clients that stay (merged ones and kept ones)
        for sale in db.session.execute(select(Sale).where(Sale.id.in_(import_sales or [0]),
                                                          Sale.client_id.not_in(removing or [0]))).scalars().all():
            client = db.session.get(Client, sale.client_id)
            delete_sale(sale, client, user, commit=False)
        for cid, fields in (undo.get("merged") or {}).items():
            client = db.session.get(Client, int(cid))
            if client is None:
                continue
            for name, value in fields.items():
                setattr(client, name, value)
        touched = [int(c) for c in undo.get("openings", [])] + list(kept)
        if touched:
            db.session.execute(delete(ClientOpening).where(ClientOpening.client_id.in_(touched),
                                                           ClientOpening.import_id == record.id))
        if removing:
            db.session.execute(delete(Client).where(Client.id.in_(removing)).execution_options(
                synchronize_session=False))
        db.session.flush()
        for cid in set(touched) | {int(c) for c in (undo.get("merged") or {})}:
            client = db.session.get(Client, cid)
            if client is not None:
                refresh_client(client, today, user)
        result = {"removed": len(removing), "kept": len(kept), "restored": len(undo.get("merged") or {})}
        record.undone_at = utcnow()
        record.undone_by_id = user.id
        record.summary = dict(record.summary or {}, undone=result)
        db.session.commit()
    except ImportFailed:
        db.session.rollback()
        raise
    except Exception:
        db.session.rollback()
        current_app.logger.exception("undo of client import %s rolled back", record.id)
        raise ImportFailed(_("The import could not be undone; nothing changed. Try again.")) from None
    return result


# --- files for the user --------------------------------------------------------------------

def reason_of(row: dict) -> str:
    if row["status"] == "rejected":
        return "; ".join(f"{column}: {message}" for column, message in row["problems"])
    dup = row["dup"] or {}
    if dup.get("by") == "email":
        return _("Skipped: same e-mail as %(name)s.", name=dup.get("name", ""))
    return _("Skipped: same phone as %(name)s.", name=dup.get("name", ""))


def not_imported(record: ClientImport) -> list[dict]:
    """The rejected rows, and once imported the duplicates that were skipped."""
    return [r for r in record.rows if r.get("status") == "rejected"
            or (record.status == "imported" and r.get("status") == "duplicate"
                and r.get("choice") not in ("merge", "overwrite"))]


def csv_dialect(locale: str) -> tuple[str, bool]:
    """(delimiter, BOM) that Excel of the business's country opens in columns: Excel in
    a comma-decimal locale (Spanish, Portuguese, most of Europe) splits on ``;``."""
    from babel.numbers import get_decimal_symbol

    try:
        comma_decimal = get_decimal_symbol(locale) == ","
    except Exception:
        comma_decimal = locale.split("_")[0] in ("es", "pt", "fr", "de", "it", "ru")
    return (";" if comma_decimal else ","), True


def rejected_csv(record: ClientImport, locale: str) -> str:
    """The rows that were not imported, as they were in the file, with the reason in the
    first column (EXP-1: formula-like cells neutralised, as in every export)."""
    delimiter, bom = csv_dialect(locale)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    width = len(record.headers)
    writer.writerow([_("Reason")] + [neutralise(h) for h in record.headers])
    for row in not_imported(record):
        cells = (row["cells"] + [""] * width)[:max(width, len(row["cells"]))]
        writer.writerow([neutralise(reason_of(row))] + [neutralise(c) for c in cells])
    return ("\ufeff" if bom else "") + buffer.getvalue()


def column_overview(record: ClientImport, samples: int = 2) -> list[dict]:
    """Every column of the file with its target and a few of its values, for the mapping step."""
    overview = []
    for position, header in enumerate(record.headers):
        values = []
        for row in record.rows:
            cells = row["cells"]
            if position < len(cells) and cells[position] and cells[position] not in values:
                values.append(cells[position][:60])
                if len(values) >= samples:
                    break
        overview.append({"position": str(position), "header": header,
                         "target": record.mapping.get(str(position), "ignore"), "samples": values})
    return overview

