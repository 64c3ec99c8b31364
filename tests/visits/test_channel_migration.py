"""Migration 0016: a callback planned before the agenda knew channels gets the channel
and window of the answer that asked for it; other contacts get none."""
from sqlalchemy import text

from pymes import create_app
from pymes.extensions import db


def test_0016_gives_planned_callbacks_the_channel_their_answer_chose(tmp_path):
    from flask_migrate import upgrade

    url = f"sqlite:///{tmp_path / 'channels.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade(revision="0017")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO businesses (id, name, country, currency, timezone, language, "
                              "sellers_see_only_own, created_at, updated_at) VALUES (1, 'B', 'CL', 'CLP', "
                              "'America/Santiago', 'es', 0, '2026-01-01', '2026-01-01')"))
            for cid in (1, 2):
                conn.execute(text("INSERT INTO clients (id, tenant_id, kind, name, company, tax_id, address, notes, "
                                  "is_key, tier_override_reason, sales_count, revenue_12m, created_at, updated_at) "
                                  "VALUES (:id, 1, 'client', 'C', '', '', '', '', 0, '', 0, 0, '2026-01-01', "
                                  "'2026-01-01')"), {"id": cid})
                conn.execute(text("INSERT INTO feedback_links (id, tenant_id, client_id, sent_by, expires_at, "
                                  "created_at, updated_at) VALUES (:id, 1, :id, 'link', '2027-01-01', '2026-11-01', "
                                  "'2026-11-01')"), {"id": cid})
            # client 1 asked for a phone call in the morning; client 2 asked for nothing
            for rid, link, channel, window, when in ((1, 1, "phone", "morning", "2026-11-02 10:00:00"),
                                                      (2, 2, None, None, "2026-11-03 10:00:00")):
                conn.execute(text("INSERT INTO feedback_responses (id, tenant_id, link_id, client_id, score, comment, "
                                  "callback, callback_channel, callback_window, language, created_at, updated_at) "
                                  "VALUES (:id, 1, :link, :client, 3, '', :cb, :ch, :w, 'es', :at, :at)"),
                             {"id": rid, "link": link, "client": link, "cb": channel is not None, "ch": channel,
                              "w": window, "at": when})
            for aid, client, purpose, when in ((1, 1, "callback", "2026-11-02 10:00:01"),
                                               (2, 2, "follow_up", "2026-11-03 10:00:01")):
                conn.execute(text("INSERT INTO activities (id, tenant_id, client_id, kind, purpose, due_on, status, "
                                  "notes, opportunity, created_at, updated_at) VALUES (:id, 1, :c, 'call', :p, "
                                  "'2026-11-02', 'planned', '', 0, :at, :at)"),
                             {"id": aid, "c": client, "p": purpose, "at": when})
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, channel, time_window FROM activities ORDER BY id")).all()
        db.engine.dispose()
    assert [tuple(r) for r in rows] == [(1, "phone", "morning"), (2, None, None)]
