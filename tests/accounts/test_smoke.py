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
