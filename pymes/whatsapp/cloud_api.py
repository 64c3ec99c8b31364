"""The one place the application talks to Meta's WhatsApp Business Cloud API.

Every call is one HTTPS request to the Graph API,
``{WHATSAPP_API_BASE}/{WHATSAPP_API_VERSION}/...`` (by default
``https://graph.facebook.com/v21.0/...``), with the business's access token in the
``Authorization: Bearer`` header, never in the URL. Tests point ``WHATSAPP_API_BASE``
at a local HTTP server; nothing here knows about tests.

A worker waiting on Meta serves no one else, so the waits are short and bounded:

- ``CONNECT_TIMEOUT`` (2 s) to open the connection, ``WHATSAPP_TIMEOUT`` (5 s by
  default) for Meta's answer (requests' read timeout);
- ``RETRIES`` (2) more attempts after a timeout, a connection failure or a 5xx, after
  ``BACKOFF`` seconds (0.3, then 0.8). Never after a 4xx: a wrong token, a wrong id or
  a refused message stays wrong, and a rate limit is not helped by asking again at once.
  So one call waits at most about 3 × 7 s + 1.1 s, whatever Meta does.

Failures become ``WhatsAppError`` with a ``kind`` and a ``message`` in the reader's
language for the owner ("the access token is not valid", "no WhatsApp number with
that id"). The log gets the path, the status and Meta's error code; never the token
and never a message's text."""
from __future__ import annotations

import logging
import time

import requests
from flask import current_app
from flask_babel import gettext as _

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 2.0
RETRIES = 2
BACKOFF = (0.3, 0.8)

# Meta's error codes (Graph API "error.code") grouped by what the owner can do about them.
_TOKEN_CODES = {190, 102}                     # expired, revoked or malformed access token
_PERMISSION_CODES = {10, 200, 3, 131005}      # the token lacks the WhatsApp permissions
_RATE_CODES = {4, 80007, 130429, 131048, 131056}
_RECIPIENT_CODES = {131026, 131030, 131009}   # not a WhatsApp number / not allowed / bad parameter
_TEMPLATE_CODES = {132000, 132001, 132005, 132007, 132012, 132015, 132016}
_WINDOW_CODES = {131047}                      # outside the 24-hour customer-service window


class WhatsAppError(RuntimeError):
    """A Cloud API call that did not do what was asked. ``kind`` is one of ``token``,
    ``permission``, ``phone_number``, ``rate_limit``, ``recipient``, ``template``,
    ``window``, ``rejected`` (any other 4xx) and ``unavailable`` (timeouts, 5xx,
    no connection, after the retries); and, decided here before calling Meta,
    ``opted_out``, ``cap``, ``no_template`` and ``not_connected``."""

    def __init__(self, kind: str, status: int | None = None, code: int | None = None, detail: str = ""):
        super().__init__(f"whatsapp {kind} (status {status}, code {code})")
        self.kind, self.status, self.code, self.detail = kind, status, code, detail

    @property
    def message(self) -> str:
        """What went wrong, for the owner, in the current language."""
        text = {
            "token": _("Meta did not accept the access token: it is wrong, has expired or was revoked. Create a "
                       "permanent token for a system user and paste it again."),
            "permission": _("The access token does not have permission to use this WhatsApp number. Give the system "
                            "user the whatsapp_business_messaging and whatsapp_business_management permissions."),
            "phone_number": _("Meta has no WhatsApp number with that phone-number id for this token. Copy the id from "
                              "WhatsApp → API Setup in your Meta app (it is not the phone number itself)."),
            "rate_limit": _("Meta is limiting how many requests this number may make right now. Try again in a few "
                            "minutes."),
            "recipient": _("This person cannot receive WhatsApp messages from the business on that number."),
            "template": _("Meta did not accept the message template: check its name and language in WhatsApp "
                          "Manager and that it is approved."),
            "window": _("More than 24 hours have passed since the client last wrote: only an approved template can be "
                        "sent."),
            "unavailable": _("Meta's WhatsApp service did not answer. Nothing was changed; try again in a moment."),
            "opted_out": _("This client asked on WhatsApp not to receive automatic messages there."),
            "cap": _("This month's WhatsApp messages reached the limit set on Settings → WhatsApp: nothing was sent."),
            "no_template": _("More than 24 hours have passed since the client last wrote, and no approved template is "
                             "named for this message in the client's language: nothing was sent."),
            "not_connected": _("WhatsApp is not connected: use the wa.me link instead."),
        }.get(self.kind)
        if text is None:
            text = _("Meta refused the request: %(detail)s", detail=self.detail or self.status)
        return text


def _classify(status: int, error: dict) -> str:
    code = error.get("code")
    if status == 401 or code in _TOKEN_CODES:
        return "token"
    if code in _PERMISSION_CODES or status == 403:
        return "permission"
    if status == 429 or code in _RATE_CODES:
        return "rate_limit"
    if code in _WINDOW_CODES:
        return "window"
    if code in _TEMPLATE_CODES:
        return "template"
    if code in _RECIPIENT_CODES:
        return "recipient"
    if code == 100 and (error.get("error_subcode") == 33 or status == 404):
        return "phone_number"  # "Unsupported get request. Object with ID ... does not exist"
    if status == 404:
        return "phone_number"
    return "rejected"


def _error_of(response: requests.Response) -> WhatsAppError:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    kind = _classify(response.status_code, {**error, "code": code})
    detail = str(error.get("message") or "")[:200]
    return WhatsAppError(kind, response.status_code, code, detail)


def _request(method: str, path: str, token: str, *, params: dict | None = None, body: dict | None = None) -> dict:
    config = current_app.config
    base = str(config.get("WHATSAPP_API_BASE") or "https://graph.facebook.com").rstrip("/")
    version = str(config.get("WHATSAPP_API_VERSION") or "v21.0").strip("/")
    url = f"{base}/{version}/{path.lstrip('/')}"
    timeout = (CONNECT_TIMEOUT, float(config.get("WHATSAPP_TIMEOUT") or 5))
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    failure: WhatsAppError | None = None
    for attempt in range(RETRIES + 1):
        if attempt:
            time.sleep(BACKOFF[min(attempt - 1, len(BACKOFF) - 1)])
        try:
            response = requests.request(method, url, headers=headers, params=params, json=body, timeout=timeout,
                                        allow_redirects=False)
        except requests.RequestException as error:  # timeouts and connection failures
            log.warning("whatsapp %s %s: %s (attempt %d)", method, path, type(error).__name__, attempt + 1)
            failure = WhatsAppError("unavailable")
            continue
        if response.status_code >= 500:
            log.warning("whatsapp %s %s: status %d (attempt %d)", method, path, response.status_code, attempt + 1)
            failure = WhatsAppError("unavailable", response.status_code)
            continue
        if response.status_code >= 400:
            error = _error_of(response)
            log.warning("whatsapp %s %s: status %d, code %s, %s", method, path, response.status_code, error.code,
                        error.kind)
            raise error
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            log.warning("whatsapp %s %s: status %d without a JSON object", method, path, response.status_code)
            raise WhatsAppError("unavailable", response.status_code)
        return data
    assert failure is not None
    raise failure


def _recipient(phone: str) -> str:
    """The Cloud API's ``to``: the number in international form, digits only."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not 8 <= len(digits) <= 15:
        raise WhatsAppError("recipient")
    return digits


def _message_id(data: dict) -> str:
    messages = data.get("messages") or []
    if not messages or not isinstance(messages[0], dict) or not messages[0].get("id"):
        raise WhatsAppError("unavailable")
    return str(messages[0]["id"])


def verify(phone_number_id: str, token: str) -> dict:
    """Ask Meta about the number: ``{"display_phone_number": "+56 9 ...", "verified_name": ...}``.
    Raises ``WhatsAppError`` (``token``, ``phone_number``, ...) when the pair does not work."""
    data = _request("GET", phone_number_id, token, params={"fields": "display_phone_number,verified_name"})
    return {"display_phone_number": str(data.get("display_phone_number") or "")[:40],
            "verified_name": str(data.get("verified_name") or "")[:200]}


def send_text(phone_number_id: str, token: str, to: str, text: str) -> str:
    """A free-form text message (only inside the 24-hour window); Meta's message id."""
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": _recipient(to), "type": "text",
            "text": {"preview_url": False, "body": text}}
    return _message_id(_request("POST", f"{phone_number_id}/messages", token, body=body))


def send_template(phone_number_id: str, token: str, to: str, name: str, language: str,
                  parameters: list[str] | tuple[str, ...] = ()) -> str:
    """An approved template with its body parameters ({{1}}, {{2}}, ... in order); Meta's message id."""
    template: dict = {"name": name, "language": {"code": language}}
    if parameters:
        template["components"] = [{"type": "body",
                                   "parameters": [{"type": "text", "text": str(p)} for p in parameters]}]
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": _recipient(to),
            "type": "template", "template": template}
    return _message_id(_request("POST", f"{phone_number_id}/messages", token, body=body))
