"""Every code block of the README and of docs/*.md runs as copied.

The python blocks of one file run in order, in one fresh process and one namespace (a reader copies them
one after the other), with the ``SENDCLOUD_*`` environment pointing at an Inbox of this test. A block preceded
by ``<!-- run-as: pytest -->`` is a test module: it runs under pytest, with the package's plugin. A block that
cannot run is marked ``<!-- not-run: why -->`` on the line before it; there are few. JSON blocks parse, and a
log shown as the API returns it validates against the API's schema.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from sendcloud_logging.inbox import Inbox

from .conftest import INTEGRATION_ID, PUBLIC_KEY, SECRET_KEY, SPARE_PLUGINS, assert_matches

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"^<!--\s*(not-run|run-as)\s*:\s*(.*?)\s*-->$")
#: Blocks marked not-run, in all documents together, at most: a reader should be able to trust the examples.
MOST_NOT_RUN = 3


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    marker: str  # "" or "not-run: why" or "run-as: pytest"

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, each with the marker comment on the line before it, if any."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[index])
        if not fence:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        before = lines[index - 1].strip() if index else ""
        marked = MARKER.match(before)
        marker = f"{marked.group(1)}: {marked.group(2)}" if marked else ""
        found.append(Block(path, index + 1, fence.group(1), "\n".join(lines[index + 1:end]) + "\n", marker))
        index = end + 1
    return found


ALL = [block for path in DOCUMENTS for block in blocks(path)]
PYTHON = [b for b in ALL if b.lang == "python"]
SCRIPTS = sorted({b.path for b in PYTHON if not b.marker}, key=str)
TESTS = [b for b in PYTHON if b.marker == "run-as: pytest"]

RUNNER = '''
import sys

namespace = {"__name__": "__main__"}
for where, code in BLOCKS:
    print(f"--- running {where}", file=sys.stderr, flush=True)
    exec(compile(code, where, "exec"), namespace)
'''


@pytest.fixture
def env(inbox: Inbox) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith(("SENDCLOUD_", "PYTEST_"))}
    values.update(
        SENDCLOUD_INTEGRATION_ID=str(INTEGRATION_ID),
        SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY,
        SENDCLOUD_SECRET_KEY=SECRET_KEY,
        SENDCLOUD_API_URL=inbox.api_url,
    )
    return values


def test_the_documents_have_runnable_blocks_and_few_marked_not_run() -> None:
    assert [b.where for b in PYTHON if b.path.name == "README.md" and not b.marker], "the README shows no code?"
    for block in PYTHON:
        assert block.marker in ("", "run-as: pytest") or re.fullmatch(r"not-run: \S.*", block.marker), block.where
    not_run = [b.where for b in PYTHON if b.marker.startswith("not-run")]
    assert len(not_run) <= MOST_NOT_RUN, not_run


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run_as_copied(path: Path, env: dict[str, str], inbox: Inbox, tmp_path: Path) -> None:
    chosen = [(b.where, b.code) for b in PYTHON if b.path == path and not b.marker]
    script = f"BLOCKS = {chosen!r}\n{textwrap.dedent(RUNNER)}"
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sendcloud-logging:" not in result.stderr, result.stderr  # nothing was dropped
    if path.name == "README.md":  # the quick start's configuration delivered the README's records to our Inbox
        messages = {log["exception"].split(":")[0] for log in inbox.logs()}
        assert {"Could not post the order note", "The shop refused our token", "Stock update failed"} <= messages


@pytest.mark.parametrize("block", TESTS, ids=lambda b: b.where)
def test_test_blocks_pass_under_pytest(block: Block, tmp_path: Path) -> None:
    (tmp_path / "test_from_docs.py").write_text(block.code, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDCLOUD_", "PYTEST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SPARE_PLUGINS, str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout, result.stdout


@pytest.mark.parametrize("block", [b for b in ALL if b.lang == "json"], ids=lambda b: b.where)
def test_json_blocks_parse_and_a_log_matches_the_api_schema(block: Block) -> None:
    value = json.loads(block.code)
    if isinstance(value, dict) and {"id", "integration_id", "base_url"} <= set(value):
        assert_matches("log", value)


PYPI = ROOT / "docs" / "pypi.md"


def test_the_index_page_has_no_repository_only_commands_and_no_relative_links() -> None:
    text = PYPI.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", text) + re.findall(r'(?:src|href)="([^"]+)"', text)
    assert links, "docs/pypi.md links to nothing?"
    assert [link for link in links if not link.startswith("https://")] == []
    assert not re.search(r"\bmake (demo|test|bench)\b", text)
    assert "long_description = file: docs/pypi.md" in (ROOT / "setup.cfg").read_text(encoding="utf-8")
