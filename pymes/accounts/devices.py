"""Device cookies (OWASP "Blocking Brute Force Attacks", device cookies).

A browser that has logged in to an account keeps a signed cookie naming that account
(by a keyed hash, never the address itself) and a random nonce. The per-account log-in
limit (AUTH-2) then spares that device: ten wrong passwords typed elsewhere lock out
new devices, not the person on their own phone. The device's own failures are counted
against the device instead (same figures), so a copied cookie buys no unlimited guesses.

The cookie is signed with the app's SECRET_KEY (itsdangerous): it cannot be forged or
moved to another account, and it expires."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "device"
MAX_AGE_DAYS = 180
MAX_ACCOUNTS = 5  # shared shop computers: a few accounts per browser


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="pymes-device-cookie")


def _account_tag(address: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"device:" + address.encode(), hashlib.sha256).hexdigest()[:24]


def _read() -> dict | None:
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 1000:
        return None
    try:
        data = _serializer().loads(raw, max_age=MAX_AGE_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str) or not isinstance(data.get("a"), list):
        return None
    return data


def known_device(address: str) -> str | None:
    """This request's device id if the browser logged in to ``address`` before, else None."""
    data = _read()
    if data is None or _account_tag(address) not in data["a"]:
        return None
    return data["n"]


def remember(response, address: str):
    """After a successful log-in: mark this browser as a device of ``address``."""
    data = _read() or {"n": secrets.token_urlsafe(16), "a": []}
    tag = _account_tag(address)
    accounts = [a for a in data["a"] if a != tag][-(MAX_ACCOUNTS - 1):] + [tag]
    response.set_cookie(COOKIE, _serializer().dumps({"n": data["n"], "a": accounts}),
                        max_age=MAX_AGE_DAYS * 86400, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], path="/login")
    return response
