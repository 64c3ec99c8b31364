"""OPS logs: one JSON object per line in production, with tokens and e-mail addresses
taken out of the message, the path and the traceback."""
import json
import logging

from pymes.logs import JsonFormatter, RedactingFormatter, redact

TOKEN = "Zq3vW8xY1bN4mK7pL0sD2fG5hJ9kA6cE"  # 32 URL-safe characters, like our tokens


def _record(message: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("pymes.test", logging.ERROR, __file__, 1, message, args, exc_info)


def test_json_lines_carry_level_logger_and_the_request_path_redacted(app):
    with app.test_request_context(f"/f/{TOKEN}", method="POST"):
        line = JsonFormatter().format(_record("answer failed for %s from ana.perez@example.com", f"/f/{TOKEN}"))
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "pymes.test"
    assert entry["request"] == {"method": "POST", "path": "/f/[redacted]"}
    assert TOKEN not in line and "ana.perez" not in line
    assert entry["msg"] == "answer failed for /f/[redacted] from a…@example.com"


def test_a_traceback_is_redacted_too():
    try:
        raise ValueError(f"bad link /calendar/{TOKEN}.ics")
    except ValueError:
        import sys

        line = JsonFormatter().format(_record("feed failed", exc_info=sys.exc_info()))
    entry = json.loads(line)
    assert "ValueError" in entry["exc"] and TOKEN not in line


def test_a_referral_code_is_redacted_though_short():
    assert redact("GET /r/Ab3_x-9QzK12 from the QR") == "GET /r/[redacted] from the QR"


def test_the_access_log_redacts_referral_codes_too():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("gunicorn_conf", Path(__file__).parent.parent / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    assert conf._SECRET.sub("[redacted]", "/r/Ab3_x-9QzK12") == "/r/[redacted]"


def test_text_logs_in_development_are_redacted_as_well():
    assert TOKEN not in RedactingFormatter("%(message)s").format(_record("token %s", TOKEN))
    assert redact("short ids like 12345 stay") == "short ids like 12345 stay"


def test_production_logs_are_json_by_default(monkeypatch):
    from pymes.config import load

    monkeypatch.setenv("PYMES_ENV", "development")
    assert load({}).get("LOG_FORMAT") == ""
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert load({})["LOG_FORMAT"] == "json"
