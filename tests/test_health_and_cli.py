"""The health endpoint and the commands the README names (the demo's own tests are in
tests/test_demo.py)."""
from .factories import login


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_gone(tmp_path):
    from pymes import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3", "TESTING": True})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


def test_a_logged_in_page_answers_the_friendly_503_while_the_database_is_down(app, make, monkeypatch):
    """OPS-4: with the database gone, even finding who is logged in fails; the 503 page
    must then be drawn without asking the database again (it used to fail inside the
    error handler and fall through to a bare 500)."""
    from sqlalchemy.exc import OperationalError

    from pymes.extensions import login_manager

    business, owner, _manager, _seller = make.team("Ferretería Sin Base")
    http = app.test_client()
    login(http, owner.email)

    def down(key):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(login_manager, "_user_callback", down)  # what Flask-Login calls to find the user
    for path in ("/", "/clients", "/agenda"):
        response = http.get(path)
        assert response.status_code == 503, path
        assert "Ferretería Sin Base" not in response.get_data(as_text=True)


def test_the_analyze_command_gives_the_planner_statistics(app, database):
    """After a bulk load the planner needs statistics (without them SQLite walked every
    client for each grouped inbox figure): ``flask pymes analyze`` refreshes them."""
    from sqlalchemy import text

    result = app.test_cli_runner().invoke(args=["pymes", "analyze"])
    assert result.exit_code == 0 and "refreshed" in result.output
    with database[1].connect() as conn:
        if conn.dialect.name == "sqlite":
            assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar_one()
        # PostgreSQL analyzes only the tables the connecting role owns (the tests' app role
        # owns none; run it as the role that migrates) and autovacuum keeps them anyway
