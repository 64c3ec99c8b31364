"""A seller on a visit with no signal (issue 21, point 2): the agenda kept by the service
worker is readable offline (client, phone, address, notes); an outcome logged offline is
kept on the phone as pending, sent once when the connection returns (a fresh CSRF token,
its idempotency key recognised if sent again) and shown as sent. Log-out empties every
cache the worker kept."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Error, expect
from sqlalchemy import func, select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.tenancy import bound
from pymes.visits.models import Activity

from ..factories import PASSWORD

pytestmark = pytest.mark.browser

KEPT_AGENDA = """() => caches.open('fideliza-pages-v1').then(c => c.match('/agenda')).then(r => !!r)"""
KEPT_OFFLINE = """() => caches.open('fideliza-pages-v1').then(c => c.match('/offline')).then(r => !!r)"""


def _plan(app, business, seller):
    with app.app_context(), bound(business.id):
        client = Client(name="Almacén Don Pepe", seller_id=seller.id, phone="+56987654321",
                        address="Av. Siempre Viva 742, Maipú", notes="Tocar el timbre de atrás")
        db.session.add(client)
        db.session.flush()
        visit = Activity(client_id=client.id, seller_id=seller.id, kind="visit", purpose="delivery",
                         due_on=datetime.now(ZoneInfo(business.timezone)).date())
        db.session.add(visit)
        db.session.commit()
        return visit.id


def _activity(app, business, activity_id):
    with app.app_context(), bound(business.id):
        a = db.session.get(Activity, activity_id)
        follow_ups = db.session.execute(select(func.count()).select_from(Activity)).scalar()
        return a.status, a.notes, a.outcome_key, follow_ups


def test_an_outcome_logged_offline_is_sent_once_when_the_connection_returns(browser, live_server, app, make,
                                                                             shoot):
    business = make.business("Ferretería Los Andes")
    seller = make.user(business, "seller", name="Sergio Vendedor")
    activity_id = _plan(app, business, seller)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-CL")
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("#email", seller.email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(live_server + "/")
    # the worker runs and keeps the agenda before the seller even opens it
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(KEPT_AGENDA)
    page.goto(live_server + "/agenda")
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    # Chromium reads the manifest without errors and finds nothing that stops installing the app
    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getAppManifest").get("errors") == []
    blocking = [e["errorId"] for e in cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]]
    assert [e for e in blocking if e != "in-incognito"] == []  # a Playwright context is incognito: that one is ours
    cdp.detach()

    context.set_offline(True)
    page.reload()
    item = page.locator(f"#activity-{activity_id}")
    for shown in ("Almacén Don Pepe", "Av. Siempre Viva 742, Maipú", "Tocar el timbre de atrás", "8765 4321"):
        assert shown in item.inner_text()
    item.locator("summary").click()
    item.locator("select[name=status]").select_option("done")
    item.locator("textarea[name=notes]").fill("Entregado sin señal")
    item.locator("button[type=submit]", has_text="Guardar").click()
    state = item.locator('[data-testid="outbox-state"]')
    state.wait_for()
    assert state.get_attribute("data-state") == "pending"
    # in words, set apart by its colour, and read out by the page's live region
    expect(state).to_be_visible()
    expect(state).to_have_text("Guardado en este teléfono: se enviará cuando vuelva la conexión.")
    assert state.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    voice = page.get_by_test_id("outbox-announce")
    expect(voice).to_have_attribute("aria-live", "polite")
    expect(voice).to_have_text("Guardado en este teléfono: se enviará cuando vuelva la conexión.")
    shoot(page, "offline", "pending")
    assert _activity(app, business, activity_id)[0] == "planned"  # nothing reached the server

    context.set_offline(False)
    page.wait_for_function(
        f"() => document.querySelector('#activity-{activity_id} [data-testid=outbox-state]').dataset.state === 'sent'")
    expect(state).to_have_text("Enviado: el resultado quedó registrado.")
    expect(voice).to_have_text("Enviado: el resultado quedó registrado.")
    shoot(page, "offline", "sent")
    status, notes, key, count = _activity(app, business, activity_id)
    assert (status, notes) == ("done", "Entregado sin señal") and key
    # the same outcome sent again (an answer lost on the way): recognised, recorded once
    again = page.evaluate("""([id, key]) => fetch('/csrf-token').then(r => r.json()).then(t => {
        const body = new URLSearchParams({csrf_token: t.token, status: 'rescheduled', new_date: '2099-01-01',
                                          outcome_key: key});
        return fetch('/agenda/' + id + '/outcome', {method: 'POST', body, headers: {'HX-Request': 'true'}})
          .then(r => r.status); })""", [activity_id, key])
    assert again == 200
    assert _activity(app, business, activity_id) == (status, notes, key, count)
    # another key for a contact already logged is refused, as before
    other = page.evaluate("""(id) => fetch('/csrf-token').then(r => r.json()).then(t => fetch(
        '/agenda/' + id + '/outcome', {method: 'POST', headers: {'HX-Request': 'true'},
        body: new URLSearchParams({csrf_token: t.token, status: 'done', outcome_key: crypto.randomUUID()})})
        .then(r => r.status))""", activity_id)
    assert other == 409
    # a reload sends nothing again
    page.reload()
    page.wait_for_timeout(300)
    assert _activity(app, business, activity_id) == (status, notes, key, count)

    # log-out: nothing the worker kept survives it
    assert page.evaluate("() => caches.keys().then(k => k.length)") > 0
    page.locator('form[action="/logout"]').first.evaluate("form => form.submit()")
    page.wait_for_url(live_server + "/login")
    page.wait_for_function("() => caches.keys().then(k => k.length === 0)")
    page.wait_for_function("() => navigator.serviceWorker.getRegistrations().then(r => r.length === 0)")
    page.wait_for_timeout(300)  # anything still on its way would land now
    assert page.evaluate("() => caches.keys()") == []  # and no worker is left to fill them again
    context.close()


def test_public_feedback_pages_are_never_kept_by_the_worker(browser, live_server, app, make):
    from pymes.feedback import services

    business = make.business("Ferretería Los Andes")
    seller = make.user(business, "seller")
    with app.app_context(), bound(business.id):
        client = Client(name="Ana", seller_id=seller.id)
        db.session.add(client)
        db.session.commit()
        from pymes.accounts.models import User

        secret = services.create_link(client, db.session.get(User, seller.id))
        db.session.commit()
    path = f"/f/{secret}"
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("#email", seller.email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(live_server + "/")
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(KEPT_AGENDA)
    page.wait_for_function(KEPT_OFFLINE)
    response = page.goto(live_server + path)
    assert response.status == 200 and "no-store" in response.headers["cache-control"]
    # with no connection a public page is not replaced by the offline page: the browser's own error
    context.set_offline(True)
    with pytest.raises(Error, match="ERR_INTERNET_DISCONNECTED"):
        page.goto(live_server + path)
    context.set_offline(False)
    page.goto(live_server + "/agenda")
    kept = page.evaluate("""() => caches.keys().then(names => Promise.all(names.map(n => caches.open(n)
        .then(c => c.keys())))).then(lists => lists.flat().map(r => new URL(r.url).pathname))""")
    assert kept and not [p for p in kept if p.startswith("/f/")], kept
    context.close()


def test_a_page_not_kept_opened_offline_says_what_still_works(browser, live_server, app, make, shoot):
    """A page the worker did not keep, opened with no signal: the kept offline page, in the
    seller's language, says there is no connection and leads to the agenda it kept."""
    business = make.business("Ferretería Los Andes")
    seller = make.user(business, "seller", name="Sergio Vendedor")
    activity_id = _plan(app, business, seller)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-CL")
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("#email", seller.email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(live_server + "/")
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(KEPT_AGENDA)
    page.wait_for_function(KEPT_OFFLINE)
    page.wait_for_function("() => !!navigator.serviceWorker.controller")

    context.set_offline(True)
    page.goto(live_server + "/clients")
    offline = page.get_by_test_id("offline-page")
    expect(offline.get_by_role("heading", level=1)).to_have_text("Sin conexión")
    expect(offline).to_contain_text("tu agenda de hoy y de los próximos 7 días")
    assert page.url == live_server + "/clients"  # trying again is reloading the page asked for
    shoot(page, "offline", "fallback")
    offline.get_by_test_id("offline-agenda").click()
    expect(page.locator(f"#activity-{activity_id}")).to_contain_text("Almacén Don Pepe")
    context.set_offline(False)
    page.goto(live_server + "/clients")
    expect(page.get_by_test_id("offline-page")).to_have_count(0)
    context.close()
