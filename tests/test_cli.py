"""The command line, in-process through ``main([...])`` against a real Inbox, and ``serve`` as a real process."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sendcloud_logging import SendcloudClient
from sendcloud_logging._cli import main
from sendcloud_logging._cli.api import Progress
from sendcloud_logging._cli.arguments import INBOX_PUBLIC_KEY, INBOX_SECRET_KEY, build_parser
from sendcloud_logging._cli.serve import INBOX_CLIENT_ID, INBOX_CLIENT_SECRET, format_received
from sendcloud_logging.inbox import Inbox
from sendcloud_logging.shop import Shop

from .conftest import LineReader

PUBLIC_KEY = "pk-cli-test-51b0"
SECRET_KEY = "sk-cli-test-secret-e4a7"  # must never appear in captured output
WRONG_SECRET = "sk-wrong-9d2e-do-not-print"
INTEGRATION_ID = 4242


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A running Inbox with this module's keys."""
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY) as server:
        yield server


def _send_args(inbox: Inbox, *extra: str) -> list[str]:
    return [
        "send",
        "--integration-id",
        str(INTEGRATION_ID),
        "--base-url",
        "https://shop.example",
        "--api-url",
        inbox.api_url,
        *extra,
    ]


def test_send_prints_the_created_id(inbox: Inbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        _send_args(
            inbox,
            "--public-key",
            PUBLIC_KEY,
            "--secret-key",
            SECRET_KEY,
            "--exception",
            "Could not post the order note",
            "--exception-type",
            "requests.exceptions.HTTPError",
            "--full-url",
            "https://shop.example/api/orders/7/notes",
            "--method",
            "post",
            "--response-code",
            "422",
        )
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    (stored,) = inbox.logs()
    assert out == f"created log {stored['id']} for integration {INTEGRATION_ID}\n"
    assert stored["integration_id"] == INTEGRATION_ID
    assert stored["base_url"] == "https://shop.example"
    assert stored["method"] == "POST"
    assert stored["response_code"] == 422
    assert stored["exception_type"] == "requests.exceptions.HTTPError"
    assert stored["exception"] == "Could not post the order note"
    assert SECRET_KEY not in out + err


def test_send_reads_keys_from_the_environment(
    inbox: Inbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDCLOUD_PUBLIC_KEY", PUBLIC_KEY)
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("SENDCLOUD_API_URL", inbox.api_url)
    code = main(["send", "--integration-id", "7", "--base-url", "https://shop.example"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert re.fullmatch(r"created log \d+ for integration 7\n", out)
    assert inbox.count() == 1


def test_send_with_a_wrong_key_prints_the_api_error_and_no_key(
    inbox: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_send_args(inbox, "--public-key", PUBLIC_KEY, "--secret-key", WRONG_SECRET))
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert "401" in err
    assert "authentication_failed" in err
    assert WRONG_SECRET not in out + err
    assert SECRET_KEY not in out + err
    assert inbox.count() == 0


def test_send_without_keys_says_which_is_missing(inbox: Inbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(_send_args(inbox, "--public-key", PUBLIC_KEY))
    _, err = capsys.readouterr()
    assert code == 2
    assert "SENDCLOUD_SECRET_KEY" in err


def test_send_to_nothing_is_a_transport_error(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "send",
            "--integration-id",
            "1",
            "--base-url",
            "https://shop.example",
            "--api-url",
            f"{shop.refused_url}/api/v3",
            "--public-key",
            PUBLIC_KEY,
            "--secret-key",
            SECRET_KEY,
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    last = err.splitlines()[-1]
    assert last.startswith(f"error: cannot connect to {shop.refused_url.split('//')[1]}: ")
    assert last.endswith("; is `sendcloud-logging serve` running, is --api-url right?")
    assert SECRET_KEY not in out + err


def test_main_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "Example" in out
    for command in ("demo", "serve", "logs"):
        assert f"sendcloud-logging {command}" in out


IMPORTS_OF = """
import runpy, sys
sys.argv = ["sendcloud-logging", *sys.argv[1:]]
try:
    runpy.run_module("sendcloud_logging", run_name="__main__")
except SystemExit as exc:
    assert exc.code == 0, exc.code
print(sorted(m for m in sys.modules if m.split(".")[0] in ("requests", "urllib3")
             or m in ("sendcloud_logging.handler", "sendcloud_logging.client")), file=sys.stderr)
"""


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["send", "--help"], ["check", "--help"]])
def test_version_and_help_import_neither_requests_nor_the_handler(argv: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", IMPORTS_OF, *argv], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()  # the version or the help was printed
    assert done.stderr.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("command", ["serve", "send", "check", "demo", "logs"])
def test_each_subcommand_help_shows_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out, _ = capsys.readouterr()
    assert "Example" in out
    assert f"sendcloud-logging {command}" in out


def test_a_bare_command_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert out.startswith("usage: sendcloud-logging")
    assert "sendcloud-logging check" in out
    assert err == ""


def test_logs_prints_a_table_and_json_lines(inbox: Inbox, capsys: pytest.CaptureFixture[str]) -> None:
    with SendcloudClient(PUBLIC_KEY, SECRET_KEY, inbox.api_url) as client:
        for n in range(3):
            client.create_log(INTEGRATION_ID, {"base_url": "https://shop.example", "exception": f"problem {n}"})
    keys = ["--api-url", inbox.api_url, "--public-key", PUBLIC_KEY, "--secret-key", SECRET_KEY]

    assert main(["logs", *keys, "--json", "--limit", "2"]) == 0
    out, _ = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2
    assert all(line["integration_id"] == INTEGRATION_ID for line in lines)

    assert main(["logs", *keys, "--integration-id", str(INTEGRATION_ID)]) == 0
    out, _ = capsys.readouterr()
    header, *rows = out.splitlines()
    assert header.split()[:3] == ["id", "integration", "method"]
    assert len(rows) == 3
    assert SECRET_KEY not in out


def _fill(inbox: Inbox, n: int, integration_id: int = INTEGRATION_ID) -> None:
    with SendcloudClient(PUBLIC_KEY, SECRET_KEY, inbox.api_url) as client:
        for i in range(n):
            client.create_log(integration_id, {"base_url": "https://shop.example", "exception": f"problem {i}"})


def test_logs_follows_every_page_with_progress_on_stderr(
    inbox: Inbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(inbox, 230)
    _fill(inbox, 2, integration_id=7)
    monkeypatch.setenv("SENDCLOUD_SECRET_KEY", SECRET_KEY)
    keys = ["--api-url", inbox.api_url, "--public-key", PUBLIC_KEY]

    assert main(["logs", *keys, "--integration-id", str(INTEGRATION_ID), "--limit", "0", "--json"]) == 0
    out, err = capsys.readouterr()
    ids = [json.loads(line)["id"] for line in out.splitlines()]
    stored = [log["id"] for log in inbox.logs(INTEGRATION_ID)]
    assert sorted(ids) == sorted(stored)  # each log once, none of integration 7
    assert len(ids) == 230
    assert err.splitlines() == ["fetched 2 pages, 200 logs so far", "fetched 3 pages, 230 logs so far"]

    assert main(["logs", *keys, "--limit", "150"]) == 0
    out, err = capsys.readouterr()
    header, *rows = out.splitlines()
    assert header.split()[:2] == ["id", "integration"]
    assert len(rows) == 150
    assert err == ""  # the limit was reached with the second page: nothing more to wait for


def test_logs_limit_must_not_be_negative(inbox: Inbox, capsys: pytest.CaptureFixture[str]) -> None:
    keys = ["--api-url", inbox.api_url, "--public-key", PUBLIC_KEY, "--secret-key", SECRET_KEY]
    assert main(["logs", *keys, "--limit", "-1"]) == 2
    assert "--limit" in capsys.readouterr().err


def test_progress_on_a_terminal_is_one_line_rewritten_then_cleared() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    progress = Progress(screen)
    progress.page(1, 100)
    assert screen.getvalue() == ""
    progress.page(2, 200)
    progress.page(3, 250)
    progress.done()
    assert screen.getvalue() == "\rfetched 2 pages, 200 logs so far...\rfetched 3 pages, 250 logs so far...\r\x1b[K"


def test_send_and_logs_with_oauth_client_credentials(
    inbox: Inbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDCLOUD_CLIENT_ID", INBOX_CLIENT_ID)
    monkeypatch.setenv("SENDCLOUD_CLIENT_SECRET", INBOX_CLIENT_SECRET)
    monkeypatch.setenv("SENDCLOUD_TOKEN_URL", inbox.token_url)
    assert main(["send", "--integration-id", "9", "--base-url", "https://shop.example", "--api-url", inbox.api_url]) == 0
    oauth = ["--client-id", INBOX_CLIENT_ID, "--client-secret", INBOX_CLIENT_SECRET, "--token-url", inbox.token_url]
    assert main(["logs", "--api-url", inbox.api_url, *oauth, "--json"]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["integration_id"] for line in out.splitlines()[1:]] == [9]
    assert inbox.tokens_issued == 2
    code = main(["logs", "--api-url", inbox.api_url, *oauth, "--public-key", PUBLIC_KEY])
    assert code == 2
    assert "not both" in capsys.readouterr().err
    monkeypatch.setenv("SENDCLOUD_CLIENT_SECRET", "wrong-client-secret-71aa")
    assert main(["logs", "--api-url", inbox.api_url]) == 1
    out, err = capsys.readouterr()
    assert "invalid_client" in err
    assert "wrong-client-secret-71aa" not in out + err


def test_logs_with_a_wrong_key_fails(inbox: Inbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["logs", "--api-url", inbox.api_url, "--public-key", PUBLIC_KEY, "--secret-key", WRONG_SECRET])
    out, err = capsys.readouterr()
    assert code == 1
    assert "401" in err
    assert WRONG_SECRET not in out + err


def test_format_received_is_one_readable_line() -> None:
    line = format_received(
        {
            "id": 3,
            "integration_id": 12,
            "method": "GET",
            "response_code": 404,
            "exception_type": "requests.exceptions.HTTPError",
            "full_url": "https://shop.example/api/orders/404",
            "exception": "Could not fetch order 404\n" + "x" * 200,
        },
        received=0.0,
    )
    assert "\n" not in line
    assert "integration 12" in line
    assert "GET  404  requests.exceptions.HTTPError  https://shop.example/api/orders/404  Could not" in line
    assert line.endswith("…")
    assert len(line.split("https://shop.example/api/orders/404  ", 1)[1]) == 80


def test_serve_prints_a_line_per_log_and_stops_on_sigterm() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENDCLOUD_")}
    command = [sys.executable, "-m", "sendcloud_logging", "serve", "--port", "0", "--db", ":memory:"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdout is not None
        try:
            out = LineReader(proc.stdout)
            api_url = out.expect(r"Inbox listening on (\S+)").group(1)
            out.expect(rf"use public key {INBOX_PUBLIC_KEY} / secret key {INBOX_SECRET_KEY}")
            out.expect(rf"or OAuth2: client id {INBOX_CLIENT_ID} / secret {INBOX_CLIENT_SECRET}, token URL http://")
            with SendcloudClient(INBOX_PUBLIC_KEY, INBOX_SECRET_KEY, api_url) as client:
                created = client.create_log(
                    31,
                    {
                        "base_url": "https://shop.example",
                        "full_url": "https://shop.example/api/orders/7/notes",
                        "method": "POST",
                        "response_code": 422,
                        "exception_type": "requests.exceptions.HTTPError",
                        "exception": "Could not post the order note",
                    },
                )
            line = out.expect(r"Could not post the order note").string
            assert "integration 31" in line
            assert f"#{created['id']}" in line
            assert "POST  422  requests.exceptions.HTTPError  https://shop.example/api/orders/7/notes" in line
            proc.terminate()
            out.expect(r"stopped; 1 log\(s\) stored")
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out.text()  # EOF reached: the pipe may be closed now
        assert proc.stderr is not None
        assert proc.stderr.read() == ""


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_docs_cli_names_every_command_and_flag_and_its_examples_parse() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    for name, sub in _subcommands().items():
        assert f"## {name}" in text, name
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert f"`{flag}" in text, f"docs/cli.md does not name {name} {flag}"
    examples = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    commands = [
        line.split("#", 1)[0].split("|", 1)[-1 if line.startswith("pass ") else 0].strip()
        for block in examples
        for line in block.replace("\\\n", " ").splitlines()
    ]
    commands = [c for c in commands if c.startswith("sendcloud-logging ")]
    assert len(commands) >= 6
    for command in commands:
        _args, unknown = build_parser().parse_known_args(shlex.split(command)[1:])
        assert not unknown, command
