"""The logo's pixel size (issue 20, finding 14): it was checked by its first bytes
only, and a 14 KB PNG declaring 60000 x 60000 was accepted and served to the business's
customers (a browser would need gigabytes to show it)."""
import io
import struct
import zlib

import pytest
from PIL import Image

from pymes.accounts.models import Business
from pymes.extensions import db

from ..factories import login
from .test_settings import save_business


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def declared_png(width: int, height: int) -> bytes:
    """A small, well-formed PNG whose header declares ``width`` x ``height``: the rows
    are a compressed run of zeros, only as many as fit in ~14 KB."""
    rows = zlib.compress(b"\x00" * (1 + width) * 200, 9)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + _chunk(b"IDAT", rows) + _chunk(b"IEND", b""))


def real_image(width: int, height: int, kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


@pytest.fixture
def owner_client(app, make):
    business = make.business()
    owner = make.user(business)
    http = app.test_client()
    login(http, owner.email)
    return http, business


def _logo(app, business):
    with app.app_context():
        return db.session.get(Business, business.id).logo


def test_a_small_file_declaring_60000_by_60000_pixels_is_refused(app, owner_client):
    http, business = owner_client
    bomb = declared_png(60000, 60000)
    assert len(bomb) < 300 * 1024
    response = save_business(http, name="Se queda", logo=(io.BytesIO(bomb), "logo.png"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="logo-error"' in html and "2000 × 2000" in html and 'value="Se queda"' in html
    assert _logo(app, business) is None


@pytest.mark.parametrize("size", [(2001, 10), (10, 2400)])
def test_a_real_image_larger_than_2000_pixels_a_side_is_refused(app, owner_client, size):
    http, business = owner_client
    response = save_business(http, logo=(io.BytesIO(real_image(*size)), "logo.png"))
    assert response.status_code == 422 and _logo(app, business) is None


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP"])
def test_an_ordinary_logo_is_kept(app, owner_client, kind):
    http, business = owner_client
    data = real_image(600, 200, kind)
    assert save_business(http, logo=(io.BytesIO(data), "logo")).status_code == 303
    assert _logo(app, business) == data


def test_a_file_that_only_starts_like_an_image_is_refused(app, owner_client):
    http, business = owner_client
    fake = b"\x89PNG\r\n\x1a\n" + b"<script>alert(1)</script>" * 10
    response = save_business(http, logo=(io.BytesIO(fake), "logo.png"))
    assert response.status_code == 422 and _logo(app, business) is None
