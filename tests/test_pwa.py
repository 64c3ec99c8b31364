"""The installable app (issue 21, point 2): manifest, icons, favicon, the service worker
served from the root, the CSP that lets it run, and log-out that clears what was kept."""
import io
import json

from PIL import Image

from .factories import csrf_token, login


def test_favicon_answers_instead_of_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/x-icon"
    assert Image.open(io.BytesIO(response.data)).format == "ICO"


def test_manifest_names_the_business_and_lists_installable_icons(app, make):
    business = make.business("Ferretería Los Andes")
    owner = make.user(business, "owner")
    http = app.test_client()
    assert json.loads(http.get("/manifest.webmanifest").data)["name"] == "Fideliza"
    login(http, owner.email)
    response = http.get("/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = json.loads(response.data)
    assert manifest["name"].startswith("Ferretería Los Andes") and manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    sizes = set()
    for icon in manifest["icons"]:
        image = http.get(icon["src"])
        assert image.status_code == 200, icon
        picture = Image.open(io.BytesIO(image.data))
        assert picture.format == "PNG" and f"{picture.width}x{picture.height}" == icon["sizes"]
        sizes.add((icon["sizes"], icon["purpose"]))
    assert {("192x192", "maskable"), ("512x512", "maskable"), ("192x192", "any"), ("512x512", "any")} <= sizes
    page = http.get("/").get_data(as_text=True)
    assert 'rel="manifest" href="/manifest.webmanifest"' in page and f'data-member="{owner.id}"' in page


def test_service_worker_is_served_from_the_root_and_allowed_by_the_csp(client):
    """WEB-2: the policy stays strict and names the worker's origin explicitly."""
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-store" in response.headers["Cache-Control"] or "no-cache" in response.headers["Cache-Control"]
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "worker-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    body = response.get_data(as_text=True)
    assert '"/agenda"' in body and "/f/" in body  # keeps the agenda; public pages are only named to be left alone


def test_log_out_tells_the_browser_to_forget_its_cache(app, make):
    business = make.business()
    owner = make.user(business, "owner")
    http = app.test_client()
    login(http, owner.email)
    response = http.post("/logout", data={"csrf_token": csrf_token(http, "/")})
    assert response.status_code == 303
    assert response.headers["Clear-Site-Data"] == '"cache"'
    page = http.get("/login").get_data(as_text=True)
    assert 'data-member=""' in page  # pwa.js empties the service worker's caches there
