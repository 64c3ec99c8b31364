"""A fake Graph API on 127.0.0.1: a real HTTP server that checks each request's path,
token and JSON body the way the WhatsApp Cloud API documents them, and answers with the
Cloud API's documented responses and errors. No network."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

VERSION = "v21.0"
PHONE_ID = "106540352242922"
WABA_ID = "102290129340398"
TOKEN = "EAAGtestPermanentToken0123456789abcdef"


def graph_error(status: int, code: int, message: str, kind: str = "OAuthException", subcode: int | None = None):
    error = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEf123"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return status, {"error": error}


class FakeGraph:
    def __init__(self):
        self.requests: list[dict] = []
        self.script: list = []  # answers to give before the default behaviour: (status, body) or ("sleep", s)
        self.numbers = {PHONE_ID: {"display_phone_number": "+56 9 8765 4321", "verified_name": "Ferretería Sur",
                                   "id": PHONE_ID}}
        self.tokens = {TOKEN}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                record = {"method": method, "path": parts.path, "query": parse_qs(parts.query),
                          "authorization": self.headers.get("Authorization"),
                          "content_type": self.headers.get("Content-Type"),
                          "json": json.loads(raw) if raw else None}
                fake.requests.append(record)
                if fake.script:
                    step = fake.script.pop(0)
                    if step[0] == "sleep":
                        time.sleep(step[1])
                        return self._answer(200, {"late": True})
                    return self._answer(*step)
                return self._answer(*fake.answer(record))

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

        return Handler

    def answer(self, record):
        segments = record["path"].strip("/").split("/")
        if not segments or segments[0] != VERSION:
            return graph_error(400, 2500, "Unknown path components")
        auth = record["authorization"] or ""
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return graph_error(401, 190, "Error validating access token: Session has expired.", subcode=463)
        missing = graph_error(400, 100, f"Unsupported get request. Object with ID '{segments[1]}' does not exist, "
                              "cannot be loaded due to missing permissions, or does not support this operation.",
                              kind="GraphMethodException", subcode=33)
        if record["method"] == "GET" and len(segments) == 2:
            number = self.numbers.get(segments[1])
            if number is None:
                return missing
            fields = record["query"].get("fields", [""])[0].split(",")
            return 200, {k: v for k, v in number.items() if k in fields or k == "id"}
        if record["method"] == "POST" and len(segments) == 3 and segments[2] == "messages":
            if segments[1] not in self.numbers:
                return missing
            body = record["json"] or {}
            if record["content_type"] != "application/json" or body.get("messaging_product") != "whatsapp":
                return graph_error(400, 100, "The parameter messaging_product is required.")
            kind = body.get("type")
            if kind == "text" and not (body.get("text") or {}).get("body"):
                return graph_error(400, 100, "Param text['body'] is required.")
            if kind == "template" and not ((body.get("template") or {}).get("language") or {}).get("code"):
                return graph_error(400, 100, "Param template['language']['code'] is required.")
            if kind not in ("text", "template"):
                return graph_error(400, 100, "Invalid parameter")
            return 200, {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                         "messages": [{"id": f"wamid.HBgL{len(self.requests):04d}"}]}
        return graph_error(400, 100, "Invalid request")


@pytest.fixture
def graph():
    fake = FakeGraph()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def app_overrides(graph):
    return {"WHATSAPP_API_BASE": graph.url, "WHATSAPP_API_VERSION": VERSION, "WHATSAPP_TIMEOUT": 0.5}
