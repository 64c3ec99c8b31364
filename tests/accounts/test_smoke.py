from ..factories import login


def test_home_for_anonymous_is_the_landing_page(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "Fideliza" in page.get_data(as_text=True)


def test_owner_logs_in_and_sees_their_business(client, make):
    business = make.business("Ferretería Los Andes")
    owner = make.user(business, "owner", name="Carla")
    response = login(client, owner.email)
    assert response.status_code == 303
    home = client.get("/").get_data(as_text=True)
    assert "Ferretería Los Andes" in home
    assert "Carla" in home


def test_home_shows_the_day_and_the_ladder(app, client, make):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from pymes.clients.models import Client
    from pymes.extensions import db
    from pymes.tenancy import bound
    from pymes.visits.models import Activity

    business, owner, _m, seller = make.team()
    today = datetime.now(ZoneInfo("America/Santiago")).date()
    with app.app_context(), bound(business.id):
        c = Client(name="Cliente Frecuente", tier="frequent", seller_id=owner.id)
        db.session.add(c)
        db.session.flush()
        db.session.add(Activity(client_id=c.id, seller_id=owner.id, kind="call", purpose="follow_up", due_on=today))
        db.session.commit()
    login(client, owner.email)
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    day = html.split('data-testid="my-day"')[1].split("</article>")[0]
    assert "Cliente Frecuente" in day
    ladder = html.split('data-testid="loyalty"')[1].split("</article>")[0]
    assert "tier=frequent" in ladder and ": 1" in ladder
