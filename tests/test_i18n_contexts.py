"""One msgid, one meaning: a word the UI uses with two meanings carries a context.

gettext keys a translation on the English msgid alone, so ``_("Active")`` on a team
member, on a subscription and on a feedback link gets one Spanish word for three
things that Spanish inflects differently (una suscripción *activa*, un enlace
*activo*, a person who *has access*). ``pgettext("subscription", "Active")`` gives
each meaning its own entry. Two rules catch a regression, each from the extracted
source (locations included), not from the catalogs, so a new ``_()`` call is seen
before anyone translates it:

1. **Known-ambiguous words never go bare.** ``AMBIGUOUS`` lists English words that,
   in this product, are either both a verb and a noun/adjective ("Open", "Close",
   "Order", "Plan"…), or a status or count whose Spanish, Portuguese and Russian
   forms follow the gender and number of what they describe ("Active", "Expired",
   "Rejected", "New", "All", "Done"…). Every use of one of them must have a context,
   even where it is used once: the second use is the one nobody reviews.
2. **A bare one-word msgid used by two features is a decision.** When the same bare
   word appears in the templates or code of two features (accounts and feedback,
   say), it must be listed in ``ONE_MEANING``: a person has checked that it means the
   same there ("Save", "Phone", "Territory"). A new cross-feature use of a word that
   is in neither list fails, naming the places, until it gets a context per meaning
   or is added to ``ONE_MEANING`` on purpose. Longer msgids carry their own context
   in their words; single words are where the collisions happen.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent

AMBIGUOUS = frozenset({
    # statuses and counts: the translation agrees with the thing described
    "Active", "Inactive", "Expired", "Cancelled", "Canceled", "Rejected", "Approved", "Answered", "New", "All",
    "Done", "Closed", "Opened", "Sent", "Satisfied", "Pending", "Paid", "Late", "Free",
    # verb and noun (or adjective) at once
    "Open", "Close", "Order", "State", "Plan", "Contact", "Call", "Visit", "Answer", "Review", "Book", "Record",
})

# Checked by hand: the same meaning wherever these bare words are used (issue 19).
ONE_MEANING = frozenset({
    "Actions", "Add", "Address", "Notifications", "Pages", "Agenda", "Answers", "Billing", "Cancel", "Client", "Clients", "Complaints", "Date",
    "Deactivated", "Delete", "E-mail", "Edit", "Everyone", "Feedback", "Filter", "Home", "Margin", "Month",
    "Monthly", "Name", "Newer", "Next", "Notes", "Older", "Other", "Overdue", "Period", "Phone", "Planned",
    "Portfolio", "Prefers", "Previous", "Prospect", "Prospects", "Referrals", "Sales", "Save", "Seller", "Send",
    "Show", "Status", "Team", "Territories", "Territory", "Testimonials", "Tier", "Today", "Type", "Who",
    "WhatsApp", "Yearly",  # WhatsApp: the product's name, in the client book and on its settings page
    "Activity", "Complaint", "remove", "today", "tomorrow",  # the activity log; a case; a remove button; a day
})


def _extract(tmp_path: Path, source: Path = ROOT) -> Catalog:
    """The source's messages with their locations (keep the keywords in step with
    scripts/i18n)."""
    pot = tmp_path / "located.pot"
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
        "-k", "lazy_pgettext:1c,2", "--ignore-dirs", ".* ._ __pycache__ node_modules",
        "--sort-output", "-o", str(pot), str(source),
    ])
    with pot.open("rb") as f:
        catalog = read_po(f)
    for message in catalog:  # locations relative to the source tree: templates/accounts/_team.html
        message.locations = [(Path(f).resolve().relative_to(source.resolve()).as_posix(), line)
                             for f, line in message.locations]
    return catalog


def _feature(path: str) -> str:
    """templates/<feature>/…, pymes/<feature>/… or pymes/<module>.py; base.html is 'base'."""
    parts = Path(path).parts
    if parts[0] in ("templates", "pymes") and len(parts) > 2:
        return parts[1]
    return Path(parts[-1]).stem


def bare_ambiguous(catalog: Catalog) -> list[str]:
    problems = []
    for message in catalog:
        msgid = message.id if isinstance(message.id, str) else (message.id[0] if message.id else "")
        if msgid in AMBIGUOUS and not message.context:
            places = ", ".join(f"{f}:{line}" for f, line in message.locations)
            problems.append(f"{msgid!r} has more than one meaning; give it a context (pgettext): {places}")
    return problems


def undecided_reuse(catalog: Catalog) -> list[str]:
    problems = []
    for message in catalog:
        if not isinstance(message.id, str) or message.context or len(message.id.split()) != 1:
            continue
        features = sorted({_feature(f) for f, _line in message.locations})
        if len(features) > 1 and message.id not in ONE_MEANING and message.id not in AMBIGUOUS:
            places = ", ".join(f"{f}:{line}" for f, line in message.locations)
            problems.append(f"{message.id!r} is used by {', '.join(features)}: a context per meaning, or add it "
                            f"to ONE_MEANING if it means the same everywhere: {places}")
    return problems


@pytest.fixture(scope="module")
def located(tmp_path_factory):
    return _extract(tmp_path_factory.mktemp("contexts"))


def test_known_ambiguous_words_always_carry_a_context(located):
    problems = bare_ambiguous(located)
    assert not problems, "\n".join(problems)


def test_a_bare_word_shared_by_two_features_means_the_same_in_both(located):
    problems = undecided_reuse(located)
    assert not problems, "\n".join(problems)


def test_the_lists_do_not_overlap_and_name_words_in_use(located):
    assert not AMBIGUOUS & ONE_MEANING
    used = {m.id for m in located if isinstance(m.id, str)}
    stale = sorted(ONE_MEANING - used)
    assert not stale, f"ONE_MEANING names words no longer used: {stale}"


def test_the_checks_catch_a_regression(tmp_path):
    """A fake source tree: 'Expired' bare in one feature, 'Archived' bare in two."""
    (tmp_path / "templates" / "accounts").mkdir(parents=True)
    (tmp_path / "templates" / "feedback").mkdir(parents=True)
    (tmp_path / "templates" / "accounts" / "a.html").write_text(
        '{{ _("Expired") }} {{ _("Archived") }} {{ pgettext("invitation", "Cancelled") }}')
    (tmp_path / "templates" / "feedback" / "b.html").write_text('{{ _("Archived") }} {{ _("Save") }}')
    (tmp_path / "templates" / "accounts" / "c.html").write_text('{{ _("Save") }}')
    catalog = _extract(tmp_path, tmp_path)
    ambiguous = bare_ambiguous(catalog)
    assert len(ambiguous) == 1 and "'Expired'" in ambiguous[0] and "templates/accounts/a.html:1" in ambiguous[0]
    reuse = undecided_reuse(catalog)
    assert len(reuse) == 1 and "'Archived' is used by accounts, feedback" in reuse[0]


@pytest.mark.parametrize("context, msgid, spanish", [
    ("subscription", "Active", "Activa"),
    ("feedback link", "Active", "Activo"),
    ("team member", "Active", "Con acceso"),
    ("invitation", "Expired", "Vencida"),
    ("feedback link", "Expired", "Vencido"),
    ("testimonial", "Rejected", "Rechazado"),
    ("import row", "Rejected", "Rechazada"),
    ("all portfolios", "All", "Todas"),
    ("all territories", "All", "Todos"),
    ("number of links", "Answered", "Respondidos"),
    ("role", "Seller", "Ventas"),
])
def test_each_meaning_reads_right_in_spanish(app, context, msgid, spanish):
    from flask_babel import force_locale, pgettext

    with app.test_request_context(), force_locale("es"):
        assert pgettext(context, msgid) == spanish
