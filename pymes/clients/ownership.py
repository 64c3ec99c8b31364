"""Which URL ids belong to a client: the restricted-seller guard's table.

A business may restrict its sellers to their own clients (``sellers_see_only_own``).
For such a seller, every page whose URL names a client, or a row that belongs to one
client (a sale, a visit or call, a feedback link, a specialist), answers the same 404 as
a missing id when that client is not theirs (``services.sees_client``: they are its
responsible seller or one of its specialist sellers). The guard runs before every
request (``pymes/__init__.py``), so a route need not remember it.

The guard reads URL arguments by name, so every ``<id:…>`` argument of every route is
declared here, once: either ``ClientOwned`` (how to find its client) or ``NotGuarded``
(why this guard does not apply: not a client's row, or a row whose visibility its own
feature decides by a different rule). ``tests/clients/test_ownership.py`` walks
``app.url_map`` and fails when a route brings an id argument that is not declared, so a
new ``<id:visit_id>`` cannot slip past the guard unnoticed.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from ..extensions import db
from ..feedback.models import FeedbackLink
from ..sales.models import Sale
from ..visits.models import Activity
from .models import ClientSpecialist


@dataclass(frozen=True)
class ClientOwned:
    """The argument names a client (``client_column`` None) or a row of one client,
    found through ``client_column`` (the row's ``client_id``)."""

    client_column: InstrumentedAttribute | None = None

    def client_of(self, value: int) -> int | None:
        """The client's id; None when the row does not exist (the route answers 404)."""
        if self.client_column is None:
            return value
        model = self.client_column.class_
        return db.session.execute(select(self.client_column).where(model.id == value)).scalar_one_or_none()


@dataclass(frozen=True)
class NotGuarded:
    """The argument is outside this guard, for the reason given."""

    reason: str


ID_ARGUMENTS: dict[str, ClientOwned | NotGuarded] = {
    "client_id": ClientOwned(),
    "sale_id": ClientOwned(Sale.client_id),
    "activity_id": ClientOwned(Activity.client_id),
    "link_id": ClientOwned(FeedbackLink.client_id),
    "specialist_id": ClientOwned(ClientSpecialist.client_id),
    "complaint_id": NotGuarded("complaints.queries.visible: the case's owner sees it even when the client is "
                               "another seller's"),
    "referral_id": NotGuarded("referrals.services.referral_query: a referral joins two clients, the referrer and "
                              "the prospect, and either one's seller may follow it"),
    "testimonial_id": NotGuarded("referrals.services.queue decides, as the testimonial queue shows it"),
    "import_id": NotGuarded("an import run of the business, not a client's row"),
    "invitation_id": NotGuarded("a team invitation (owners and managers)"),
    "user_id": NotGuarded("a team member (owners and managers)"),
    "territory_id": NotGuarded("a territory: territories.services filters what a restricted seller sees in it"),
    "portfolio_id": NotGuarded("a portfolio: territories.services filters what a restricted seller sees in it"),
    "notification_id": NotGuarded("the reader's own notification"),
}


def clients_in_view_args(args: dict) -> set[int]:
    """The clients a URL names, through every client-owned id argument it has."""
    found: set[int] = set()
    for name, value in args.items():
        rule = ID_ARGUMENTS.get(name)
        if isinstance(rule, ClientOwned):
            client_id = rule.client_of(value)
            if client_id is not None:
                found.add(client_id)
    return found
