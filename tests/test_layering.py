"""The feature packages' import graph must not grow new cycles (issue 22, point 1).

Each subpackage of ``pymes`` (accounts, clients, sales, …) is a feature. An import from
one feature into another, at module level or inside a function, is an edge; an edge is
part of a cycle when the imported feature reaches the importer back. Today most features
sit in one tangle (``KNOWN_CYCLE_EDGES``, recorded 2026-12-05: the issue's ten mutual
pairs and the longer loops they close). Untangling it is the next step; until then this
test keeps it from growing: a new edge that closes a cycle fails, with where it is.

When a refactor breaks a cycle, remove its edges from ``KNOWN_CYCLE_EDGES`` (the test
lists the ones that are no longer cycles), so the list only ever shrinks towards empty.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pymes"

KNOWN_CYCLE_EDGES: dict[str, set[str]] = {
    "accounts": {"audit", "visits"},
    "audit": {"accounts", "clients"},
    "clients": {"accounts", "audit", "complaints", "feedback", "referrals", "sales", "territories", "visits"},
    "complaints": {"accounts", "clients", "feedback", "notifications", "referrals", "sales", "visits"},
    "feedback": {"accounts", "clients", "complaints", "notifications", "referrals", "sales", "territories", "visits"},
    "notifications": {"accounts", "clients"},
    "referrals": {"accounts", "audit", "clients", "feedback", "notifications", "sales", "territories", "visits"},
    "sales": {"accounts", "clients", "complaints", "visits"},
    "territories": {"accounts", "clients"},
    "visits": {"accounts", "clients", "feedback", "referrals", "sales", "territories"},
}


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


def test_no_new_import_cycle_between_feature_packages():
    edges = import_edges()
    assert ("clients", "sales") in edges  # the walk sees the imports
    known = {(a, b) for a, targets in KNOWN_CYCLE_EDGES.items() for b in targets}
    new = {edge: edges[edge][:3] for edge in sorted(cycle_edges(edges) - known)}
    assert not new, ("a new import closes a cycle between feature packages; move what both need into the lower "
                     f"one or a shared module: {new}")


def test_the_known_cycles_are_still_cycles():
    """The list shrinks: an edge that is no longer part of a cycle is removed from it."""
    known = {(a, b) for a, targets in KNOWN_CYCLE_EDGES.items() for b in targets}
    gone = sorted(known - cycle_edges(import_edges()))
    assert not gone, f"no longer a cycle: remove from KNOWN_CYCLE_EDGES in tests/test_layering.py: {gone}"


def test_the_check_sees_a_cycle_and_a_plain_dependency():
    assert cycle_edges({("a", "b"): [], ("b", "c"): [], ("c", "a"): [], ("c", "d"): []}) == {
        ("a", "b"), ("b", "c"), ("c", "a")}
    tree = ast.parse("from ..clients.models import Client\nfrom pymes.sales import services\nfrom ..db import x")
    assert [f for node in tree.body for f in _imported_features(node, {"clients", "sales"})] == ["clients", "sales"]
