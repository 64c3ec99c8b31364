"""The package installs (issue 22, point 8): a wheel built from the source holds the
templates, static files, translations and migrations, and the app runs from it alone.

The wheel is built with the project's own setuptools (no build isolation, no index) and
installed into a fresh virtual environment that borrows the project's installed
libraries through a ``.pth`` line, so nothing is downloaded. The app is then started in
a separate process from a directory outside the checkout.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "setup.py", "pymes", "templates", "static", "translations", "migrations")

pytestmark = pytest.mark.slow


def _copy_sources(dest: Path) -> None:
    # A copy, so the build never writes build/ or *.egg-info into the shared checkout.
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "_bundle", "*.egg-info")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=skip)
        else:
            shutil.copy2(source, dest / name)


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{args[:4]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


APP_SCRIPT = textwrap.dedent('''
    import pathlib, sys
    import pymes
    from flask_migrate import upgrade

    where = pathlib.Path(pymes.__file__).resolve()
    assert "site-packages" in where.parts, where
    assert not str(where).startswith(sys.argv[1]), where  # not the checkout

    app = pymes.create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[2]})
    with app.app_context():
        upgrade()  # the migrations shipped in the wheel
    client = app.test_client()
    page = client.get("/login", headers={"Accept-Language": "es"})
    print("login", page.status_code)
    print("spanish", "¿Olvidaste tu contraseña?" in page.get_data(as_text=True))
    css = client.get("/static/css/app.css")
    print("css", css.status_code)
    htmx = client.get("/static/vendor/htmx.min.js")
    print("htmx", htmx.status_code)
''')


def test_wheel_installs_and_serves_the_login_page(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    _copy_sources(source)
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--disable-pip-version-check", "-q", "-w", str(wheels), str(source)])
    (wheel,) = wheels.glob("pymes-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("pymes/clients/routes.py", "pymes/accounts/mfa.py", "pymes/_bundle/templates/base.html",
                     "pymes/_bundle/static/css/app.css", "pymes/_bundle/translations/es/LC_MESSAGES/messages.mo",
                     "pymes/_bundle/migrations/env.py"):
        assert expected in names, expected
    versions = [n for n in names if n.startswith("pymes/_bundle/migrations/versions/") and n.endswith(".py")]
    assert len(versions) == len(list((ROOT / "migrations" / "versions").glob("*.py")))

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # The project's libraries (Flask, SQLAlchemy…) without downloading them; a plain path
    # line, so the project's editable install of pymes is not picked up.
    (site / "project-libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
          "--disable-pip-version-check", "-q", str(wheel)])

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYMES_", "DATABASE_URL", "PYTHON", "REDIS_URL"))}
    result = _run([str(python), "-c", APP_SCRIPT, str(ROOT), str(elsewhere / "app.sqlite3")], cwd=elsewhere, env=env)
    lines = dict(line.split(" ", 1) for line in result.stdout.split("\n") if " " in line)
    assert lines.get("login") == "200", result.stdout + result.stderr
    assert lines.get("spanish") == "True"  # the compiled catalogs came with the wheel
    assert lines.get("css") == "200"
    if (ROOT / "static" / "vendor" / "htmx.min.js").exists():  # vendored by scripts/setup
        assert lines.get("htmx") == "200"
