"""Browser tests: the real app served on a local port, driven by Playwright in
Debian's Chromium (pytest-playwright cannot download its own browser here)."""
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"  # git-ignored


def pytest_collection_modifyitems(config, items):
    if not os.path.exists(CHROMIUM):
        skip = pytest.mark.skip(reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium; "
                                            "pytest-playwright cannot download its own browser here)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def fresh_gzip_copies():
    """WhiteNoise serves static/*.gz to a browser that takes gzip: a copy older than its
    stylesheet or script (scripts/setup made it before the file changed) would test the
    old one. Remade here, as scripts/setup does."""
    static = Path(__file__).resolve().parents[2] / "static"
    stale = [f for f in static.rglob("*.*") if f.suffix in (".css", ".js") and (
        not Path(str(f) + ".gz").exists() or Path(str(f) + ".gz").stat().st_mtime < f.stat().st_mtime)]
    if stale:
        from whitenoise.compress import Compressor

        compressor = Compressor(use_brotli=False, quiet=True)
        for f in stale:
            list(compressor.compress(str(f)))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1:<free port>, threaded, with e-mailed links pointing at it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def shoot():
    """Save a full-page screenshot as test-artifacts/screenshots/<prefix>-NN-<step>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    counter = {"n": 0}

    def take(page, prefix: str, step: str):
        counter["n"] += 1
        page.screenshot(path=str(SCREENSHOTS / f"{prefix}-{counter['n']:02d}-{step}.png"), full_page=True)

    return take
