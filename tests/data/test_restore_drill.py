"""scripts/restore-drill: a backup restored into a scratch database holds the same rows,
and a restore that lost a row fails the drill (SQLite here; PostgreSQL when the suite
runs on it, through the owner URL as a backup job would)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from ..conftest import TEST_DATABASE_URL
from .fill import filled_business

pytestmark = pytest.mark.skipif(bool(TEST_DATABASE_URL) and not shutil.which("pg_dump"),
                                reason="pg_dump and pg_restore are not installed")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "restore-drill"


def drill(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120)


def row(output: str, table: str) -> tuple[str, str, str]:
    match = re.search(rf"^{table}\s+(\S+)\s+(\S+)\s+(\S+)$", output, re.M)
    assert match, output
    return match.groups()


def source_url(database) -> str:
    app_url, _owner = database
    return TEST_DATABASE_URL or app_url


def test_restore_drill_finds_every_row_again(app, make, database):
    filled_business(app, make, "Alfa")
    filled_business(app, make, "Beta")
    with database[1].connect() as conn:
        clients = conn.execute(text("SELECT count(*) FROM clients")).scalar_one()

    result = drill(source_url(database))

    assert result.returncode == 0, result.stdout + result.stderr
    assert row(result.stdout, "clients") == (str(clients), str(clients), "ok")
    assert row(result.stdout, "users")[2] == "ok"
    assert "restore drill passed" in result.stdout


def test_a_restore_missing_a_row_fails_the_drill(app, make, database, tmp_path):
    filled_business(app, make, "Alfa")

    result = drill(source_url(database), "--tamper", "sales", "--keep", str(tmp_path / "kept"))

    assert result.returncode == 1, result.stdout + result.stderr
    source, restored, verdict = row(result.stdout, "sales")
    assert (int(source) - int(restored), verdict) == (1, "DIFFERENT")
    assert row(result.stdout, "clients")[2] == "ok"
    assert "RESTORE DRILL FAILED" in result.stdout
    assert len(list((tmp_path / "kept").iterdir())) == 1  # the backup itself is kept, untouched


def test_a_missing_database_is_an_error_not_a_pass(tmp_path):
    result = drill(f"sqlite:///{tmp_path / 'nothing.sqlite3'}")

    assert result.returncode == 2
    assert "no database" in result.stderr
    assert not (tmp_path / "nothing.sqlite3").exists()
