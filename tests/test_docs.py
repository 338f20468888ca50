"""The docs keep up with the code (issue 20 item 5): every command and option of the CLI is
named in README.md or docs/*.md, and every citation of docs/rules.md in code and docs
(`rules §N`, `docs/rules.md §N`, a quoted part name after it) points at a section that
exists, under a part of that name. docs/rules.md's own bare `§N` are its own sections;
`rulebook §N` cites the specification, not docs/rules.md, and is left alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from crmtool.cli import app

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "docs" / "rules.md"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SOURCES = sorted(
    p
    for pattern in (
        "crmtool/**/*.py",
        "tests/**/*.py",
        "bench/*",
        "templates/*",
        "*.md",
        "docs/*.md",
    )
    for p in ROOT.glob(pattern)
    if p.is_file() and p.suffix in (".py", ".md", ".sql", ".html", ".j2", ".css", ".js")
)


# -- every command and option is documented ---------------------------------------------------


def _walk(cmd, path: tuple[str, ...] = ()):  # noqa: ANN001, ANN202 - Typer's vendored click
    yield path, cmd
    if hasattr(cmd, "commands"):
        for name, sub in cmd.commands.items():
            yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(typer.main.get_command(app)))
DOC_TEXT = "\n".join(p.read_text(encoding="utf-8") for p in DOCS)
DOC_OPTIONS = set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", DOC_TEXT))


@pytest.mark.parametrize("path", [" ".join(p) for p, _ in COMMANDS if p])
def test_every_command_is_documented(path: str) -> None:
    named = f"crmtool {path}" in DOC_TEXT or f"`{path}`" in DOC_TEXT
    assert named, f"`crmtool {path}` is named in neither README.md nor docs/*.md"


OPTIONS = sorted(
    {
        (" ".join(path) or "crmtool", "/".join(p.opts))
        for path, cmd in COMMANDS
        for p in cmd.params
        if p.param_type_name == "option" and not getattr(p, "hidden", False)
    }
)


@pytest.mark.parametrize("command, option", OPTIONS)
def test_every_option_is_documented(command: str, option: str) -> None:
    """Under any of its names: `-o FILE` documents -o/--output."""
    named = any(name in DOC_OPTIONS for name in option.split("/"))
    assert named, f"{option} of `{command}` is named in neither README.md nor docs/*.md"


# -- every citation of docs/rules.md points at an existing section ----------------------------

# a section number with an optional quoted part name: §17 "Loading"; ranges §5–§8, §5–7
_ONE = (
    r"§\s?(\d+)(?:\s?[–-]\s?§?\s?(\d+))?"
    r"(?:\s+(?:\"([^\"\n]{2,60})\"|“([^”\n]{2,60})”|'([^'\n]{2,60})'))?"
)
_GROUP = re.compile(
    r"(?P<prefix>rulebook|docs/rules\.md|rules\.md|(?<![\w/.-])rules)?\s*(?P<cites>"
    + _ONE
    + r"(?:\s*(?:,|/|and)\s*"
    + _ONE
    + r")*)",
    re.IGNORECASE,
)
_CITE = re.compile(_ONE)


def _sections() -> dict[int, list[str]]:
    """Section number -> its heading and the names of its parts (### headings, lines that
    stand alone as a label, bold terms that open a paragraph or a bullet)."""
    out: dict[int, list[str]] = {}
    TEXTS.clear()
    current = None
    lines = RULES.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if m := re.match(r"## (\d+)\. (.+)", line):
            current = int(m.group(1))
            out[current] = [m.group(2)]
            TEXTS[current] = ""
        elif current is None:
            continue
        TEXTS[current] += line + "\n"
        if line.startswith("## "):
            continue
        elif line.startswith("### "):
            out[current].append(line[4:])
        elif (b := re.match(r"(?:- )?\*\*([^*]+)\*\*", line)) is not None:
            out[current].append(b.group(1))
        elif (
            line.strip()
            and not line.startswith(("-", " ", "|", "`"))
            and i + 1 < len(lines)
            and lines[i + 1].startswith("- ")
            and (i == 0 or not lines[i - 1].strip())
        ):
            out[current].append(line)
    return out


TEXTS: dict[int, str] = {}  # section number -> its text
SECTIONS = _sections()


def _citations() -> list[tuple[str, int, str | None, str]]:
    """(file:line, section, part name or None, the citation's text) of every citation of
    docs/rules.md in code and docs."""
    found = []
    for path in SOURCES:
        own = path == RULES
        rel = path.relative_to(ROOT)
        if rel == Path("tests/test_docs.py"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for g in _GROUP.finditer(line):
                prefix = g.group("prefix")
                if (prefix or "").lower() == "rulebook" or (prefix is None and not own):
                    continue
                for c in _CITE.finditer(g.group("cites")):
                    first, last = int(c.group(1)), c.group(2)
                    name = c.group(3) or c.group(4) or c.group(5)
                    for s in range(first, int(last or first) + 1):
                        found.append((f"{rel}:{n}", s, name, g.group(0).strip()))
    return found


CITATIONS = _citations()


def test_citations_are_found() -> None:
    """The scan itself works: it sees the citations this tree is known to carry."""
    texts = {(where.split(":")[0], s) for where, s, _, _ in CITATIONS}
    assert ("crmtool/value_tiers.py", 3) in texts
    assert ("docs/rules.md", 14) in texts  # "(the load's dealer, §14)"
    assert len(CITATIONS) > 50


@pytest.mark.parametrize(
    "where, section, name, text", CITATIONS, ids=[f"{w} §{s}" for w, s, _, _ in CITATIONS]
)
def test_citation_points_at_an_existing_section(
    where: str, section: int, name: str | None, text: str
) -> None:
    assert section in SECTIONS, f"{where}: {text!r}: docs/rules.md has no §{section}"
    if name is not None:
        parts = SECTIONS[section]
        named = any(name.lower() in p.lower() for p in parts) or name in TEXTS[section]
        assert named, (
            f"{where}: {text!r}: docs/rules.md §{section} ({parts[0]}) has no part {name!r} "
            "and does not say it; "
            f"its parts: {parts[1:]}"
        )
