"""Every rule code cited in the code has its document (issue 22, point 9).

A comment or docstring in ``pymes/``, ``tests/``, ``migrations/``, ``templates/`` or
``bench/`` that cites a security requirement ("TEN-2", "EXP-1") or a domain rule
("rule 6", "rules 4, 6, 7", "Rules 1-3") must find a heading in ``docs/`` that names it,
so a reader can look it up in the repository.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

REQUIREMENT = re.compile(r"\b(?:TEN|AUTH|WEB|TOK|EXP|PAY|DATA|OPS|SES)-\d+\b")
RULES = re.compile(r"\b[Rr]ules? (\d+(?:\s*(?:,|and|-|–)\s*\d+)*)")


SOURCES = (("pymes", "*.py"), ("tests", "*.py"), ("migrations", "*.py"), ("templates", "*.html"), ("bench", "*"))


def _sources():
    for folder, pattern in SOURCES:
        for path in (ROOT / folder).rglob(pattern):
            if path.name == "test_docs.py" or not path.is_file() or "__pycache__" in path.parts:
                continue  # the test's own examples are not citations
            try:
                yield path, path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue


def _rule_numbers(cited: str) -> set[int]:
    numbers: set[int] = set()
    for start, end in re.findall(r"(\d+)\s*[-–]\s*(\d+)", cited):
        numbers.update(range(int(start), int(end) + 1))
    numbers.update(int(n) for n in re.findall(r"\d+", cited))
    return numbers


def cited_codes() -> dict[str, set[str]]:
    """Each cited code with the files citing it."""
    cited: dict[str, set[str]] = {}
    for path, text in _sources():
        where = str(path.relative_to(ROOT))
        for code in REQUIREMENT.findall(text):
            cited.setdefault(code, set()).add(where)
        for match in RULES.finditer(text):
            for number in _rule_numbers(match.group(1)):
                cited.setdefault(f"Rule {number}", set()).add(where)
    return cited


def headings() -> list[str]:
    return [line.lstrip("#").strip() for path in DOCS.glob("*.md")
            for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]


def _has_heading(code: str, titles: list[str]) -> bool:
    pattern = re.compile(rf"^{re.escape(code)}\b")
    return any(pattern.match(title) for title in titles)


def test_every_cited_code_has_a_heading_in_docs():
    titles = headings()
    cited = cited_codes()
    assert "TEN-2" in cited and "Rule 6" in cited  # the scan finds what the code cites
    missing = {code: sorted(files)[:3] for code, files in cited.items() if not _has_heading(code, titles)}
    assert not missing, f"cited without a heading in docs/: {missing}"


def test_the_scan_reads_lists_and_ranges_of_rules():
    assert _rule_numbers("4, 6 and 7") == {4, 6, 7}
    assert _rule_numbers("1-3") == {1, 2, 3}
    assert not _has_heading("TEN-9", ["TEN-1 The tenant comes from a verified source"])
    assert not _has_heading("Rule 1", ["Rule 10: always a responsible seller"])


def test_readme_points_at_the_docs_in_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/" in readme
    for name in ("architecture.md", "domain.md", "security.md", "performance.md"):
        assert (DOCS / name).is_file(), name
