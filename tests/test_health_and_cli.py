"""The health endpoint and the demo command the README names."""
from pymes.cli import DEMO_EMAIL, DEMO_PASSWORD

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


def test_demo_command_creates_a_business_you_can_log_in_to(app, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["pymes", "demo"])
    assert first.exit_code == 0, first.output
    assert DEMO_EMAIL in first.output and DEMO_PASSWORD in first.output
    again = runner.invoke(args=["pymes", "demo"])
    assert again.exit_code == 0 and "already exists" in again.output
    assert login(client, DEMO_EMAIL, DEMO_PASSWORD).status_code == 303
    assert "Ferretería El Roble" in client.get("/").get_data(as_text=True)
