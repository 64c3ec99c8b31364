"""Route functions stay short (issue 22, "no function over 40 lines in routes"): a page's
data is gathered by a service function (often returning a dataclass) and the route
renders it. The check covers every module named ``*routes.py`` and every module that
declares a route (``@bp.get("/…")`` in ``referrals/links.py``, ``main/pwa.py``…), and
every function in them, nested ones included (a cached page's ``content()`` closure).

A function's length is ``end_lineno - lineno + 1`` of its ``def`` (decorators excluded).
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pymes"
MAX_LINES = 40
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}

# Functions over the limit in files another piece of work owns at the moment, with their
# length when they were listed. This list may only shrink: a listed function that grows
# fails, one that gets back under the limit must leave the list (the second test says so).
ALLOWED: dict[str, int] = {
    # pymes/whatsapp/routes.py (another piece of work had it open): nothing over 40 lines there
    # on 2026-12-05; a function of it that had to be listed would go here, with its length.
}


def _declares_a_route(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                        and decorator.func.attr in ROUTE_DECORATORS and decorator.args
                        and isinstance(decorator.args[0], ast.Constant)
                        and str(decorator.args[0].value).startswith("/")):
                    return True
    return False


def route_modules() -> list[Path]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name.endswith("routes.py") or _declares_a_route(ast.parse(path.read_text(encoding="utf-8"))):
            found.append(path)
    return found


def lengths(source: str) -> dict[str, int]:
    """Function name → lines, for every function of a module (nested ones named outer.inner)."""
    found: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = prefix + child.name
                found[name] = child.end_lineno - child.lineno + 1
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def long_functions() -> dict[str, int]:
    found = {}
    for path in route_modules():
        where = path.relative_to(PACKAGE.parent).as_posix()
        for name, size in lengths(path.read_text(encoding="utf-8")).items():
            if size > MAX_LINES:
                found[f"{where}:{name}"] = size
    return found


def test_the_walk_finds_the_route_modules():
    names = {path.relative_to(PACKAGE).as_posix() for path in route_modules()}
    assert {"clients/routes.py", "clients/import_routes.py", "accounts/mfa_routes.py", "referrals/links.py",
            "main/pwa.py", "whatsapp/routes.py"} <= names


def test_no_route_function_is_longer_than_40_lines():
    offenders = {name: size for name, size in long_functions().items()
                 if size > ALLOWED.get(name, MAX_LINES)}
    assert not offenders, (
        f"functions over {MAX_LINES} lines in route modules (gather the page's data in a service "
        f"function, render it in the route): " + ", ".join(f"{n} ({s})" for n, s in sorted(offenders.items())))


def test_the_allow_list_only_shrinks():
    now = long_functions()
    fixed = sorted(name for name in ALLOWED if name not in now)
    assert not fixed, f"under {MAX_LINES} lines now: remove from ALLOWED: {', '.join(fixed)}"


def test_the_measure_excludes_decorators_and_includes_nested_functions():
    source = '''
@bp.get("/x")
@login_required
def page():
    def content():
        return 1
    return content()
'''
    assert lengths(source) == {"page": 4, "page.content": 2}
