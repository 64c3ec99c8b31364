"""Toggling the callback box within the correction window (issue 20, finding 8): each
"on" made a new agenda item and a new notification. Now the answer's one callback is
dropped when the box is cleared and planned again when it is ticked again; the seller
is told once."""
from sqlalchemy import select

from pymes.extensions import db
from pymes.notifications.models import Notification
from pymes.tenancy import bound
from pymes.visits.models import Activity

from .test_callback_choice import answer, link_for, shop  # noqa: F401  (the fixture)


def _state(app, business):
    with app.app_context(), bound(business.id):
        calls = [(a.status, a.channel) for a in db.session.execute(
            select(Activity).where(Activity.purpose == "callback").order_by(Activity.id)).scalars()]
        told = db.session.execute(select(Notification).where(Notification.kind == "callback_requested")
                                  ).scalars().all()
        return calls, len(told)


def test_toggling_the_callback_keeps_one_agenda_item_and_one_notification(app, shop):  # noqa: F811
    business, _owner, seller = shop
    _cid, secret = link_for(app, business, seller, phone="+56987654321", email="rosa@example.com")
    on = dict(score="6", callback="1", callback_channel="phone", callback_window="morning")
    off = dict(score="6")
    assert answer(app, secret, **on)[1].status_code == 200
    assert _state(app, business) == ([("planned", "phone")], 1)
    for _ in range(3):
        answer(app, secret, **off)
        assert _state(app, business) == ([("cancelled", "phone")], 1)  # the customer no longer wants it
        answer(app, secret, **on)
        assert _state(app, business) == ([("planned", "phone")], 1)
    answer(app, secret, **{**on, "callback_channel": "email"})  # another channel: the same item follows
    assert _state(app, business) == ([("planned", "email")], 1)
