"""Issue 21, point 1: on a phone every link and button a seller taps is at least 44×44 px
(WCAG 2.5.5's size, the one the issue asks for) and shows where the focus is.

A few representative pages of the demo business (home, agenda, client list, a client's
page, the complaints board, the feedback inbox, a form) are opened at 390 px, and every
visible link, button, <summary> and form field in the main content, the header and the
bottom bar is measured with getBoundingClientRect.

What is exempt, and why (WCAG 2.5.8's exceptions):
- a link inside running text (``display: inline`` in a block that holds other words: the
  home page's first steps, "Invite your team: 3 people in the team."; static/css/app.css
  keeps them inline under ``.steps`` and ``.in-text``): its height is the line's, as
  2.5.8's "inline" exception allows; drawn as a 44-px box it would break the sentence
  into pieces (every other link in the content is a 44-px box on a phone);
- a checkbox or radio inside its <label>: the label is the target (a tap on the words
  ticks the box), so the label is measured instead;
- what is not drawn (a closed <details>' content, a visually-hidden skip text, a
  <noscript> button)."""
from __future__ import annotations

import pytest

from pymes.cli import DEMO_EMAIL, DEMO_PASSWORD
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

MIN = 44
# every target too small, and the inline ones let through (as [kind, description])
MEASURE = """(min) => {
  const out = {small: [], inline: [], measured: 0};
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      (e.getAttribute('class') ? '.' + e.getAttribute('class').trim().split(/\\s+/).join('.') : '') +
      ' "' + (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().slice(0, 40) + '"';
  const blockOf = e => { let b = e.parentElement;
    while (b && getComputedStyle(b).display.startsWith('inline')) b = b.parentElement; return b; };
  const sel = 'a[href], button, summary, [role=button], input:not([type=hidden]), select, textarea';
  for (const area of document.querySelectorAll('main, body > header, nav.bottom-nav')) {
    for (let e of area.querySelectorAll(sel)) {
      if (e.closest('noscript')) continue;
      let shut = false;  // inside a closed <details> (its summary aside): not drawn
      for (let d = e.closest('details'); d && !shut; d = d.parentElement && d.parentElement.closest('details'))
        shut = !d.open && !(d.querySelector(':scope > summary') || document.body).contains(e);
      if (shut) continue;
      if ((e.type === 'checkbox' || e.type === 'radio') && e.closest('label')) e = e.closest('label');
      const r = e.getBoundingClientRect(), s = getComputedStyle(e);
      if (r.width <= 1 || r.height <= 1 || s.visibility === 'hidden') continue;  // not drawn
      out.measured++;
      if (r.height >= min - 0.5 && r.width >= min - 0.5) continue;
      if (s.display === 'inline') {
        const block = blockOf(e), own = (e.innerText || '').trim().length;
        if (block && (block.innerText || '').trim().length > own) { out.inline.push(name(e)); continue; }
      }
      out.small.push(name(e) + ' ' + Math.round(r.width) + '×' + Math.round(r.height));
    }
  }
  return out;
}"""


def test_every_tap_target_on_a_phone_is_44_px(browser, live_server, app):
    from sqlalchemy import select

    from pymes.clients.models import Client
    from pymes.complaints.models import Complaint
    from pymes.demo import _existing_business_id, build
    from pymes.extensions import db
    from pymes.tenancy import bound

    with app.app_context():
        build(echo=lambda *a: None)
        with bound(_existing_business_id()):
            client_id = db.session.execute(select(Client.id).order_by(Client.id).limit(1)).scalar_one()
            complaint_id = db.session.execute(select(Complaint.id).order_by(Complaint.id).limit(1)).scalar_one()
    pages = ["/", "/agenda", "/clients", f"/clients/{client_id}", "/complaints", f"/complaints/{complaint_id}",
             "/feedback", "/clients/new", "/referrals"]
    context = browser.new_context(locale="es-CL", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("#email", DEMO_EMAIL)
    page.fill("#password", DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(live_server + "/")
    failures, inline, measured = [], 0, 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path in pages:
        page.goto(live_server + path)
        found = page.evaluate(MEASURE, MIN)
        failures += [f"{path}: {s}" for s in found["small"]]
        inline += len(found["inline"])
        measured += found["measured"]
        name = path.strip("/").replace("/", "-") or "home"
        page.screenshot(path=str(SCREENSHOTS / f"tap-390-{name}.png"), full_page=True)
        # a keyboard user sees where the focus is: the first link of the content
        first = page.locator("main a[href]").first
        if first.count():
            first.focus()
            style = page.evaluate("() => { const s = getComputedStyle(document.activeElement); "
                                  "return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }")
            assert style[0] != "none" and style[1] != "0px" or style[2] != "none", f"{path}: no visible focus {style}"
    context.close()
    assert measured > 200, measured  # the pages were drawn, with their data
    assert inline >= 2, inline  # the first steps' links, in their sentences
    assert not failures, f"{len(failures)} targets under {MIN} px at 390 px:\n" + "\n".join(failures)
