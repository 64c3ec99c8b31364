"""pymes/whatsapp/cloud_api.py against the fake Graph API (tests/whatsapp/conftest.py)."""
import logging

import pytest

from pymes.whatsapp import cloud_api

from .conftest import PHONE_ID, TOKEN, VERSION, graph_error


def test_verify_asks_for_the_number_with_the_token_in_the_header_only(app, graph):
    with app.app_context():
        found = cloud_api.verify(PHONE_ID, TOKEN)
    assert found == {"display_phone_number": "+56 9 8765 4321", "verified_name": "Ferretería Sur"}
    (request,) = graph.requests
    assert request["method"] == "GET" and request["path"] == f"/{VERSION}/{PHONE_ID}"
    assert request["query"] == {"fields": ["display_phone_number,verified_name"]}
    assert request["authorization"] == f"Bearer {TOKEN}"


def test_send_text_posts_the_documented_body(app, graph):
    with app.app_context():
        message_id = cloud_api.send_text(PHONE_ID, TOKEN, "+56 9 1234 5678", "Hola Ana")
    assert message_id.startswith("wamid.")
    (request,) = graph.requests
    assert request["method"] == "POST" and request["path"] == f"/{VERSION}/{PHONE_ID}/messages"
    assert request["json"] == {"messaging_product": "whatsapp", "recipient_type": "individual",
                               "to": "56912345678", "type": "text", "text": {"preview_url": False, "body": "Hola Ana"}}


def test_send_template_carries_name_language_and_parameters_in_order(app, graph):
    with app.app_context():
        cloud_api.send_template(PHONE_ID, TOKEN, "+34612345678", "pedido_opinion", "es", ["Ana", "Ferretería Sur"])
    assert graph.requests[0]["json"] == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "34612345678", "type": "template",
        "template": {"name": "pedido_opinion", "language": {"code": "es"},
                     "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                                                    {"type": "text", "text": "Ferretería Sur"}]}]}}


def test_a_wrong_token_is_not_retried_and_says_so(app, graph, caplog):
    caplog.set_level(logging.DEBUG)
    with app.test_request_context(headers={"Accept-Language": "es"}), pytest.raises(cloud_api.WhatsAppError) as caught:
        cloud_api.verify(PHONE_ID, "EAAGrevokedToken000000000000")
        # (unreachable)
    assert caught.value.kind == "token" and caught.value.status == 401 and caught.value.code == 190
    assert len(graph.requests) == 1  # a 4xx is never retried
    assert "EAAGrevokedToken" not in caplog.text  # TOK-: the token never reaches the log


def test_a_wrong_phone_number_id_is_named(app, graph):
    with app.app_context(), pytest.raises(cloud_api.WhatsAppError) as caught:
        cloud_api.verify("999999999", TOKEN)
    assert caught.value.kind == "phone_number"


def test_a_server_error_is_retried_then_succeeds(app, graph):
    graph.script = [graph_error(500, 1, "An unknown error occurred", kind="OAuthException"),
                    graph_error(503, 2, "Service temporarily unavailable")]
    with app.app_context():
        assert cloud_api.verify(PHONE_ID, TOKEN)["verified_name"] == "Ferretería Sur"
    assert len(graph.requests) == 3


def test_a_timeout_is_retried_and_bounded(app, graph):
    graph.script = [("sleep", 1.5)]  # longer than WHATSAPP_TIMEOUT (0.5 s): the first attempt times out
    with app.app_context():
        assert cloud_api.send_text(PHONE_ID, TOKEN, "+56912345678", "Hola").startswith("wamid.")
    assert len(graph.requests) == 2
    graph.script = [("sleep", 1.5)] * 3
    with app.app_context(), pytest.raises(cloud_api.WhatsAppError) as caught:
        cloud_api.send_text(PHONE_ID, TOKEN, "+56912345678", "Hola")
    assert caught.value.kind == "unavailable"
    assert len(graph.requests) == 2 + 1 + cloud_api.RETRIES


def test_rate_limit_and_window_errors_are_told_apart_and_not_retried(app, graph):
    graph.script = [graph_error(400, 130429, "Rate limit hit", kind="OAuthException"),
                    graph_error(400, 131047, "Re-engagement message", kind="OAuthException")]
    with app.app_context():
        for kind in ("rate_limit", "window"):
            with pytest.raises(cloud_api.WhatsAppError) as caught:
                cloud_api.send_text(PHONE_ID, TOKEN, "+56912345678", "Hola")
            assert caught.value.kind == kind
    assert len(graph.requests) == 2


def test_messages_are_in_spanish_for_a_spanish_reader(app, graph):
    with app.test_request_context(headers={"Accept-Language": "es"}):
        message = cloud_api.WhatsAppError("token", 401, 190).message
    assert "token" in message and "Meta" in message and "access token" not in message
