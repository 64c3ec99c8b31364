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
    assert "Cliente Frecuente" in day and "Llamada de seguimiento" in day  # what is due, not only who
    ladder = html.split('data-testid="loyalty"')[1].split("</article>")[0]
    assert "tier=frequent" in ladder and ": 1" in ladder
    step = html.split('data-testid="step-clients"')[0].rsplit("<li", 1)[1] + html.split('data-testid="step-clients"')[1]
    assert 'class="done"' in step.split("</li>")[0] and "✓" in step.split("</li>")[0]  # a client with sales: step done


def test_the_clients_step_is_open_until_a_client_has_a_sale(app, client, make):
    business, owner, _m, _s = make.team()
    login(client, owner.email)
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    step = html.split('data-testid="step-clients"')[0].rsplit("<li", 1)[1] + html.split('data-testid="step-clients"')[1]
    assert "✓" not in step.split("</li>")[0]
