"""Secrets the business must be able to show again, stored so that the database alone
gives nothing away (issue 20, finding 10; TOK-1).

A personal referral code is printed on QR codes and shared as a link, and a testimonial
wall's key sits in the embed code the owner copies: both must be shown again, so a
one-way hash alone cannot hold them. Each is stored twice: its SHA-256
(``security.hash_secret``), the only thing public look-ups compare, and a sealed copy
(AES-256-GCM under a key derived from SECRET_KEY by HKDF, one key per purpose) that only
the running application can open to show it. A copy of the database, a backup or a
data export reveals neither; a stolen SECRET_KEY would, exactly as it would let anyone
sign sessions. SECRET_KEY_FALLBACKS still open values sealed before a key rotation."""
from __future__ import annotations

import base64
import os

from flask import current_app

_VERSION = "v1:"


def _keys(purpose: str) -> list[bytes]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = [current_app.config["SECRET_KEY"], *(current_app.config.get("SECRET_KEY_FALLBACKS") or [])]
    return [HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"pymes sealed {purpose} v1".encode())
            .derive(key.encode() if isinstance(key, str) else bytes(key)) for key in raw]


def seal(value: str, purpose: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return _VERSION + base64.urlsafe_b64encode(
        nonce + AESGCM(_keys(purpose)[0]).encrypt(nonce, value.encode(), purpose.encode())).decode()


def unseal(stored: str | None, purpose: str) -> str | None:
    """The value, or None when nothing is stored or no configured key opens it."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not stored or not stored.startswith(_VERSION):
        return None
    blob = base64.urlsafe_b64decode(stored[len(_VERSION):])
    for key in _keys(purpose):
        try:
            return AESGCM(key).decrypt(blob[:12], blob[12:], purpose.encode()).decode()
        except InvalidTag:
            continue
    return None
