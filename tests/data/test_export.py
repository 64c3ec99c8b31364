"""DATA-3: an owner downloads everything the business owns, and nothing of anyone else's."""
from __future__ import annotations

import csv
import io
import json
import zipfile

from pymes.data.services import tenant_tables

from ..factories import login
from .fill import PNG, filled_business


def download(client):
    response = client.get("/settings/data/export.zip")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def read_csv(archive, name):
    text = archive.read(name).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_owner_downloads_one_csv_per_tenant_table_with_a_manifest(app, make, client):
    business, owner, _seller = filled_business(app, make, "Alfa")
    filled_business(app, make, "Canary")
    login(client, owner.email)

    archive = download(client)
    manifest = json.loads(archive.read("manifest.json"))

    with app.app_context():
        expected = {t.name for t in tenant_tables()}
    assert expected <= {f["table"] for f in manifest["files"]}
    assert manifest["business"] == "Negocio Alfa"
    assert manifest["generated_at"].endswith("Z")
    for entry in manifest["files"]:
        if not entry["file"].endswith(".csv"):
            continue
        rows = read_csv(archive, entry["file"])
        assert len(rows) == entry["rows"], entry["file"]
        header = next(csv.reader(io.StringIO(archive.read(entry["file"]).decode("utf-8-sig"))))
        assert header == entry["columns"], entry["file"]
        assert entry["rows"] >= 1, f"{entry['table']}: the filled business has a row there"
    clients = read_csv(archive, "clients.csv")
    assert sorted(c["name"] for c in clients) == ["Amigo Alfa", "Cliente Alfa"]
    assert archive.read("logo.png") == PNG
    assert read_csv(archive, "businesses.csv")[0]["name"] == "Negocio Alfa"


def test_export_never_holds_another_business_or_a_secret(app, make, client):
    _business, owner, _seller = filled_business(app, make, "Alfa")
    filled_business(app, make, "Canary")
    login(client, owner.email)

    archive = download(client)
    everything = b"".join(archive.read(name) for name in archive.namelist())

    assert b"Canary" not in everything and b"canary" not in everything
    for secret in (b"secret-token-hash", b"secret-session-hash", b"secret-wall-key", b"checkout.stripe.test",
                   b"secret-whatsapp", b"$argon2", b"pbkdf2", b"scrypt"):
        assert secret not in everything, secret
    users = read_csv(archive, "users.csv")
    assert "password_hash" not in users[0] and {u["email"] for u in users} == {"owner-alfa@example.com",
                                                                                 "seller-alfa@example.com"}
    assert "token_hash" not in read_csv(archive, "tokens.csv")[0]


def test_export_cells_cannot_run_as_formulas(app, make, client):
    _business, owner, _seller = filled_business(app, make, "Alfa")
    login(client, owner.email)

    clients = read_csv(download(client), "clients.csv")

    noted = next(c for c in clients if c["name"] == "Cliente Alfa")
    assert noted["notes"] == "'=HYPERLINK(\"http://x\")"


def test_only_the_owner_downloads_or_sees_the_page(app, make, client):
    business, owner, seller = filled_business(app, make, "Alfa")
    manager = make.user(business, "manager")
    for user in (seller, manager):
        http = app.test_client()
        login(http, user.email)
        assert http.get("/settings/data/export.zip").status_code == 403
        assert http.get("/settings/data").status_code == 403
    assert client.get("/settings/data/export.zip").status_code in (302, 401)

    login(client, owner.email)
    page = client.get("/settings/data").get_data(as_text=True)
    assert "/settings/data/export.zip" in page
    settings = client.get("/settings/business").get_data(as_text=True)
    assert 'href="/settings/data"' in settings


def test_the_zip_streams_in_small_chunks(app, make, client, tmp_path, monkeypatch):
    """5,000 clients leave in chunks as they are compressed: no chunk holds more than a
    small part of the file, so memory stays flat whatever the business's size."""
    import hashlib

    from sqlalchemy import insert

    from pymes.clients.models import Client
    from pymes.data import services
    from pymes.db import utcnow
    from pymes.extensions import db
    from pymes.tenancy import bound

    monkeypatch.setattr(services, "CHUNK_BYTES", 8 * 1024)
    business = make.business("Negocio Grande")
    owner = make.user(business, "owner")
    with app.app_context(), bound(business.id):
        now = utcnow()
        db.session.execute(insert(Client), [
            {"tenant_id": business.id, "name": f"Cliente {i:05d}", "kind": "client", "company": "",
             "tax_id": f"{i * 7919 % 100003}-{i % 10}", "address": f"Calle {i * 31 % 9973}",
             "notes": hashlib.sha256(str(i).encode()).hexdigest(),
             "is_key": False, "tier_override_reason": "", "sales_count": 0, "revenue_12m": 0,
             "created_at": now, "updated_at": now} for i in range(5_000)])
        db.session.commit()
    login(client, owner.email)

    response = client.get("/settings/data/export.zip", buffered=False)
    sizes = []
    with open(tmp_path / "all.zip", "wb") as out:
        for chunk in response.response:
            sizes.append(len(chunk))
            out.write(chunk)
    response.close()

    archive = zipfile.ZipFile(tmp_path / "all.zip")
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    assert next(f for f in manifest["files"] if f["table"] == "clients")["rows"] == 5_000
    assert len(read_csv(archive, "clients.csv")) == 5_000
    assert sum(sizes) > 4 * max(sizes), sizes  # streamed in parts, not one block at the end
    assert max(sizes) < 64 * 1024
