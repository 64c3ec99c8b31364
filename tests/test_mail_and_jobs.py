"""E-mail through one function: SMTP when configured, the local outbox otherwise,
delivered by the job queue (RQ on Redis) or inline when there is no queue."""
import socket
import socketserver
import threading

import pytest

from pymes.mail import read_outbox, send_email


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 to receive one message, like a real relay would."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        data_mode, lines = False, []
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace")
            if data_mode:
                if line.rstrip("\r\n") == ".":
                    data_mode = False
                    self.server.received.append("".join(lines))
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line)
                continue
            command = line[:4].upper()
            if command in ("EHLO", "HELO"):
                self.wfile.write(b"250-test\r\n250 8BITMIME\r\n")
            elif command in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.server.envelope.append(line.strip())
                self.wfile.write(b"250 ok\r\n")
            elif command == "DATA":
                data_mode = True
                self.wfile.write(b"354 go ahead\r\n")
            elif command == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 not implemented\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.received, server.envelope = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_smtp_is_used_when_mail_server_is_set(app, smtp_server):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.server_address[1], MAIL_USE_TLS=False)
    with app.test_request_context():
        send_email("cliente@example.com", "Hola", "account_exists", "es", user=type("U", (), {"name": "Ana"})(),
                   login_url="http://fideliza.test/login", reset_url="http://fideliza.test/password/forgot")
    assert len(smtp_server.received) == 1
    assert "cliente@example.com" in smtp_server.received[0]
    assert "rcpt to:<cliente@example.com>" in " ".join(smtp_server.envelope).lower()
    assert read_outbox(app.config["MAIL_OUTBOX_DIR"]) == []


def test_outbox_when_no_mail_server(app):
    with app.test_request_context():
        send_email("a@example.com", "Asunto", "account_exists", "en", user=type("U", (), {"name": "Ana"})(),
                   login_url="L", reset_url="R")
    messages = read_outbox(app.config["MAIL_OUTBOX_DIR"])
    assert [m["To"] for m in messages] == ["a@example.com"]
    assert "Hello Ana" in messages[0].get_body().get_content()


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.3).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_mail_goes_through_the_rq_queue_when_redis_is_configured(app):
    from redis import Redis
    from rq import Queue, SimpleWorker

    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    queue = Queue("default", connection=Redis.from_url(app.config["REDIS_URL"]))
    queue.empty()
    with app.test_request_context():
        send_email("cola@example.com", "Asunto", "account_exists", "es", user=type("U", (), {"name": "Ana"})(),
                   login_url="L", reset_url="R")
    assert read_outbox(app.config["MAIL_OUTBOX_DIR"]) == []  # not sent during the request
    assert queue.count == 1
    with app.app_context():
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert [m["To"] for m in read_outbox(app.config["MAIL_OUTBOX_DIR"])] == ["cola@example.com"]


def test_mail_is_still_sent_when_redis_is_down(app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    with app.test_request_context():
        send_email("b@example.com", "Asunto", "account_exists", "es", user=type("U", (), {"name": "Ana"})(),
                   login_url="L", reset_url="R")
    assert [m["To"] for m in read_outbox(app.config["MAIL_OUTBOX_DIR"])] == ["b@example.com"]


def test_dev_outbox_page_lists_messages_and_links(app, client):
    with app.test_request_context():
        send_email("c@example.com", "Bienvenida", "account_exists", "es", user=type("U", (), {"name": "Ana"})(),
                   login_url="http://fideliza.test/login", reset_url="http://fideliza.test/password/forgot")
    listing = client.get("/dev/outbox").get_data(as_text=True)
    assert "c@example.com" in listing
    detail_path = listing.split('href="/dev/outbox/')[1].split('"')[0]
    detail = client.get("/dev/outbox/" + detail_path).get_data(as_text=True)
    assert 'href="http://fideliza.test/login"' in detail


def test_dev_outbox_is_hidden_outside_development(app, client):
    app.config["DEV_OUTBOX_PAGE"] = False
    assert client.get("/dev/outbox").status_code == 404
