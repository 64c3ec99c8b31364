"""Where two features meet without importing each other (issue 22, point 1).

A lower feature announces what happened; a higher one connects a handler at the bottom
of its services module. The order of the features is in ``docs/architecture.md``
(Layers); ``tests/test_layering.py`` checks it. Every handler module is imported by
``create_app`` (the blueprints' routes import their services), so in the app, the CLI
and the tests the handlers are always connected: ``tests/test_layering.py`` checks that
each signal here has its receivers.

Handlers run inside the sender's transaction and never commit: the sender does."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from blinker import Namespace

_signals = Namespace()

# sales → visits: a sale was saved (new or edited), its client refreshed. Sender: the Sale;
# ``client``, ``today``. visits plans (or moves) the post-sale plan (rule 1).
sale_saved = _signals.signal("sale-saved")

# sales → visits, complaints: a sale is about to be deleted. Sender: the Sale. visits deletes
# its still-planned contacts and keeps logged ones without the link; complaints keep their
# case without the link.
sale_deleting = _signals.signal("sale-deleting")

# accounts → visits: a member was deactivated (their sessions ended). Sender: the User;
# ``today`` (the business's). visits gives their clients a new responsible seller and
# plans the handover visits (rule 10). The sender commits.
member_deactivated = _signals.signal("member-deactivated")

# visits → referrals: a planned visit or call was logged (the route, after the commit).
# Sender: the Activity; ``client``. A handler returns an ``Offer`` when it has something
# to offer now (referrals: a delivery visit done with a satisfied client, article 004),
# else None; the agenda shows the first offer.
contact_logged = _signals.signal("contact-logged")


# feedback → referrals: step two of a happy customer's answer (a testimonial and friends).
# ``share_form``: sender None; a handler returns the values the step-two form on the
# thank-you page needs (referrals: how a name may be shown, how many friends).
# ``answer_shared``: sender the FeedbackResponse; ``client``, ``country``, ``form`` (what
# was posted). referrals saves the testimonial and the friends and returns the problems
# by field (empty: saved; nothing is saved unless there are none).
share_form = _signals.signal("share-form")
answer_shared = _signals.signal("answer-shared")

@dataclass(frozen=True)
class Offer:
    """What a higher feature offers right after a contact is logged: a panel drawn under
    the agenda item (htmx), or the page to go to."""

    panel: Callable[[], str]
    url: str
