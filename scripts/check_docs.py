#!/usr/bin/env python3
"""Checks the documents (issue 28.5, 29.3; part of `make test`):

1. every generated block (scripts/docgen.py) is what its script renders from
   its results file today: a hand edit inside it, or a script whose output
   format changed since the document was generated, fails;
2. every measured figure outside the generated blocks (a number with a unit
   of time, size or share, or a ratio such as 0.37×) stands in a paragraph,
   list item or table that says when and how it was measured:
   "(measured YYYY-MM-DD … `command` …)" in the same unit, or for a table in
   the paragraph before it. Defaults, limits and settings are not figures
   (the number follows "default", "≤", "<", "up to", … or the unit carries
   `<!-- settings -->`), nor are version numbers or anything in code;
3. every relative link and image resolves to a file in the repository;
4. the README stays a front door (at most README_LINES lines).

Exits 1 naming each problem as FILE:LINE: what.

    python3 scripts/check_docs.py            # the documents of the repository
    python3 scripts/check_docs.py FILE…      # these files (rules 2 and 3)
"""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import docgen  # noqa: E402

ROOT = docgen.ROOT
README_LINES = 200
DOCS = ["README.md", "BENCHMARKS.md", "PARITY.md", "RELIABILITY.md", "docs/*.md"]

UNIT = (r"(?:\s?(?:ms|µs|ns|s|sec|seconds?|min|minutes?|h|hours?|KB|kB|KiB|MB|MiB|GB|GiB|TB|"
        r"B/row|B|rows/s|cycles)|%|×|x)")
FIGURE = re.compile(r"(?<![\w.\-/$#])~?\d[\d,]*(?:\.\d+)?(?:\s?[–-]\s?\d[\d,]*(?:\.\d+)?)?"
                    rf"{UNIT}(?![\w/])")
STAMP = re.compile(r"measured\s+\d{4}-\d{2}-\d{2}[^)]*`[^`]+`", re.IGNORECASE)
SETTING = re.compile(r"(default|defaults to|≤|≥|<|>|at most|at least|up to|under|over|"
                     r"limit|timeout|target|every|each|for|within|capped by \S+ at)\s*\S{0,3}\s*$", re.IGNORECASE)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def documents(args):
    if args:
        return [Path(a).resolve() for a in args]
    found = []
    for pattern in DOCS:
        found += sorted(ROOT.glob(pattern))
    return found


def units(lines):
    """Paragraphs, list items and tables outside code fences and generated
    blocks, as (first line number, kind, text)."""
    out, current, start, kind = [], [], 0, None
    fence = generated = False

    def flush():
        nonlocal current
        if current:
            out.append((start, kind, "\n".join(current)))
        current = []

    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if docgen.BEGIN.search(stripped):
            flush()
            generated = True
            continue
        if stripped == docgen.END:
            generated = False
            continue
        if stripped.startswith("```"):
            flush()
            fence = not fence
            continue
        if fence or generated:
            continue
        if not stripped or stripped.startswith("#"):
            flush()
            continue
        this = "table" if stripped.startswith("|") else (
            "item" if re.match(r"([-*]|\d+\.)\s", stripped) else "text")
        # A nested item belongs to its parent's unit (and its stamp).
        nested = this == "item" and line[:1] == " " and kind == "item"
        if current and ((this == "item" and not nested)
                        or (this == "table") != (kind == "table")):
            flush()
        if not current:
            start, kind = number, this
        current.append(line)
    flush()
    return out


def figures(text):
    """The measured figures in `text` (code, comments and settings left out)."""
    if "<!-- settings -->" in text:
        return []
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"`[^`]*`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    found = []
    for match in FIGURE.finditer(text):
        before = text[max(0, match.start() - 24):match.start()]
        if SETTING.search(before):
            continue
        found.append(match.group(0).strip())
    return found


def check_figures(path, lines, problems):
    previous = None
    for number, kind, text in units(lines):
        stamped = STAMP.search(text) or (kind == "table" and previous is not None
                                         and STAMP.search(previous))
        found = figures(text)
        if found and not stamped:
            problems.append(f"{path}:{number}: {', '.join(found[:4])}"
                            f"{' …' if len(found) > 4 else ''}: a figure without "
                            "\"(measured YYYY-MM-DD … `command`)\" beside it, and not in a "
                            "generated block")
        previous = text


def check_links(path, shown, text, problems):
    for number, line in enumerate(text.splitlines(), 1):
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            file = (path.parent / target.split("#")[0]).resolve()
            if not file.exists():
                problems.append(f"{shown}:{number}: the link {target} names no file")


def check_blocks(path, text, problems):
    try:
        found = docgen.blocks(text)
    except ValueError as e:
        problems.append(f"{path}: {e}")
        return
    for block in found:
        line = text[:block["start"]].count("\n") + 1
        try:
            again = docgen.render_again(block)
        except Exception as e:  # noqa: BLE001  (any failure to render is the finding)
            problems.append(f"{path}:{line}: the block from {block['script']} cannot be "
                            f"rendered again from {block['results']}: {e!r}")
            continue
        if again != block["body"]:
            diff = next((i for i, (a, b) in enumerate(zip(again.splitlines(),
                                                          block["body"].splitlines()))
                         if a != b), None)
            where = f" (first difference at its line {diff + 1})" if diff is not None else ""
            problems.append(f"{path}:{line}: the block differs from what {block['script']} "
                            f"renders from {block['results']}{where}: rerun the script, "
                            "never edit the block")


def main():
    problems = []
    for path in documents(sys.argv[1:]):
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        text = path.read_text()
        lines = text.splitlines()
        check_figures(shown, lines, problems)
        check_links(path, shown, text, problems)
        if not sys.argv[1:]:
            check_blocks(shown, text, problems)
    if not sys.argv[1:]:
        length = len((ROOT / "README.md").read_text().splitlines())
        if length > README_LINES:
            problems.append(f"README.md: {length} lines; the front door keeps to "
                            f"{README_LINES} (move detail into docs/)")
    for problem in problems:
        print(problem)
    if problems:
        sys.exit(f"check_docs: {len(problems)} problem(s)")
    print("check_docs: documents consistent")


if __name__ == "__main__":
    main()
