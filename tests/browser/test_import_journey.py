"""Issue 3's import journey in the browser: a 50-row file with 3 bad rows, the preview
with the problems beside each row, the confirm, and the rejected rows downloaded. A bad
e-mail or phone is a warning (the client is imported, the cell kept in its notes); a
row without a name is rejected."""
import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from ..factories import PASSWORD

pytestmark = pytest.mark.browser


def _file(path, today):
    rows = [["Nombre", "Correo", "Teléfono", "Fecha", "Descripción", "Monto"]]
    for i in range(1, 51):
        rows.append([f"Cliente Importado {i:02d}", f"cliente{i:02d}@example.com", f"9 8765 {i:04d}",
                     today.isoformat() if i % 10 == 0 else "", "Cemento" if i % 10 == 0 else "",
                     "25.000" if i % 10 == 0 else ""])
    rows[5][1] = "no-es-un-correo"       # bad e-mail
    rows[17][2] = "123"                  # impossible phone
    rows[33][0] = ""                     # no name
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)


def test_import_fifty_rows_with_three_bad_ones(browser, live_server, make, shoot, tmp_path):
    business, owner, _manager, _seller = make.team("Distribuidora Los Andes")
    today = datetime.now(ZoneInfo("America/Santiago")).date()
    path = tmp_path / "clientes.csv"
    _file(path, today)
    context = browser.new_context(locale="es-CL", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()

    page.goto(live_server + "/clients")
    page.get_by_test_id("import-button").click()
    page.set_input_files("#file", str(path))
    page.locator("[data-testid=import-form] button[type=submit]").click()

    counts = page.get_by_test_id("import-counts")
    expect(counts).to_contain_text("49")
    expect(counts).to_contain_text("1")
    rejected = page.locator("[data-testid=attention-rows] tr[data-status=rejected]")
    expect(rejected).to_have_count(1)
    expect(page.locator("tr[data-row='6']")).to_contain_text("Correo")   # the warning beside its row
    expect(page.locator("tr[data-row='18']")).to_contain_text("Teléfono")
    expect(page.locator("tr[data-row='34']")).to_contain_text("Nombre")
    expect(page.locator("[data-testid=new-rows] tbody tr")).to_have_count(47)
    shoot(page, "import", "preview")

    page.get_by_test_id("confirm-import").click()
    expect(page.get_by_test_id("import-result")).to_be_visible()
    expect(page.get_by_test_id("import-result")).to_contain_text("49")
    shoot(page, "import", "result")

    with page.expect_download() as download_info:
        page.get_by_test_id("download-rejected").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))  # Excel in Chile opens it in columns
    assert len(table) == 2 and table[1][0] and table[1][2] == "cliente33@example.com"

    page.goto(live_server + "/clients?mine=0&q=importado")
    expect(page.locator("#client-list")).to_contain_text("49")
    shoot(page, "import", "list")
    context.close()
