"""The referrals list as a manager filters it in a real browser (the CSP allows no inline
script, so the filters must work through htmx): a status chosen applies at once, a custom
period with its last day before its first is explained beside the field, a corrected one
lists the referral and offers the export, and a filter with no rows says there is nothing
to export."""
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pymes.clients.models import Client
from pymes.db import utcnow
from pymes.extensions import db
from pymes.referrals import services as referrals
from pymes.tenancy import bound
from tests.factories import santiago_today

from ..factories import PASSWORD

pytestmark = pytest.mark.browser


def settled(page) -> None:
    """Wait until htmx has finished swapping and settling the new list (a person cannot
    pick the next filter within those milliseconds; a test can)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    page.wait_for_timeout(50)


def test_a_manager_filters_the_referrals_and_picks_a_custom_period(browser, live_server, app, make, shoot):
    business, _owner, manager, seller = make.team("Vivero Los Aromos")
    with app.app_context(), bound(business.id):
        ana = Client(name="Ana Fuentes", seller_id=seller.id, email="ana@example.com")
        db.session.add(ana)
        db.session.commit()
        for name, back in (("Bruno Díaz", 3), ("Carla Peña", 20)):
            referral = referrals.add_referral(ana, referrals.read_friend(name, f"{name[:5].lower()}@example.com",
                                                                         "CL", ana),
                                              source="manual", friend_consent=True)
            referral.created_at = utcnow() - timedelta(days=back)
        db.session.commit()
    context = browser.new_context(locale="es-CL")
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("#email", manager.email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.goto(live_server + "/referrals")
    expect(page.get_by_test_id("referral")).to_have_count(2)

    page.get_by_test_id("referral-filters").locator("select[name=status]").select_option("lost")           # no button: applies at once
    expect(page.get_by_test_id("nothing-to-export")).to_be_visible()
    expect(page.get_by_test_id("export-csv")).to_be_disabled()
    assert "status=lost" in page.url
    settled(page)
    page.get_by_test_id("referral-filters").locator("select[name=status]").select_option("")
    expect(page.get_by_test_id("referral")).to_have_count(2)
    settled(page)

    page.get_by_test_id("referral-filters").locator("select[name=days]").select_option("custom")
    expect(page.locator("#period-from")).to_be_visible()
    settled(page)  # picking "Choose the days" asked for the list too
    today = santiago_today()
    page.fill("#period-from", (today - timedelta(days=5)).isoformat())
    page.fill("#period-to", (today - timedelta(days=10)).isoformat())
    page.get_by_test_id("apply-filters").click()
    expect(page.locator("#to-error")).to_be_visible()
    expect(page.locator("#period-to")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("referral")).to_have_count(0)
    shoot(page, "referrals-filters", "period-error")
    settled(page)

    page.fill("#period-to", today.isoformat())
    page.get_by_test_id("apply-filters").click()
    expect(page.get_by_test_id("referral")).to_have_count(1)
    expect(page.get_by_test_id("referral")).to_contain_text("Bruno Díaz")
    expect(page.locator("#to-error")).to_have_count(0)
    expect(page.get_by_test_id("export-csv")).to_have_attribute("href", f"/referrals/export.csv?days=custom&from="
                                                                 f"{(today - timedelta(days=5)).isoformat()}&to="
                                                                 f"{today.isoformat()}")
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "Bruno Díaz" in text and "Carla Peña" not in text
    context.close()
