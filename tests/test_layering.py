"""Feature packages must not import each other both ways (issue 22, point 1).

Each subpackage of ``pymes`` (accounts, clients, sales, …) is a feature. An import from
one feature into another, at module level or inside a function, is an edge. Two features
with edges both ways form a cycle that only in-function imports keep from failing at
start-up. ``KNOWN_MUTUAL_PAIRS`` records the pairs there are today (2026-12-05: the
issue's ten and five more); a new pair fails this test with where its imports are.

When a refactor breaks a pair, remove it from the list (the second test names it), so
the list only shrinks. Longer loops (A → B → C → A) are the step after: ``cycle_edges``
is here for that check once the pairs are gone, not enforced yet.

The order the features are meant to form, lowest first (a feature imports only features
before it; ``docs/architecture.md``, Layers)::

    audit < accounts < billing < data
    clients < notifications < territories < sales < visits < feedback < referrals
            < complaints < whatsapp < radar < dashboard < main

Where a lower feature must set off something in a higher one (a sale plans visits, a
logged delivery offers referrals), it announces it in ``pymes/events.py`` and the higher
one connects a handler; what two features share and neither owns goes in a small module
of ``pymes`` (``contact.py``, ``tables.py``). 2026-12-05: eight of the fifteen pairs are
gone that way; clients still imports the features above it (the client page, the import,
ownership), and feedback opens a complaint (a detractor's answer).
"""
from __future__ import annotations

import ast
from pathlib import Path

from blinker import NamedSignal

PACKAGE = Path(__file__).resolve().parent.parent / "pymes"

KNOWN_MUTUAL_PAIRS: set[frozenset[str]] = {frozenset(pair) for pair in (
    ("clients", "complaints"),
    ("clients", "feedback"), ("clients", "referrals"), ("clients", "sales"), ("clients", "territories"),
    ("clients", "visits"), ("complaints", "feedback"),
)}


def features() -> set[str]:
    return {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}


def _imported_features(node: ast.AST, names: set[str]) -> list[str]:
    """The features an import statement inside a feature package names."""
    found: list[str] = []
    if isinstance(node, ast.ImportFrom):
        if node.level == 0 and (node.module or "").startswith("pymes."):
            found.append(node.module.split(".")[1])
        elif node.level == 2 and node.module:  # from ..clients.models import Client
            found.append(node.module.split(".")[0])
        elif node.level == 2:  # from .. import clients
            found += [alias.name for alias in node.names]
    elif isinstance(node, ast.Import):
        found += [alias.name.split(".")[1] for alias in node.names if alias.name.startswith("pymes.")]
    return [name for name in found if name in names]


def import_edges() -> dict[tuple[str, str], list[str]]:
    """(importer, imported) → the places, for every import between two features."""
    names = features()
    edges: dict[tuple[str, str], list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) < 2 or parts[0] not in names:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _imported_features(node, names):
                if target != parts[0]:
                    edges.setdefault((parts[0], target), []).append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return edges


def cycle_edges(edges) -> set[tuple[str, str]]:
    graph: dict[str, set[str]] = {}
    for importer, imported in edges:
        graph.setdefault(importer, set()).add(imported)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo += graph.get(node, ())
        return False

    return {(a, b) for a, b in edges if reaches(b, a)}


def mutual_pairs(edges) -> set[frozenset[str]]:
    return {frozenset(edge) for edge in edges if (edge[1], edge[0]) in edges}


def test_no_new_pair_of_features_imports_each_other():
    edges = import_edges()
    assert ("clients", "sales") in edges  # the walk sees the imports
    new = {" <-> ".join(sorted(pair)): [place for a, b in (sorted(pair), sorted(pair)[::-1]) for place in edges[(a, b)][:2]]
           for pair in mutual_pairs(edges) - KNOWN_MUTUAL_PAIRS}
    assert not new, ("two feature packages now import each other; move what both need into the lower one or a "
                     f"shared module: {new}")


def test_the_known_pairs_still_import_each_other():
    """The list shrinks: a pair that no longer imports both ways is removed from it."""
    gone = sorted(" <-> ".join(sorted(pair)) for pair in KNOWN_MUTUAL_PAIRS - mutual_pairs(import_edges()))
    assert not gone, f"no longer mutual: remove from KNOWN_MUTUAL_PAIRS in tests/test_layering.py: {gone}"


def test_the_check_sees_a_cycle_and_a_plain_dependency():
    edges = {("a", "b"): [], ("b", "a"): [], ("b", "c"): [], ("c", "d"): [], ("d", "b"): []}
    assert mutual_pairs(edges) == {frozenset("ab")}
    assert cycle_edges(edges) == {("a", "b"), ("b", "a"), ("b", "c"), ("c", "d"), ("d", "b")}
    tree = ast.parse("from ..clients.models import Client\nfrom pymes.sales import services\nfrom ..db import x")
    assert [f for node in tree.body for f in _imported_features(node, {"clients", "sales"})] == ["clients", "sales"]


def test_every_event_has_its_handlers(app):
    """``pymes/events.py``: a lower feature announces, a higher one handles. Once the app
    is made, each signal has the handlers its comment names (else a sale would be saved
    without its follow-up plan, silently)."""
    from pymes import events

    handlers = {name: sorted(f"{r.__module__}.{r.__name__}" for r in signal.receivers_for(None))
                for name, signal in vars(events).items() if isinstance(signal, NamedSignal)}
    assert handlers == {
        "share_form": ["pymes.referrals.services._share_form_values"],
        "answer_shared": ["pymes.referrals.services._save_shared"],
        "contact_logged": ["pymes.referrals.delivery._offer_at_delivery"],
        "member_deactivated": ["pymes.visits.services._hand_over"],
        "sale_saved": ["pymes.visits.services._plan_saved_sale"],
        "sale_deleting": ["pymes.complaints.services._unlink_deleted_sale", "pymes.visits.services._unlink_deleted_sale"],
    }
