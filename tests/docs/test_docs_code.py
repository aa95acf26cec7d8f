"""Every ```python block of the documentation runs with the current API.

Each page of docs/ (and the README) is one test: its blocks run in order in one fresh namespace,
in a temporary working folder, with FutureWarning raised as an error, so a renamed option or a
call to a function that does not exist fails here instead of confusing a reader.

Two HTML comments, invisible on the site, steer a page's run:

- ``<!-- docs-test: no-run REASON -->`` on the line before a fence: the block is only compiled
  (it needs what the test cannot have, e.g. a Spark cluster or the reader's own file). The
  reason is required.
- ``<!-- docs-test: setup`` ... ``-->`` and ``<!-- docs-test: check`` ... ``-->``: code run in
  its place in the page and not shown: set-up (e.g. writing the bundled data to the file name a
  block reads) and checks that the numbers the text quotes are the numbers the code gives.
"""

from __future__ import annotations

import re
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from causalips.errors import CausalipsWarning

ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
NO_RUN = re.compile(r"^\s*<!--\s*docs-test:\s*no-run\b\s*(?P<reason>.*?)\s*-->\s*$")
HIDDEN_START = re.compile(r"^\s*<!--\s*docs-test:\s*(setup|check)\s*$")


@dataclass
class Block:
    """One piece of Python code of a page: its first line number and whether it runs."""

    line: int
    code: str
    run: bool = True
    reason: str = ""


def blocks_of(text: str) -> list[Block]:
    """The page's Python blocks (and hidden set-up code) in reading order."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if HIDDEN_START.match(lines[i]):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "-->")
            blocks.append(Block(i + 2, "\n".join(lines[i + 1:end])))
            i = end + 1
            continue
        start = FENCE.match(lines[i])
        if not start:
            i += 1
            continue
        indent, fence = start["indent"], start["fence"]
        end = next(j for j in range(i + 1, len(lines))
                   if lines[j].strip() == fence and lines[j].startswith(indent))
        language = start["info"].split()[0].lower() if start["info"].split() else ""
        if language in ("python", "py"):
            code = "\n".join(ln[len(indent):] for ln in lines[i + 1:end])
            marker = NO_RUN.match(lines[i - 1]) if i > 0 else None
            blocks.append(Block(i + 2, code, run=marker is None,
                                reason=marker["reason"] if marker else ""))
        i = end + 1
    return blocks


def test_blocks_are_found():
    """The extractor sees indented fences, skips other languages and reads both markers."""
    page = "\n".join([
        "text", "```python", "x = 1", "```", "```sh", "ls", "```",
        "- item", "    ```python", "    y = x + 1", "    ```",
        "<!-- docs-test: no-run needs a Spark cluster -->", "```python", "spark.stop()", "```",
        "<!-- docs-test: setup", "z = 3", "-->",
        "<!-- docs-test: check", "assert z == 3", "-->",
    ])
    found = blocks_of(page)
    assert [(b.line, b.code, b.run) for b in found] == [
        (3, "x = 1", True), (10, "y = x + 1", True), (14, "spark.stop()", False), (17, "z = 3", True),
        (20, "assert z == 3", True)]
    assert found[2].reason == "needs a Spark cluster"


def run_page(page: Path) -> None:
    """Run the page's blocks in order in one fresh namespace (in the current folder)."""
    blocks = blocks_of(page.read_text(encoding="utf-8"))
    namespace = {"__name__": "__docs__"}
    name = page.relative_to(ROOT).as_posix() if page.is_relative_to(ROOT) else page.name
    for block in blocks:
        # blank lines in front keep the page's line numbers in a traceback
        code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
        if not block.run:
            assert block.reason, f"{name}:{block.line}: a no-run block must say why"
            continue
        try:
            with warnings.catch_warnings():
                # the pages show designs that warn on purpose (few clusters, ...): not news here
                warnings.simplefilter("ignore", CausalipsWarning)
                warnings.simplefilter("error", FutureWarning)
                exec(code, namespace)
        except Exception as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(page)]
            line = frames[-1].lineno if frames else block.line
            detail = "".join(traceback.format_exception(exc)[-4:])
            pytest.fail(f"{name}:{line}: {type(exc).__name__}: {exc}\n{detail}", pytrace=False)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_code_runs(page, tmp_path, monkeypatch):
    if not blocks_of(page.read_text(encoding="utf-8")):
        pytest.skip(f"{page.name} has no Python blocks")
    monkeypatch.chdir(tmp_path)
    run_page(page)


@pytest.mark.parametrize("code, message", [
    ('import causalips as ci\nci.KaplanMeier(duration="t", event="e", conf_type="log")',
     "page.md:4: FutureWarning: "),
    ("x = 1\n```\n\n```python\ny = x + z", "page.md:7: NameError: name 'z' is not defined"),
    ("x = 1\n```\n<!-- docs-test: check\nassert x == 2\n-->\n```python\nx", "page.md:6: AssertionError"),
    ("x = 1\n```\n<!-- docs-test: no-run -->\n```python\nx", "page.md:7: a no-run block must say why"),
])
def test_stale_code_fails_its_page(code, message, tmp_path, monkeypatch):
    """What the page test exists for: a renamed option, an undefined name, a quoted number that
    no longer holds, an unexplained no-run block each fail with the page and line."""
    page = tmp_path / "page.md"
    page.write_text(f"# A page\n```python\n{code}\n```\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises((pytest.fail.Exception, AssertionError)) as failure:
        run_page(page)
    assert message in str(failure.value)
