"""Client book routes: the list (live search, filters, sort, pages), the client page,
create / edit / soft delete with undo, tier override, and the sales of a client."""
from __future__ import annotations

from flask import Blueprint, flash, g, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from .. import audit
from ..accounts.decorators import login_required, manager_required
from ..accounts.team import active_team
from ..extensions import db
from ..htmx import render, render_cached
from ..i18n import business_today
from ..sales import services as sales_services
from ..sales.models import Sale
from ..security import safe_next
from ..tenancy import get_child_or_404, get_or_404
from ..territories.models import Portfolio, Territory
from ..validation import FieldError, apply_field_error, query_int
from . import loyalty, page, services
from .forms import (
    ClientForm,
    LoyaltySettingsForm,
    QuickClientForm,
    SaleForm,
    SpecialistForm,
    TierForm,
)
from .models import Client, ClientSpecialist

bp = Blueprint("clients", __name__, url_prefix="/clients")

PAGE_SIZE = 50


def _choices():
    territories = db.session.execute(select(Territory).order_by(Territory.name)).scalars().all()
    portfolios = db.session.execute(select(Portfolio).order_by(Portfolio.name)).scalars().all()
    return dict(territories=territories, portfolios=portfolios, sellers=active_team())


def _row_labels() -> dict:
    """The words of a list row, translated once per page instead of once per row."""
    labels = {key: str(label) for key, label in loyalty.TIER_LABELS.items()}
    labels.update(_key=_("Key client"), _prospect=_("Prospect"), _none=_("No sales yet"), _dropped=_("dropped"),
                  _quick=_("Quick edit"))
    return labels


def _filters() -> services.ClientFilters:
    args = request.args
    mine_default = services.default_mine(current_user) and "mine" not in args
    return services.ClientFilters(
        q=args.get("q", "")[:100], tier=args.get("tier", ""), portfolio_id=query_int("portfolio"),
        territory_id=query_int("territory"), seller_id=query_int("seller"), kind=args.get("kind", ""),
        key=args.get("key") == "1", dropped=args.get("dropped") == "1",
        mine=mine_default or args.get("mine") == "1",
        sort=args.get("sort", "name") if args.get("sort") in services.SORTS else "name",
        direction="desc" if args.get("dir") == "desc" else "asc", page=max(query_int("page") or 1, 1))


@bp.get("")
@login_required
def index():
    """The list (count, 50 rows, pager) is a fragment kept per business data version and
    reader (``pymes.cache``): paging back and forth, or a search typed again, reads no SQL."""
    from ..htmx import is_htmx

    f = _filters()
    args = tuple(request.args.items(multi=True))
    if is_htmx():
        response = make_response(_list_html(f, args))
        response.vary.add("HX-Request")
        return response
    from ..htmx import render_cached

    # kept per browser session: the quick add form carries the session's CSRF token
    return render_cached("clients/index.html", "clients.index", args,
                         lambda: _index_content(f, args, QuickClientForm(formdata=None)), per_session=True)


def _list_html(f: services.ClientFilters, args: tuple):
    """The list fragment, kept per business data version and reader (``pymes.cache``)."""
    from flask import render_template

    from .. import cache

    def list_html() -> str:
        labels = _row_labels()
        stmt = services.client_query(current_user, f)
        total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
        rows = db.session.execute(stmt.limit(PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE)).scalars().all()
        names = {u.id: u.name for u in active_team()}
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        return render_template("clients/_list.html", clients=rows, total=total, f=f, pages=pages,
                               seller_names=names, tier_labels=labels)

    return cache.fragment("clients.list", args, list_html)


def _index_content(f: services.ClientFilters, args: tuple, quick_form: QuickClientForm) -> dict:
    return dict(list_html=_list_html(f, args), f=f, restricted=services.restricted_to_own(current_user),
                tier_labels=_row_labels(), quick_form=quick_form, **_choices())


@bp.post("/quick")
@login_required
def quick_add():
    """The list's quick add: a name and a phone make a client of the one who types them
    (the rest can wait for the client's page). With htmx the answer is a fresh form, the
    new row on top of the list and the flash; without JavaScript, the list sorted by the
    newest, the new client first. A missing name or an impossible phone comes back as
    typed, the message beside the field (422)."""
    from ..htmx import is_htmx

    form = QuickClientForm()
    client = None
    if form.validate_on_submit():
        values = dict(kind="client", name=form.name.data.strip(), phone=form.phone.data, seller_id=current_user.id)
        try:
            client = services.save_client(None, values, g.business.country)
        except FieldError as error:
            apply_field_error(form, error)
    if client is not None:
        flash(_("%(name)s is in your client book.", name=client.name), "success")
        if not is_htmx():
            return redirect(url_for(".index", sort="created", dir="desc"), code=303)
        return render("clients/_quick_add.html", form=QuickClientForm(formdata=None), added=client,
                      **_row_context(client))
    if is_htmx():
        return render("clients/_quick_add.html", status=422, form=form, added=None)
    f = _filters()
    return render("clients/index.html", status=422, **_index_content(f, tuple(request.args.items(multi=True)), form))


def _referred_by_id(form: ClientForm) -> int | None:
    name = (form.referred_by.data or "").strip()
    if not name:
        return None
    stmt = select(Client.id).where(func.lower(Client.name) == name.lower(), Client.deleted_at.is_(None))
    if services.restricted_to_own(current_user):
        # Only among the seller's own clients: the answer must not tell whether another
        # seller has a client of that name (issue 20, finding 5).
        stmt = stmt.where(Client.seller_id == current_user.id)
    found = db.session.execute(stmt.limit(2)).scalars().all()
    if len(found) != 1:
        raise FieldError("referred_by", _("No client is called exactly that.") if not found
                         else _("Several clients have that name: write it as on their page, with the company."))
    return found[0]


def _values(form: ClientForm) -> dict:
    data = {k: getattr(form, k).data for k in services.EDITABLE if hasattr(form, k)}
    data["referred_by_id"] = _referred_by_id(form)
    if data["referred_by_id"] and not data.get("source"):
        data["source"] = "referral"
    return data


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = ClientForm(**_choices())
    if request.method == "GET":
        form.seller_id.data = current_user.id
        form.kind.data = request.args.get("kind") if request.args.get("kind") in ("client", "prospect") else "client"
    if form.validate_on_submit():
        try:
            client = services.save_client(None, _values(form), g.business.country)
        except FieldError as error:
            apply_field_error(form, error)
        else:
            flash(_("%(name)s is in your client book.", name=client.name), "success")
            if request.form.get("then") == "another":  # "Save and add another": an empty form, same kind
                return redirect(url_for(".new", kind=client.kind), code=303)
            return redirect(url_for(".show", client_id=client.id), code=303)
    return render("clients/form.html", status=422 if form.errors else 200, form=form, client=None)


@bp.route("/<id:client_id>/edit", methods=["GET", "POST"])
@login_required
def edit(client_id: int):
    client = get_or_404(Client, client_id)
    form = ClientForm(obj=client, **_choices())
    if request.method == "GET":
        form.phone.data = services.national(client.phone, g.business.country)
        form.whatsapp.data = services.national(client.whatsapp, g.business.country)
        if client.referred_by_id:
            referrer = db.session.get(Client, client.referred_by_id)
            form.referred_by.data = referrer.name if referrer else ""
    if form.validate_on_submit():
        try:
            services.save_client(client, _values(form), g.business.country)
        except FieldError as error:
            apply_field_error(form, error)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for(".show", client_id=client.id), code=303)
    return render("clients/form.html", status=422 if form.errors else 200, form=form, client=client)


@bp.get("/<id:client_id>")
@login_required
def show(client_id: int):
    """The client's page. Its content (forms included: kept per browser session) is
    kept per business data version (``pymes.cache``) and gathered by ``page.client_page``."""
    client = get_or_404(Client, client_id)
    return render_cached("clients/show.html", "clients.show", (client.id,), lambda: page.client_page(
        client, current_user.id, g.business.currency, g.business.country).context(), per_session=True, client=client)


@bp.post("/<id:client_id>/delete")
@login_required
def delete(client_id: int):
    client = get_or_404(Client, client_id)
    services.soft_delete(client)
    audit.record("client_deleted", client.name)
    flash(_("%(name)s was deleted.", name=client.name), "undo:" + url_for(".restore", client_id=client.id))
    return redirect(url_for(".index"), code=303)


@bp.post("/<id:client_id>/restore")
@login_required
def restore(client_id: int):
    client = get_or_404(Client, client_id)
    services.restore(client)
    audit.record("client_restored", client.name)
    flash(_("%(name)s is back in your client book.", name=client.name), "success")
    return redirect(url_for(".show", client_id=client.id), code=303)


@bp.post("/<id:client_id>/tier")
@manager_required
def override_tier(client_id: int):
    client = get_or_404(Client, client_id)
    form = TierForm()
    if form.validate_on_submit():
        try:
            services.override_tier(current_user, client, form.tier.data or None, form.reason.data or "")
        except FieldError as error:
            flash(error.message, "error")
        else:
            flash(_("Tier updated."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for(".show", client_id=client.id), code=303)


@bp.post("/<id:client_id>/drop-seen")
@login_required
def acknowledge_drop(client_id: int):
    client = get_or_404(Client, client_id)
    services.acknowledge_drop(client)
    return redirect(url_for(".show", client_id=client.id), code=303)


@bp.post("/<id:client_id>/sales")
@login_required
def add_sale(client_id: int):
    client = get_or_404(Client, client_id)
    form = SaleForm(sellers=active_team(), currency=g.business.currency)
    if form.validate_on_submit():
        try:
            amount = sales_services.parse_money(form.amount.data, g.business.currency, g.business.locale, "amount")
            margin = sales_services.margin_from(amount or 0, form.margin.data, form.margin_kind.data,
                                                g.business.currency, g.business.locale)
            sales_services.record_sale(client, sold_on=form.sold_on.data, description=form.description.data,
                                       product_line=form.product_line.data, amount=amount, margin=margin,
                                       seller_id=form.seller_id.data, delivery_on=form.delivery_on.data,
                                       actor=current_user)
        except FieldError as error:
            apply_field_error(form, error)
        else:
            flash(_("Sale recorded."), "success")
            return redirect(url_for(".show", client_id=client.id), code=303)
    return render("clients/sale_form.html", status=422, form=form, client=client)


@bp.post("/<id:client_id>/sales/<id:sale_id>/delete")
@login_required
def delete_sale(client_id: int, sale_id: int):
    client = get_or_404(Client, client_id)
    sale = get_child_or_404(Sale, sale_id, client_id=client.id)
    sales_services.delete_sale(sale, client, current_user)
    audit.record("sale_deleted", client.name, amount=sale.amount, sold_on=sale.sold_on.isoformat())
    flash(_("Sale deleted."), "info")
    return redirect(url_for(".show", client_id=client.id), code=303)


@bp.get("/key")
@login_required
def key_clients():
    """Rule 9: the few clients that carry the business, from the last 12 months."""
    from ..htmx import render_cached

    def content():
        own = current_user.id if services.restricted_to_own(current_user) else None  # a restricted seller: theirs
        rows, total = services.key_clients(business_today(), seller_id=own)
        return dict(rows=rows, total=total, tier_labels=loyalty.TIER_LABELS)

    # each row's "mark as key" form carries the session's CSRF token: kept per session
    return render_cached("clients/key.html", "clients.key", (), content, per_session=True)


@bp.post("/<id:client_id>/key")
@login_required
def toggle_key(client_id: int):
    client = get_or_404(Client, client_id)
    services.set_key(client, request.form.get("is_key") == "1")
    return redirect(safe_next(request.form.get("next")) or url_for(".show", client_id=client.id), code=303)


@bp.route("/settings", methods=["GET", "POST"])
@manager_required
def settings():
    """The loyalty thresholds of this business, and who sees which clients."""
    current = services.rules().as_dict()
    form = LoyaltySettingsForm(data=dict(current, sellers_see_only_own=g.business.sellers_see_only_own))
    if form.validate_on_submit():
        values = {key: getattr(form, key).data for key in current}
        services.save_loyalty_settings(values, bool(form.sellers_see_only_own.data), g.business)
        flash(_("Loyalty settings saved; every client's tier was recomputed."), "success")
        return redirect(url_for(".settings"), code=303)
    return render("clients/settings.html", status=422 if form.errors else 200, form=form)


@bp.post("/<id:client_id>/specialists")
@login_required
def add_specialist(client_id: int):
    client = get_or_404(Client, client_id)
    form = SpecialistForm(sellers=active_team())
    if form.validate_on_submit():
        try:
            services.add_specialist(client, form.user_id.data, form.product_line.data)
        except FieldError as error:
            flash(error.message, "error")
        else:
            flash(_("Specialist added."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for(".show", client_id=client.id) + "#specialists", code=303)


@bp.post("/<id:client_id>/specialists/<id:specialist_id>/delete")
@login_required
def remove_specialist(client_id: int, specialist_id: int):
    client = get_or_404(Client, client_id)
    specialist = get_child_or_404(ClientSpecialist, specialist_id, client_id=client.id)
    services.remove_specialist(specialist)
    flash(_("Specialist removed."), "info")
    return redirect(url_for(".show", client_id=client.id) + "#specialists", code=303)


# --- inline edit of the common fields (htmx) -----------------------------------------------

INLINE_FIELDS = ("name", "phone", "email", "seller_id", "is_key")


def _row_context(client: Client) -> dict:
    return dict(c=client, seller_names={u.id: u.name for u in active_team()}, tier_labels=_row_labels())


@bp.get("/<id:client_id>/row")
@login_required
def row(client_id: int):
    client = get_or_404(Client, client_id)
    return render("clients/_row.html", **_row_context(client))


@bp.get("/<id:client_id>/row/edit")
@login_required
def edit_row(client_id: int):
    client = get_or_404(Client, client_id)
    form = ClientForm(formdata=None, obj=client, **_choices())
    form.phone.data = services.national(client.phone, g.business.country)
    return render("clients/_row_edit.html", form=form, **_row_context(client))


@bp.post("/<id:client_id>/row")
@login_required
def save_row(client_id: int):
    """Save the list's quick-edit fields; the other fields keep their values."""
    client = get_or_404(Client, client_id)
    form = ClientForm(**_choices())
    valid = all(getattr(form, name).validate(form) for name in INLINE_FIELDS)
    if valid and form.csrf_token.validate(form):
        values = {key: getattr(client, key) for key in services.EDITABLE}
        values["phone"] = client.phone
        values.update({name: getattr(form, name).data for name in INLINE_FIELDS})
        try:
            services.save_client(client, values, g.business.country)
        except FieldError as error:
            apply_field_error(form, error)
        else:
            return render("clients/_row.html", **_row_context(client))
    return render("clients/_row_edit.html", status=422, form=form, **_row_context(client))


@bp.get("/export.<any(csv, xlsx):extension>")
@login_required
def export(extension: str):
    """The clients of the list as it is filtered now, as CSV or Excel (streamed)."""
    from . import export as exporter

    f, business = _filters(), g.business
    audit.record("export", what="clients", format=extension)
    return exporter.download(extension, exporter.file_name(business, extension), exporter.headers(),
                             exporter.rows(current_user, f, business), _("Clients"))


from . import import_routes  # noqa: E402,F401  (the import pages, on this blueprint)
