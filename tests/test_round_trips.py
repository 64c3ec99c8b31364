"""Network round trips to PostgreSQL per request (issue 24, point 2).

Counted on the wire: libpq's protocol trace of every pooled connection a request checks
out, one round trip per batch of messages the app sends before it waits for the
server's answer (a pipelined ``set_config`` and statement are one). A kept logged-in
page makes at most 3 (BEGIN, the settings with the session look-up, ROLLBACK), a public
feedback answer at most 8; before this the same page made 7 (the pool's pre-ping, BEGIN,
the settings alone, the look-up, the settings twice more, ROLLBACK) and the answer 20.

Row-level security still holds with the settings sent lazily: tests/security/test_rls.py
and the TEN- tests run on PostgreSQL against the same code."""
from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager

import pytest

from .conftest import TEST_DATABASE_URL
from .factories import csrf_token, login

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgres"),
                                reason="round trips to PostgreSQL: run with TEST_DATABASE_URL")


def count_round_trips(trace: str) -> int:
    """Batches of frontend (F) messages each answered by the backend (B)."""
    trips, sending = 0, False
    for line in trace.splitlines():
        direction = line.split("\t", 1)[0]
        if direction == "F":
            sending = True
        elif direction == "B" and sending:
            trips += 1
            sending = False
    return trips


def summary(trace: str) -> str:
    """One line per round trip: the statements it sent (for a failing assertion)."""
    lines, batch, sending = [], [], False
    for line in trace.splitlines():
        direction = line.split("\t", 1)[0]
        if direction == "F":
            if not sending:
                batch, sending = [], True
            found = re.search(r'\t(?:Parse\t "[^"]*"|Query\t) "([^"]{0,80})', line)
            if found:
                batch.append(found.group(1).replace("\n", " "))
        elif direction == "B" and sending:
            lines.append(" || ".join(batch))
            sending = False
    return "\n".join(lines)


@contextmanager
def round_trips(app):
    """Yields a list that holds, once the block ends, the round trips of every
    connection checked out in it, and the statements the server saw."""
    from psycopg import pq
    from sqlalchemy import event

    from pymes.extensions import db

    with app.app_context():
        pool = db.engine.pool
    traces: list[tempfile.TemporaryFile] = []

    def checkout(dbapi_connection, record, proxy):
        out = tempfile.TemporaryFile("w+")  # noqa: SIM115 - read and closed when the block ends
        traces.append(out)
        dbapi_connection.pgconn.trace(os.dup(out.fileno()))
        dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def checkin(dbapi_connection, record):
        if dbapi_connection is not None and not dbapi_connection.closed:
            dbapi_connection.pgconn.untrace()

    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    result: list = []
    try:
        yield result
    finally:
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)
        text = ""
        for out in traces:
            out.seek(0)
            text += out.read()
            out.close()
        result.extend([count_round_trips(text), text])


def test_the_counter_counts_a_pipelined_batch_once():
    trace = "F\t13\tParse\nF\t4\tSync\nB\t4\tParseComplete\nB\t5\tReadyForQuery\n" \
            "F\t56\tParse\nF\t9\tExecute\nF\t56\tParse\nF\t4\tSync\nB\t4\tParseComplete\nB\t5\tReadyForQuery\n"
    assert count_round_trips(trace) == 2


def test_a_kept_page_costs_at_most_three_round_trips(app, make):
    business, owner, _manager, _seller = make.team("Ferretería Viaje Corto")
    http = app.test_client()
    login(http, owner.email)
    for _ in range(2):  # the first view draws and keeps the list
        assert http.get("/clients").status_code == 200
    with round_trips(app) as seen:
        answer = http.get("/clients")
    assert answer.status_code == 200 and "Ferretería Viaje Corto" in answer.get_data(as_text=True)
    trips, trace = seen
    assert trips <= 3, summary(trace)


def test_a_public_answer_costs_at_most_eight_round_trips(app, make, monkeypatch):
    from pymes.feedback import services

    monkeypatch.setattr(services, "MIN_FILL_SECONDS", 0)
    business, owner, _manager, seller = make.team("Óptica Viaje Corto")
    client = make.client(business, "Rosa Díaz", email="rosa@example.com", seller_id=seller.id)
    http = app.test_client()
    login(http, seller.email)
    page = http.post(f"/clients/{client.id}/feedback-links",
                     data={"csrf_token": csrf_token(http, f"/clients/{client.id}"), "send": "share"})
    url = re.search(r'value="([^"]+/f/[^"]+)"', page.get_data(as_text=True)).group(1)
    path = url.removeprefix(app.config["BASE_URL"])
    customer = app.test_client()
    form = customer.get(path).get_data(as_text=True)
    data = {name: re.search(rf'name="{name}" value="([^"]+)"', form).group(1) for name in ("csrf_token", "stamp")}
    with round_trips(app) as seen:
        answer = customer.post(path, data={**data, "score": "9", "comment": "Muy buena atención"})
    assert answer.status_code in (200, 302, 303), answer.status_code
    trips, trace = seen
    assert trips <= 8, summary(trace)
    with app.app_context():
        from pymes.extensions import db
        from pymes.feedback.models import FeedbackResponse
        from pymes.tenancy import bound

        with bound(business.id):
            assert db.session.query(FeedbackResponse).one().score == 9


def test_a_connection_the_server_closed_is_replaced_not_a_failed_request(app, make, database):
    """No pre-ping: a pooled connection whose backend was terminated (a restart, an idle
    timeout) is recognised at check-out and replaced; the page answers 200."""
    from sqlalchemy import text

    business, owner, _manager, _seller = make.team("Ferretería Reinicio")
    http = app.test_client()
    login(http, owner.email)
    assert http.get("/clients").status_code == 200
    _app_url, owner_engine = database
    with owner_engine.connect() as conn:
        ended = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                  "WHERE usename = 'pymes_app' AND datname = current_database()")).scalar_one()
    assert ended >= 1
    with owner_engine.connect() as conn:  # wait until the terminated backends are gone
        for _ in range(1000):
            if not conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE usename = 'pymes_app' "
                                     "AND datname = current_database()")).scalar_one():
                break
    for path in ("/clients", "/agenda", "/"):
        assert http.get(path).status_code == 200, path



def test_rls_follows_the_binding_through_savepoints_and_tenant_changes(app, make):
    """TEN-5 with lazy settings: a raw statement (no ORM guard, row-level security alone)
    sees the bound tenant's rows only, after the tenant changes mid-transaction, inside a
    savepoint, and after that savepoint is rolled back (which takes back what was set
    inside it)."""
    from sqlalchemy import text

    from pymes.extensions import db
    from pymes.tenancy import bind_tenant, identity_lookup

    first, *_ = make.team("Primera")
    second, *_ = make.team("Segunda")
    make.clients(first, "Ana", "Beto")
    make.client(second, "Carla")

    def names():
        return sorted(db.session.execute(text("SELECT name FROM clients")).scalars())

    with app.app_context():
        assert names() == []  # nothing bound: nothing seen
        with identity_lookup():
            assert names() == []  # identity look-ups see users, never clients
        bind_tenant(first.id)
        assert names() == ["Ana", "Beto"]
        bind_tenant(second.id)
        assert names() == ["Carla"]
        savepoint = db.session.begin_nested()
        assert names() == ["Carla"]  # the savepoint is taken with the second tenant's settings
        bind_tenant(first.id)
        assert names() == ["Ana", "Beto"]
        savepoint.rollback()  # the server is back to the second tenant's settings
        assert names() == ["Ana", "Beto"]  # the first is still bound: its settings go again
        bind_tenant(None)
        assert names() == []
        db.session.rollback()
        bind_tenant(second.id)
        assert names() == ["Carla"]
        db.session.rollback()
