"""The cache's contract, checked over the source (issue 22, point 3; docs/architecture.md,
"The cache and its contract", item 4): a ``@cached`` figure is shared by every reader of
a business at one data version, so it must not read who is asking or what they sent.
``current_user``, ``request`` and ``session`` read inside one would key per-reader state
under a business-wide entry: the first reader's answer served to everyone.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pymes"
PER_READER = {"current_user", "request", "session"}


def _is_cached(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(target, ast.Name) and target.id == "cached") or (
        isinstance(target, ast.Attribute) and target.attr == "cached")


def per_reader_reads(source: str) -> list[tuple[str, str, int]]:
    """(function, name, line) for each per-reader name read inside a ``@cached`` function."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(map(_is_cached, node.decorator_list)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name) and inner.id in PER_READER:
                    found.append((node.name, inner.id, inner.lineno))
    return found


def test_no_cached_figure_reads_the_reader():
    cached_functions, offenders = 0, []
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if "cached" not in source:
            continue
        tree = ast.parse(source)
        cached_functions += sum(1 for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
                                and any(map(_is_cached, n.decorator_list)))
        offenders += [f"{path.relative_to(PACKAGE.parent)}:{line} {fn} reads {name}"
                      for fn, name, line in per_reader_reads(source)]
    assert cached_functions >= 10  # the walk finds the dashboard's figures
    assert not offenders, "a @cached figure reads per-reader state (pass it as an argument instead): " + "; ".join(offenders)


def test_the_check_catches_a_figure_that_reads_the_user():
    source = '''
@cached("figures.mine")
def mine(today):
    return count(seller_id=current_user.id, day=today)

@cache.cached("figures.ok")
def ok(today, seller_id):
    return count(seller_id=seller_id, day=today)
'''
    assert per_reader_reads(source) == [("mine", "current_user", 4)]
