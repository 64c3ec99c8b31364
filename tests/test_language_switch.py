"""The language switch (issue 20, finding 13): a ``next`` with letters outside Latin-1
(a search for "Muñoz", a Cyrillic name) through htmx answered 500, because the
HX-Redirect header cannot carry them; now it goes percent-encoded, like a Location."""
from urllib.parse import unquote

import pytest

from .factories import csrf_token


@pytest.mark.parametrize("target", ["/clients?q=Муньос", "/clients?q=Muñoz 😀", "/r/código"])
def test_language_switch_with_a_non_latin1_next_through_htmx(client, target):
    response = client.post("/language", data={"csrf_token": csrf_token(client), "lang": "en", "next": target},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    header = response.headers["HX-Redirect"]
    assert header.isascii() and unquote(header) == target


def test_the_same_without_htmx_is_a_normal_redirect(client):
    response = client.post("/language", data={"csrf_token": csrf_token(client), "lang": "en",
                                              "next": "/clients?q=Муньос"})
    assert response.status_code == 303 and unquote(response.headers["Location"]).endswith("/clients?q=Муньос")


def test_an_outside_next_still_goes_home(client):
    response = client.post("/language", data={"csrf_token": csrf_token(client), "lang": "en",
                                              "next": "//evil.example/ñ"}, headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/"
