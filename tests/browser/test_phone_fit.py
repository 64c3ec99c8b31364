"""Issue 21, points 1 and 3: every page fits a phone, passes axe-core and has valid ids.

The pages are not listed by hand: they come from ``app.url_map`` (as the security
matrices in tests/security do): every GET rule without arguments, and every GET rule
whose arguments are object ids, filled from the demo business (pymes/demo.py, a living
shop with about sixty clients), plus the public pages a customer opens (feedback link,
referral page, testimonial wall) and the pages of a visitor who is not logged in.
A rule that answers with something other than a full HTML page (a download, an image,
an htmx fragment) is skipped after asking for it.

Each page is opened at 360 and 390 px and must not scroll sideways
(``document.documentElement.scrollWidth <= innerWidth``). At 390 px (and 1280 px) axe-core
(npm ``axe-core``, injected from node_modules) must find no serious or critical
violation and no moderate one outside ``ALLOWED_MODERATE``; and the served HTML must not
repeat an id, give a role to a <summary> or start a required <select> without an empty option."""
from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from pymes.cli import DEMO_EMAIL, DEMO_PASSWORD
from pymes.extensions import db
from pymes.tenancy import bound
from tests.browser.conftest import SCREENSHOTS
from tests.security import routes

pytestmark = pytest.mark.browser

SHOTS = {"/": "home", "/clients": "clients", "/agenda": "agenda", "/complaints": "complaints"}
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (360, 390)
AXE_WIDTHS = (390, 1280)
# moderate axe findings let through: (rule, a part of the path) → the reason
ALLOWED_MODERATE: dict[tuple[str, str], str] = {
    ("page-has-heading-one", "/embed"): "the testimonial wall drawn inside the business's own page (an iframe): "
                                        "the heading is the host page's",
}
# GET pages that are no page of their own for a person
SKIP = {
    "main.healthz",  # a probe for the load balancer
    "main.outbox", "main.outbox_message",  # development only
    "accounts.logout",
}


# the elements that reach past the screen's right edge while their parent does not: the culprits
PAST_THE_EDGE = """() => [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect(), p = e.parentElement.getBoundingClientRect();
    if (!r.width || r.right <= innerWidth + 1 || p.right > innerWidth + 1) return false;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)  // inside its own scroll box
        if (getComputedStyle(a).overflowX !== 'visible') return false;
    return true;
}).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && e.className.baseVal === undefined
    ? '.' + String(e.className).trim().split(/\\s+/).join('.') : '') + ' ' + Math.round(e.getBoundingClientRect().right))"""


class _Checker(HTMLParser):
    """What the Nu HTML Checker found on these pages, checked with the standard library:
    repeated ids, a required single <select> whose first option is not an empty
    placeholder, and a role on <summary>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: Counter = Counter()
        self.problems: list[str] = []
        self._select = None  # the open required <select>'s name while its first option is awaited

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id") is not None:
            self.ids[a["id"]] += 1
        if tag == "summary" and "role" in a:
            self.problems.append(f"<summary role={a['role']}>")
        if tag == "select":
            single = "multiple" not in a and int(a.get("size") or 1) <= 1
            self._select = (a.get("name") or a.get("id") or "?") if "required" in a and single else None
        elif tag == "option" and self._select is not None:
            if a.get("value", "x") != "":
                self.problems.append(f"required <select name={self._select}> without an empty first option")
            self._select = None

    handle_startendtag = handle_starttag


def html_problems(html: str) -> list[str]:
    checker = _Checker()
    checker.feed(html)
    repeated = sorted(i for i, n in checker.ids.items() if n > 1)
    return ([f"repeated ids {repeated}"] if repeated else []) + sorted(set(checker.problems))


def _demo_ids(app, make) -> tuple[dict, dict]:
    """(argument name → an id in the demo business, public page paths)."""
    from pymes.accounts.models import User
    from pymes.clients.models import Client
    from pymes.complaints.models import Complaint
    from pymes.demo import _existing_business_id
    from pymes.feedback import services as feedback
    from pymes.referrals import services as referrals
    from pymes.sales.models import Sale
    from pymes.visits.models import Activity

    with app.app_context():
        business_id = _existing_business_id()
        with bound(business_id):
            from pymes.accounts.models import Business

            business = db.session.get(Business, business_id)
            owner = db.session.execute(select(User).where(User.email == DEMO_EMAIL)).scalar_one()
            # the richest rows: the client with most sales, an open complaint, a visit
            client = db.session.execute(select(Client).join(Sale, Sale.client_id == Client.id)
                                        .group_by(Client.id).order_by(db.func.count(Sale.id).desc(), Client.id)
                                        .limit(1)).scalar_one()
            ids = {
                "client_id": client.id,
                "sale_id": db.session.execute(select(Sale.id).where(Sale.client_id == client.id).limit(1)).scalar_one(),
                "activity_id": db.session.execute(select(Activity.id).where(Activity.kind == "visit")
                                                  .order_by(Activity.due_on.desc()).limit(1)).scalar_one(),
                "complaint_id": db.session.execute(select(Complaint.id).order_by(Complaint.id).limit(1)).scalar_one(),
            }
            secret = feedback.create_link(client, None)
            code = referrals.referral_code(client, create=True).code
            wall = referrals.referral_settings().wall_key
            # the commits above expired both rows; reload them while the business is bound (on PostgreSQL
            # row-level security hides them from an unbound refresh) and detach them for the factories
            for row in (business, owner):
                db.session.refresh(row)
                db.session.expunge(row)
        factories = routes.registry(make)  # the other ids: one plain object each, in the demo business
        for rule in routes.id_rules(app):
            for arg in rule.arguments:
                if arg not in ids:
                    ids[arg] = factories[arg](app, business, owner)
    public = [f"/f/{secret}", f"/r/{code}", f"/w/{wall}", f"/w/{wall}/embed"]
    return ids, public


def _pages(app, ids) -> list[str]:
    paths = []
    for rule in routes.rules(app):
        if "GET" not in rule.methods or rule.endpoint in SKIP:
            continue
        if not rule.arguments <= ids.keys():  # public tokens and free words (downloads) apart
            continue
        paths.append(routes.build(rule, ids))
    return sorted(set(paths))


def _is_page(context, url) -> bool:
    response = context.request.get(url, max_redirects=5)
    return response.ok and response.headers.get("content-type", "").startswith("text/html") \
        and "<main" in response.text()


def _check(page, url, width, failures, axe: bool):
    page.set_viewport_size({"width": width, "height": 844})
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    where = f"{page.url} at {width} px"
    wide = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    if wide[0] > wide[1]:
        failures.append(f"{where}: {wide[0]} px wide, past the edge: {page.evaluate(PAST_THE_EDGE)}")
    if not axe:
        return
    for problem in html_problems(response.text()):
        failures.append(f"{where}: {problem}")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
    for v in found:
        allowed = any(rule == v["id"] and part in url for rule, part in ALLOWED_MODERATE)
        if v["impact"] in ("serious", "critical") or (v["impact"] == "moderate" and not allowed):
            failures.append(f"{where}: axe {v['impact']} {v['id']} {v['nodes']}")


def _crawl(browser, base, paths, failures, widths=WIDTHS, axe_widths=AXE_WIDTHS, login=None, shots=None):
    # bypass_csp: axe is injected as an inline script, which the app's CSP (rightly) refuses
    context = browser.new_context(locale="es-CL", viewport={"width": 390, "height": 844}, bypass_csp=True)
    page = context.new_page()
    if login:
        page.goto(base + "/login")
        page.fill("#email", login[0])
        page.fill("#password", login[1])
        page.locator("main button[type=submit]").click()
        page.wait_for_url(lambda u: "/login" not in u)
    checked = []
    for path in paths:
        if not _is_page(context, base + path):
            continue
        checked.append(path)
        for width in sorted(set(widths) | set(axe_widths)):
            _check(page, base + path, width, failures, axe=width in axe_widths)
            if width == 390 and shots and path in SHOTS:  # to look at: test-artifacts/screenshots/
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"{shots}-390-{SHOTS[path]}.png"), full_page=True)
    context.close()
    return checked


def test_every_page_fits_a_phone_and_passes_axe(browser, live_server, app, make):
    from pymes.demo import build

    assert AXE.exists(), "axe-core is missing: run scripts/setup (npm ci)"
    with app.app_context():
        assert build(echo=lambda *a: None)["created"]
    ids, public = _demo_ids(app, make)
    failures: list[str] = []
    checked = _crawl(browser, live_server, _pages(app, ids), failures, login=(DEMO_EMAIL, DEMO_PASSWORD),
                     shots="phone-fit")
    # the owner's daily pages are among them, with data
    for path in ("/", "/agenda", "/clients", "/complaints", "/feedback", "/territories", "/dashboard",
                 f"/clients/{ids['client_id']}", f"/complaints/{ids['complaint_id']}"):
        assert path in checked, f"{path} was not crawled: {checked}"
    # a visitor: the landing, log-in, sign-up; a customer: the feedback link, referral page, wall
    visitor = ["/", "/login", "/signup", "/password/forgot", *public]
    checked_public = _crawl(browser, live_server, visitor, failures)
    assert len(checked_public) == len(visitor), checked_public
    assert not failures, "\n".join(failures)


def _log_in(page, base, email):
    from tests.factories import PASSWORD

    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(base + "/")


def test_a_phone_gets_a_bottom_bar_and_a_rejected_form_an_error_summary(browser, live_server, make, shoot):
    from playwright.sync_api import expect

    _business, owner, _manager, _seller = make.team("Ferretería Los Aromos")
    context = browser.new_context(locale="es-CL", viewport={"width": 360, "height": 740})
    page = context.new_page()
    # a visitor's header: no bottom bar, and nothing drawn over the brand
    page.goto(live_server + "/")
    expect(page.get_by_test_id("bottom-nav")).to_have_count(0)
    header = page.locator("body > header")
    boxes = [header.locator("a.brand").bounding_box(), header.get_by_role("link", name="Iniciar sesión").bounding_box(),
             header.get_by_role("button", name="Crear cuenta").bounding_box()]
    for one, other in zip(boxes, boxes[1:], strict=False):
        apart = one["x"] + one["width"] <= other["x"] + 1 or one["y"] + one["height"] <= other["y"] + 1
        assert apart, f"header items overlap on a 360-px phone: {one} {other}"
    _log_in(page, live_server, owner.email)

    # the header is one short row; the daily destinations sit in a bar at the bottom
    bar = page.get_by_test_id("bottom-nav")
    expect(bar).to_be_visible()
    assert page.locator("body > header").bounding_box()["height"] <= 110, page.locator("body > header").bounding_box()
    brand, name = page.evaluate("""['a.brand strong', '[data-testid=business-name]'].map(s => {
        const r = document.createRange(); r.selectNodeContents(document.querySelector(s));
        const b = r.getBoundingClientRect(); return [b.left, b.right]; })""")  # where the words are drawn
    assert brand[1] + 4 <= name[0], f"the brand runs into the business's name: {brand} {name}"
    for name in ("Hoy", "Agenda", "Clientes", "Reclamos", "Opinión", "Más"):
        target = bar.get_by_role("link", name=name, exact=True) if name != "Más" else bar.locator("summary")
        box = target.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, f"{name}: {box}"
        assert box["y"] + box["height"] <= 740, f"{name} is below the screen: {box}"
    expect(page.locator("body > header").get_by_role("link", name="Clientes", exact=True)).to_have_count(0)  # not twice
    bar.get_by_role("link", name="Clientes", exact=True).click()
    expect(page).to_have_url(live_server + "/clients")
    bar.locator("summary").click()
    more = bar.get_by_role("link", name="Territorios", exact=True)
    expect(more).to_be_visible()
    box = more.bounding_box()
    assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    shoot(page, "phone-nav", "more-open")
    more.click()
    expect(page).to_have_url(live_server + "/territories")
    # the last row of a page is not hidden behind the bar
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    footer, bar_box = page.locator("footer").bounding_box(), bar.bounding_box()
    assert footer["y"] + footer["height"] <= bar_box["y"] + 1, (footer, bar_box)

    # a keyboard user sees where the focus is
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", f"no visible focus on {page.evaluate('document.activeElement.outerHTML')[:120]}"

    # a rejected form: the focus moves to a summary at its top whose links lead to each field
    page.goto(live_server + "/clients/new")
    page.get_by_label("Nombre", exact=True).fill("")
    page.locator("main form button[type=submit]").first.click()
    summary = page.locator("main .error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("role", "alert")
    link = summary.get_by_role("link").first
    expect(link).to_contain_text("Nombre")
    shoot(page, "phone-nav", "error-summary")
    link.click()
    expect(page.locator("#name")).to_be_focused()

    # a wide screen keeps the header menu and no bottom bar
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(bar).to_be_hidden()
    expect(page.locator("body > header").get_by_role("link", name="Clientes", exact=True)).to_be_visible()
    context.close()


def test_the_html_check_finds_what_the_nu_checker_found():
    page = ('<select required name="tier"><option value="buyer">Comprador</option></select>'
            '<select required name="kind"><option value="">—</option><option value="call">Llamada</option></select>'
            '<select required multiple name="many"><option value="a">A</option></select>'
            '<summary role="button">Registrar</summary><input id="notes"><textarea id="notes"></textarea>')
    assert html_problems(page) == ["repeated ids ['notes']", "<summary role=button>",
                                   "required <select name=tier> without an empty first option"]


def test_an_empty_business_fits_a_phone_too(browser, live_server, app, make):
    """The first days: every page without an id argument, for an owner with no clients yet
    (empty lists, first-step hints), at 360 and 390 px, axe-core at 390 px."""
    from tests.factories import PASSWORD

    _business, owner, _manager, _seller = make.team("Librería La Hoja en Blanco")
    failures: list[str] = []
    paths = _pages(app, {})
    checked = _crawl(browser, live_server, paths, failures, axe_widths=(390,), login=(owner.email, PASSWORD),
                     shots="phone-fit-empty")
    assert "/clients" in checked and "/agenda" in checked and "/complaints" in checked, checked
    assert not failures, "\n".join(failures)
