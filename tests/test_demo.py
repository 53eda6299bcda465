"""The demo end to end in a real process, and the README's quick start being the demo's configuration."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from sendcloud_logging._cli.demo import QUICKSTART_LOGGING, Expected, match

README = Path(__file__).resolve().parent.parent / "README.md"
EXCEPTION_TYPES = (
    "requests.exceptions.SSLError",
    "requests.exceptions.HTTPError",
    "requests.exceptions.ConnectionError",
    "requests.exceptions.ReadTimeout",
)


def _quick_start_code() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, "the quick start has no python code block"
    return "\n".join(blocks)


def _readme_logging_dict() -> Any:
    tree = ast.parse(_quick_start_code())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "LOGGING" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("the quick start assigns no LOGGING dict")


def test_readme_quick_start_is_the_demo_configuration() -> None:
    assert _readme_logging_dict() == QUICKSTART_LOGGING
    code = _quick_start_code()
    assert "logging.config.dictConfig(LOGGING)" in code
    assert "log.exception(" in code


def test_readme_starts_with_the_two_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# sendcloud-logging"
    assert lines[2].strip().startswith("make demo")
    assert lines[3].strip().startswith("make test")


def test_demo_runs_and_every_log_arrives() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENDCLOUD_")}
    # A shell set up for production: none of it may reach the demo (OAuth2 would go to the token endpoint).
    env.update(
        SENDCLOUD_CLIENT_ID="a-real-client",
        SENDCLOUD_CLIENT_SECRET="a-real-client-secret-5d2c",
        SENDCLOUD_TOKEN_URL="http://127.0.0.1:9/oauth2/token",
        SENDCLOUD_API_URL="http://127.0.0.1:9/api/v3",
    )
    done = subprocess.run(
        [sys.executable, "-m", "sendcloud_logging", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in EXCEPTION_TYPES:
        assert name in done.stdout
    assert "OK: all 6 logs arrived" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert "a-real-client-secret-5d2c" not in done.stdout + done.stderr
    # at its end: one complete log as the merchant sees it, and what to do next
    shown = done.stdout.split("as the merchant sees it in the connection issue log", 1)[1]
    for part in ('"request": {', '"payload": {', '"response": {', '"body": {', '"exception": "Could not post'):
        assert part in shown
    assert "sendcloud-logging serve" in shown
    assert "export SENDCLOUD_API_URL=http://127.0.0.1:8025/api/v3 SENDCLOUD_INTEGRATION_ID=1" in shown
    assert "sendcloud-logging check" in shown


def test_match_names_what_is_missing() -> None:
    expected = [
        Expected("tls", "requests.exceptions.SSLError"),
        Expected("404", "requests.exceptions.HTTPError", 404),
        Expected("422", "requests.exceptions.HTTPError", 422),
        Expected("401 without exception", None, 401),
    ]
    logs: list[dict[str, Any]] = [
        {"exception_type": "requests.exceptions.HTTPError", "response_code": 422},
        {"exception_type": None, "response_code": 401},
        {"exception_type": "requests.exceptions.SSLError", "response_code": None},
    ]
    assert [want.label for want in match(expected, logs)] == ["404"]
    assert match(expected[:1], []) == expected[:1]
    # one log fulfils one expectation only
    twice = [Expected("a", "requests.exceptions.HTTPError"), Expected("b", "requests.exceptions.HTTPError")]
    assert [w.label for w in match(twice, logs[:1])] == ["b"]
