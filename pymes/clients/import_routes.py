"""Client import routes, on the clients blueprint (``/clients/import…``): upload, the
preview with the columns' mapping, per-row problems and duplicate choices, confirm, undo,
the rejected rows as CSV and an empty template. Owners and managers only: an import touches the whole book, like the
loyalty settings. The rules are in ``importing.py``."""
from __future__ import annotations

import csv
import io
from datetime import date

from flask import Response, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from phonenumbers import NumberParseException
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from .. import audit
from ..accounts.decorators import manager_required
from ..accounts.models import User
from ..errors import _page as error_page
from ..extensions import db
from ..htmx import render
from ..i18n import business_today
from ..tenancy import bind_tenant, get_or_404
from . import importing
from .import_columns import TARGETS
from .models import ClientImport
from .routes import bp
from .services import national

PREVIEW_NEW_ROWS = 200  # new rows shown in full; problems and duplicates are always all shown
FORM_OVERHEAD = 64 * 1024


def _upload_page(status: int = 200, problem: importing.UploadProblem | None = None):
    recent = db.session.execute(
        select(ClientImport.id, ClientImport.file_name, ClientImport.status, ClientImport.summary,
               ClientImport.created_at, ClientImport.undone_at).order_by(ClientImport.created_at.desc(), ClientImport.id.desc()).limit(10)
    ).all()
    return render("clients/import.html", status=status, problem=problem, columns=importing.COLUMNS,
                  aliases=_aliases(),
                  max_size=importing.size_label(importing.max_bytes()), max_rows=importing.max_rows(), recent=recent)


@bp.app_template_filter("isodate")
def _isodate(text: str):
    """A date kept as ISO text in an import's rows, as a date for ``format_date``."""
    return date.fromisoformat(text) if text else None


def _aliases() -> dict[str, list[str]]:
    return {t.key: list(t.aliases[:5]) for t in TARGETS}


@bp.get("/import")
@manager_required
def import_start():
    return _upload_page()


@bp.post("/import")
@manager_required
def import_upload():
    """Read and check the file, keep it, show its preview. The body limit was raised for
    this route before Flask-WTF's CSRF check read the form (``_raise_body_limit``)."""
    limit = importing.max_bytes()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _upload_page(422, importing.UploadProblem(_("Choose a CSV or Excel file to upload.")))
    data = upload.stream.read(limit + 1)
    try:
        record = importing.create_import(current_user, g.business, upload.filename, data, business_today())
    except importing.UploadProblem as problem:
        return _upload_page(413 if len(data) > limit else 422, problem)
    return redirect(url_for(".import_preview", import_id=record.id), code=303)


def _raise_body_limit():
    """The app-wide body limit (``MAX_CONTENT_LENGTH``) is smaller than an import's file.
    Flask-WTF's CSRF check (an app-wide before-request hook) reads the form, so this hook
    runs before every other one and raises the limit for this one route, only for a
    logged-in user who may import; anyone else keeps the app-wide limit."""
    if (request.endpoint == "clients.import_upload" and request.method == "POST"
            and current_user.is_authenticated and current_user.has_role(*import_upload.allowed_roles)):
        request.max_content_length = importing.max_bytes() + FORM_OVERHEAD
        g.import_body_limit = True


@bp.record_once
def _install_body_limit(state):
    state.app.before_request_funcs.setdefault(None, []).insert(0, _raise_body_limit)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """A body over the import's own limit is refused while the CSRF check reads it, before
    the tenant hook has run: the upload page says how large a file may be. Any other
    too-large request on this blueprint gets the app's friendly 413 page."""
    if not g.get("import_body_limit"):
        return error_page(413)
    bind_tenant(current_user.tenant_id)
    g.business = current_user.business
    return _upload_page(413, importing.UploadProblem(_(
        "The file is larger than %(size)s. Split it in parts, or remove columns you do not need.",
        size=importing.size_label(importing.max_bytes()))))


def _choices(record: ClientImport) -> dict[int, str]:
    """Merge, overwrite or skip per duplicate row; the "all" select, when set, decides for
    every row."""
    everyone = request.form.get("all", "")
    if everyone in CHOICES:
        return {r["n"]: everyone for r in record.rows if r.get("status") == "duplicate"}
    return {int(key[7:]): value for key, value in request.form.items()
            if key.startswith("choice-") and key[7:].isdigit() and len(key) < 20 and value in CHOICES}


CHOICES = ("merge", "overwrite", "skip")


@bp.get("/import/<id:import_id>")
@manager_required
def import_preview(import_id: int):
    record = get_or_404(ClientImport, import_id)
    return _preview_page(record)


def _preview_page(record: ClientImport, status: int = 200, error: str | None = None,
                  mapping_errors: list[str] | None = None):
    rows = record.rows
    attention = [r for r in rows if r.get("status") != "new"]
    fresh = [r for r in rows if r.get("status") == "new"]
    attention = [r for r in attention if r.get("status")]
    warned = [r for r in fresh if r.get("warnings")]
    fresh = [r for r in fresh if not r.get("warnings")]
    return render("clients/import_preview.html", status=status, record=record, attention=warned + attention,
                  fresh=fresh[:PREVIEW_NEW_ROWS], more_new=max(len(fresh) - PREVIEW_NEW_ROWS, 0), error=error,
                  summary=record.summary, not_imported=len(importing.not_imported(record)),
                  national=_shown_phone, columns=importing.column_overview(record), targets=TARGETS,
                  mapping_errors=mapping_errors or [], needs_name=not importing.has_name_column(record.mapping),
                  can_undo=importing.can_undo(record), undo_deadline=importing.undo_deadline(record),
                  names=_names(record))


def _names(record: ClientImport) -> dict[int, str]:
    """Who confirmed and who undid the import, for the history."""
    ids = {i for i in (record.created_by_id, record.undone_by_id) if i}
    return {u.id: u.name for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()} if ids else {}


def _shown_phone(number: str | None) -> str:
    """A valid number as people write it here; a rejected one exactly as it was typed."""
    try:
        return national(number, g.business.country)
    except NumberParseException:
        return number or ""


@bp.post("/import/<id:import_id>")
@manager_required
def import_confirm(import_id: int):
    """Import every accepted row, or nothing (see ``importing.run_import``)."""
    record = get_or_404(ClientImport, import_id)
    if record.status != "preview":
        return redirect(url_for(".import_preview", import_id=record.id), code=303)
    try:
        summary = importing.run_import(record, current_user, g.business, business_today(), _choices(record))
    except importing.ImportFailed as failure:
        record = get_or_404(ClientImport, import_id)
        return _preview_page(record, 409, failure.message)
    audit.record("import", record.file_name, created=summary["created"], merged=summary["merged"])
    flash(_("Import finished: %(created)d new clients, %(merged)d merged, %(sales)d sales recorded.",
            created=summary["created"], merged=summary["merged"], sales=summary["sales_recorded"]), "success")
    return redirect(url_for(".import_preview", import_id=record.id), code=303)


@bp.post("/import/<id:import_id>/columns")
@manager_required
def import_columns(import_id: int):
    """The owner's choice of where each column goes; the rows are checked again and the
    choice is remembered for the next file with the same headers."""
    record = get_or_404(ClientImport, import_id)
    if record.status != "preview":
        return redirect(url_for(".import_preview", import_id=record.id), code=303)
    chosen = {key[4:]: value for key, value in request.form.items()
              if key.startswith("col-") and key[4:].isdigit() and len(key) < 12}
    errors = importing.set_mapping(record, g.business, business_today(), chosen)
    if errors:
        db.session.rollback()
        record = get_or_404(ClientImport, import_id)
        record.mapping = dict(record.mapping, **{k: v for k, v in chosen.items() if k in record.mapping})
        page = _preview_page(record, 422, mapping_errors=errors)
        db.session.rollback()  # the choices typed are shown, not kept
        return page
    flash(_("Columns updated: the rows were checked again."), "success")
    return redirect(url_for(".import_preview", import_id=record.id) + "#rows", code=303)


@bp.post("/import/<id:import_id>/undo")
@manager_required
def import_undo(import_id: int):
    """Take the import back (see ``importing.undo_import``)."""
    record = get_or_404(ClientImport, import_id)
    try:
        result = importing.undo_import(record, current_user, business_today())
    except importing.ImportFailed as failure:
        record = get_or_404(ClientImport, import_id)
        return _preview_page(record, 409, failure.message)
    audit.record("import_undone", record.file_name, removed=result["removed"])
    message = _("Import undone: %(removed)d clients removed, %(restored)d merged clients put back as they were.",
                removed=result["removed"], restored=result["restored"])
    if result["kept"]:
        message += " " + _("%(kept)d clients were kept because your team has worked with them since.",
                           kept=result["kept"])
    flash(message, "success")
    return redirect(url_for(".import_preview", import_id=record.id), code=303)


@bp.get("/import/<id:import_id>/rejected.csv")
@manager_required
def import_rejected(import_id: int):
    """The rows that were not imported, with their reasons, to fix and upload again."""
    record = get_or_404(ClientImport, import_id)
    response = Response(importing.rejected_csv(record, g.business.locale), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="rejected-{record.id}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/import/template.<any(csv, xlsx):extension>")
@manager_required
def import_template(extension: str):
    """An empty file with every column the import understands, in the user's language."""
    headers = importing.template_headers()
    if extension == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=importing.csv_dialect(g.business.locale)[0]).writerow(headers)
        response = Response("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    else:
        from openpyxl import Workbook  # heavy: loaded on first use, not at start-up

        workbook = Workbook()
        workbook.active.title = _("Clients")
        workbook.active.append(headers)
        out = io.BytesIO()
        workbook.save(out)
        response = Response(out.getvalue(),
                            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="fideliza-import-template.{extension}"'
    return response
