"""The idempotency key of an outcome logged offline (issue 21, point 2; migration 0023):
the phone's outbox may send an outcome twice (an answer lost on the way, two tabs); it is
recorded once, and the second send is told it is recorded rather than refused."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from pymes.extensions import db
from pymes.tenancy import bound
from pymes.visits import services
from pymes.visits.models import Activity

from ..factories import csrf_token, login

KEY = "0b4f2a3c-9d1e-4e5f-8a7b-6c5d4e3f2a1b"


@pytest.fixture
def visit(app, make):
    business, _owner, _manager, seller = make.team()
    client = make.client(business, "Almacén Don Pepe", seller_id=seller.id)
    activity = make.visit(business, client, purpose="delivery", due_on=datetime.now(ZoneInfo(business.timezone)).date())
    return business, seller, activity.id


def post(http, activity_id, **fields):
    data = {"csrf_token": csrf_token(http, "/agenda"), "status": "done", "notes": "", **fields}
    return http.post(f"/agenda/{activity_id}/outcome", data=data, headers={"HX-Request": "true"})


def count_activities(app, business):
    with app.app_context(), bound(business.id):
        return db.session.execute(select(func.count()).select_from(Activity)).scalar()


def test_the_same_outcome_sent_twice_is_recorded_once(app, visit):
    business, seller, activity_id = visit
    http = app.test_client()
    login(http, seller.email)
    later = (datetime.now(ZoneInfo(business.timezone)).date() + timedelta(days=3)).isoformat()
    assert post(http, activity_id, status="rescheduled", new_date=later, outcome_key=KEY.upper()).status_code == 200
    before = count_activities(app, business)  # the visit and its rescheduled copy
    again = post(http, activity_id, status="rescheduled", new_date=later, outcome_key=KEY)
    assert again.status_code == 200 and f'id="activity-{activity_id}"' in again.get_data(as_text=True)
    assert count_activities(app, business) == before == 2  # no second rescheduled visit
    with app.app_context(), bound(business.id):
        stored = db.session.get(Activity, activity_id)
        assert (stored.status, stored.outcome_key) == ("rescheduled", KEY)
    # another outcome (another key, or none) for a contact already logged: refused as ever
    assert post(http, activity_id, outcome_key="1b4f2a3c-9d1e-4e5f-8a7b-6c5d4e3f2a1b").status_code == 409
    assert post(http, activity_id).status_code == 409


def test_a_key_that_is_not_one_is_ignored_and_the_outcome_still_logged(app, visit):
    business, seller, activity_id = visit
    http = app.test_client()
    login(http, seller.email)
    assert post(http, activity_id, outcome_key="<script>" * 10).status_code == 200
    with app.app_context(), bound(business.id):
        stored = db.session.get(Activity, activity_id)
        assert (stored.status, stored.outcome_key) == ("done", None)
    assert services.outcome_key(" " + KEY + " ") == KEY and services.outcome_key("x" * 40) is None


def test_a_second_claim_of_a_logged_contact_records_nothing(app, visit):
    """Two sends racing: the claim is one UPDATE ... WHERE status = 'planned'; the loser
    finds nothing to claim and changes nothing."""
    business, _seller, activity_id = visit
    with app.app_context(), bound(business.id):
        stale = db.session.get(Activity, activity_id)
        db.session.execute(Activity.__table__.update().where(Activity.__table__.c.id == activity_id)
                           .values(status="done", outcome_key=KEY))  # the other send won meanwhile
        today = datetime.now(ZoneInfo(business.timezone)).date()
        with pytest.raises(services.AlreadyLogged):
            services.log_outcome(stale, status="rescheduled", new_date=today + timedelta(days=2), today=today,
                                 key="1b4f2a3c-9d1e-4e5f-8a7b-6c5d4e3f2a1b")
        assert db.session.execute(select(func.count()).select_from(Activity)).scalar() == 1


def test_tenants_keep_their_own_keys(app, make, visit):
    """TEN-: the key is unique per business, so one business's phone cannot collide with
    (or learn about) another's."""
    business, seller, activity_id = visit
    other_business, _o, _m, other_seller = make.team()
    client = make.client(other_business, "Otro", seller_id=other_seller.id)
    other_id = make.call(other_business, client, purpose="follow_up",
                         due_on=datetime.now(ZoneInfo(other_business.timezone)).date()).id
    for who, aid in ((seller, activity_id), (other_seller, other_id)):
        http = app.test_client()
        login(http, who.email)
        assert post(http, aid, outcome_key=KEY).status_code == 200
    # the other business's id with this key: not this seller's contact
    http = app.test_client()
    login(http, seller.email)
    assert post(http, other_id, outcome_key=KEY).status_code == 404
