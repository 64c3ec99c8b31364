"""performance.md: a first page load transfers under 100 KB in total (html + css + js).
The static files go gzipped to browsers that accept it (WhiteNoise, copies made by
scripts/setup); the page itself is counted as sent."""
import re
from pathlib import Path

import pytest

from pymes.extensions import limiter

from .factories import PASSWORD

STATIC = Path(__file__).resolve().parent.parent / "static"
LIMIT = 100 * 1024


@pytest.fixture(scope="module", autouse=True)
def gzip_copies():
    """What scripts/setup does, for a checkout where it has not run since a file changed."""
    def stale(f: Path) -> bool:
        gz = Path(str(f) + ".gz")
        return not gz.exists() or gz.stat().st_mtime < f.stat().st_mtime

    if any(stale(f) for f in STATIC.rglob("*.*") if f.suffix in (".css", ".js")):
        from whitenoise.compress import Compressor

        compressor = Compressor(use_brotli=False, quiet=True)
        for f in STATIC.rglob("*.*"):
            if f.suffix in (".css", ".js"):
                list(compressor.compress(str(f)))


def transferred(http, path: str) -> tuple[int, dict]:
    """Bytes on the wire for the page and every stylesheet and script it loads."""
    headers = {"Accept-Encoding": "gzip, deflate, br"}
    page = http.get(path, headers=headers)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sizes = {path: len(page.data)}
    for asset in re.findall(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"', html):
        response = http.get(asset, headers=headers)
        assert response.status_code == 200, asset
        sizes[asset] = len(response.data)
        if asset.endswith((".css", ".js")):
            assert response.headers.get("Content-Encoding") == "gzip", asset
            assert response.headers.get("X-Content-Type-Options") == "nosniff"
    return sum(sizes.values()), sizes


def test_the_first_pages_weigh_under_100_kb(app, make):
    limiter.enabled = False
    http = app.test_client()
    total, sizes = transferred(http, "/login")
    assert total < LIMIT, sizes
    assert "/static/vendor/pico.min.css" in sizes and sizes["/static/vendor/pico.min.css"] < 20_000  # 83 KB raw

    business, owner, _manager, _seller = make.team("Librería Peso Pluma")
    page = http.get("/login")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    http.post("/login", data={"csrf_token": token, "email": owner.email, "password": PASSWORD})
    total, sizes = transferred(http, "/")
    assert total < LIMIT, sizes


def test_a_browser_without_gzip_still_gets_the_files(client):
    plain = client.get("/static/vendor/htmx.min.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert b"htmx" in plain.data
