"""The command line as a new user meets it, through real processes against an Inbox on 127.0.0.1: every
mistake is one line naming the flag or variable, no path ends in a traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Optional

import pytest

from sendcloud_logging import SendcloudClient
from sendcloud_logging._cli.arguments import build_parser
from sendcloud_logging._cli.serve import _exports
from sendcloud_logging._settings import resolve
from sendcloud_logging.inbox import Inbox
from sendcloud_logging.shop import Shop

from .conftest import LineReader
from .raw_server import RawRequest, RawServer, reply

PUBLIC_KEY = "pk-paths-3c1d"
SECRET_KEY = "sk-paths-secret-77f0"  # never in any output
INTEGRATION_ID = 31


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENDCLOUD_")}
    env.update(extra)
    return env


def _keys(inbox: Inbox, **extra: str) -> dict[str, str]:
    keys = {"SENDCLOUD_PUBLIC_KEY": PUBLIC_KEY, "SENDCLOUD_SECRET_KEY": SECRET_KEY, "SENDCLOUD_API_URL": inbox.api_url}
    return _env(**{**keys, **extra})


def cli(*args: str, env: Optional[dict[str, str]] = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "sendcloud_logging", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=_env() if env is None else env,
        input=stdin,
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert SECRET_KEY not in done.stdout + done.stderr
    return done


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY) as server:
        yield server


def test_a_bare_command_prints_the_help() -> None:
    done = cli()
    assert done.returncode == 2
    assert done.stdout.startswith("usage: sendcloud-logging")
    assert "check" in done.stdout


def test_an_unknown_option_shows_the_usage_of_its_command() -> None:
    done = cli("send", "--bogus")
    assert done.returncode == 2
    assert done.stderr.startswith("usage: sendcloud-logging send")
    assert "sendcloud-logging send: error: unrecognized arguments: --bogus" in done.stderr


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--api-url", ""), "error: --api-url: must be a non-empty URL; leave it out for the default"),
        (
            ("--api-url", "panel.sendcloud.sc/api/v3"),
            "error: --api-url: not an http(s) URL: 'panel.sendcloud.sc/api/v3'",
        ),
        (("--base-url", "myshop.example"), "error: --base-url: must be an http(s) URL such as https://shop.example"),
        (("--integration-id", "abc"), "error: --integration-id: must be a positive integer, got 'abc'"),
        (
            ("--api-url", "http://logs.example/api/v3"),
            "error: --api-url: plain http would send the API keys unencrypted; use https, a loopback host, "
            "or --allow-insecure-http",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_its_flag(inbox: Inbox, args: tuple[str, ...], line: str) -> None:
    done = cli("send", "--integration-id", "1", "--base-url", "https://shop.example", *args, env=_keys(inbox))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [done.stderr.splitlines()[0]]
    assert done.stderr.startswith(line), done.stderr
    assert inbox.count() == 0


def test_a_bad_variable_is_named_and_an_empty_one_is_unset(inbox: Inbox) -> None:
    done = cli("send", "--base-url", "https://shop.example", env=_keys(inbox, SENDCLOUD_INTEGRATION_ID="x"))
    assert done.returncode == 2
    assert done.stderr == "error: SENDCLOUD_INTEGRATION_ID: must be a positive integer, got 'x'\n"
    done = cli("send", "--base-url", "https://shop.example", env=_keys(inbox, SENDCLOUD_INTEGRATION_ID=""))
    assert done.returncode == 2
    assert done.stderr == "error: --integration-id: missing: pass --integration-id or set SENDCLOUD_INTEGRATION_ID\n"


def test_send_takes_the_integration_id_from_the_environment_and_warns_the_merchant_sees_it(inbox: Inbox) -> None:
    done = cli("send", "--base-url", "https://shop.example", env=_keys(inbox, SENDCLOUD_INTEGRATION_ID="77"))
    assert done.returncode == 0, done.stderr
    assert "the merchant sees it in the connection issue log" in done.stderr
    (log,) = inbox.logs()
    assert log["integration_id"] == 77
    assert done.stdout == f"created log {log['id']} for integration 77\n"


def test_send_redacts_as_the_handler_does(inbox: Inbox) -> None:
    done = cli(
        "send",
        "--integration-id",
        "5",
        "--full-url",
        "https://shop.example/api/orders?api_key=shop-secret-91ab&page=2",
        "--exception",
        f"refused with our own key {SECRET_KEY} in the text",
        env=_keys(inbox),
    )
    assert done.returncode == 0, done.stderr
    (log,) = inbox.logs()
    assert "shop-secret-91ab" not in log["full_url"]
    assert "page=2" in log["full_url"]
    assert SECRET_KEY not in log["exception"]
    assert log["base_url"] == "https://shop.example"  # taken from --full-url, as the handler does


def test_a_secret_on_the_command_line_warns_and_a_file_or_stdin_does_not(inbox: Inbox, tmp_path: object) -> None:
    base = ("send", "--integration-id", "1", "--base-url", "https://shop.example", "--api-url", inbox.api_url)
    env = _env(SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY)
    done = subprocess.run(
        [sys.executable, "-m", "sendcloud_logging", *base, "--secret-key", SECRET_KEY],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert done.returncode == 0
    assert "warning: --secret-key shows in the process list" in done.stderr
    assert "--secret-key-file" in done.stderr
    done = cli(*base, "--secret-key-file", "-", env=env, stdin=f"{SECRET_KEY}\n")
    assert done.returncode == 0, done.stderr
    assert "process list" not in done.stderr
    assert inbox.count() == 2


def test_connection_refused_says_what_to_do() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = _env(SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY, SENDCLOUD_SECRET_KEY=SECRET_KEY)
    done = cli("logs", "--api-url", f"http://127.0.0.1:{port}/api/v3", env=env)
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"error: cannot connect to 127.0.0.1:{port}: ")
    assert line.endswith("; is `sendcloud-logging serve` running, is --api-url right?")


@pytest.mark.parametrize("suffix", ["", "/api/v3/integrations"])
def test_a_wrong_api_url_is_named_as_such(inbox: Inbox, suffix: str) -> None:
    api_url = inbox.api_url.rsplit("/api/v3", 1)[0] + suffix
    for command in (("send", "--integration-id", "1", "--base-url", "https://shop.example"), ("logs",)):
        done = cli(*command, env=_keys(inbox, SENDCLOUD_API_URL=api_url))
        assert done.returncode == 1
        last = done.stderr.splitlines()[-1]
        assert last.startswith(f"error: SENDCLOUD_API_URL {api_url} looks wrong: "), last
        assert "SENDCLOUD_API_URL should end in /api/v3" in last
        assert "is not known to these keys" not in last


def _answer_never(request: RawRequest, conn: socket.socket) -> None:
    del request, conn  # the request was read; no answer comes until the server stops


@pytest.mark.parametrize("command", ["send", "demo"])
def test_ctrl_c_prints_interrupted_and_exits_130(command: str) -> None:
    with RawServer(_answer_never) as server:
        if command == "send":
            args = ["send", "--integration-id", "1", "--base-url", "https://shop.example"]
            env = _env(SENDCLOUD_API_URL=f"{server.url}/api/v3", SENDCLOUD_PUBLIC_KEY="p", SENDCLOUD_SECRET_KEY="s")
            stream, started = "stderr", r"the merchant sees it"
        else:
            args, env, stream, started = ["demo"], _env(), "stdout", r"^\s+1\. GET over https"
        with subprocess.Popen(
            [sys.executable, "-m", "sendcloud_logging", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        ) as proc:
            try:
                assert proc.stdout is not None and proc.stderr is not None
                out, err = LineReader(proc.stdout), LineReader(proc.stderr)
                (err if stream == "stderr" else out).expect(started)
                proc.send_signal(signal.SIGINT)
                assert proc.wait(timeout=20) == 130
                stderr = err.text()
                assert "interrupted" in stderr
                assert "Traceback" not in stderr + out.text()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


@pytest.mark.parametrize("as_json", [False, True])
def test_a_reader_that_closed_the_pipe_ends_it_quietly(inbox: Inbox, as_json: bool) -> None:
    with SendcloudClient(PUBLIC_KEY, SECRET_KEY, inbox.api_url) as client:
        for n in range(3):
            client.create_log(INTEGRATION_ID, {"base_url": "https://shop.example", "exception": f"problem {n}"})
    args = [sys.executable, "-m", "sendcloud_logging", "logs", *(["--json"] if as_json else [])]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_keys(inbox)) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # as `| head -1` does once it has its line: every write now fails with EPIPE
        stderr = proc.stderr.read().decode()
        assert proc.wait(timeout=30) == 0
    assert stderr == ""


def test_logs_shows_control_characters_escaped(inbox: Inbox) -> None:
    with SendcloudClient(PUBLIC_KEY, SECRET_KEY, inbox.api_url) as client:
        client.create_log(1, {"base_url": "https://shop.example", "exception": "x\x1b]52;c;ZXZpbA==\x07\u202eok"})
    for extra in ((), ("--json",)):
        done = cli("logs", *extra, env=_keys(inbox))
        assert done.returncode == 0
        assert "\x1b" not in done.stdout
        assert "\u202e" not in done.stdout
        assert "\x07" not in done.stdout


def _next_page_elsewhere(target: str) -> RawServer:
    def answer(request: RawRequest, conn: socket.socket) -> None:
        body = b'{"data": [{"id": 1, "integration_id": 1, "base_url": "https://shop.example"}]}'
        reply(conn, 200, body, {"Content-Type": "application/json", "Link": f'<{target}>; rel="next"'})

    return RawServer(answer)


@pytest.mark.parametrize("port_offset", [0, 1])
def test_logs_never_follows_a_next_page_to_another_origin(port_offset: int) -> None:
    with RawServer(lambda request, conn: reply(conn, 500)) as other:
        target = f"http://localhost:{other.port + port_offset}/api/v3/integrations/logs?cursor=x"
        with _next_page_elsewhere(target) as server:
            env = _env(SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY, SENDCLOUD_SECRET_KEY=SECRET_KEY)
            done = cli("logs", "--api-url", f"{server.url}/api/v3", "--limit", "0", env=env)
        assert done.returncode == 1
        assert "the next page is at http://localhost:" in done.stderr
        assert other.requests == []


def test_serve_on_every_address_refuses_the_published_keys() -> None:
    done = cli("serve", "--host", "0.0.0.0", "--port", "0", "--db", ":memory:")  # refused first
    assert done.returncode == 2
    assert done.stderr.startswith("error: --host 0.0.0.0 lets other machines reach the Inbox")
    assert done.stdout == ""


class _Listening:
    def __init__(self, host: str) -> None:
        self.api_url = f"http://{host}:8025/api/v3"
        self.token_url = f"http://{host}:8025/oauth2/token"


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", "::", "192.0.2.7"])
def test_serve_prints_only_exports_the_handler_accepts(host: str) -> None:
    args = build_parser().parse_args(["serve", "--host", host, "--public-key", "me", "--secret-key", "mine"])
    lines = _exports(_Listening(f"[{host}]" if ":" in host else host), args, oauth=False)
    exports = dict(
        word.split("=", 1) for line in lines if line.strip().startswith("export ") for word in line.split()[1:]
    )
    if host == "192.0.2.7":
        assert not exports
        assert any("allow_insecure_http=True" in line for line in lines)
        return
    assert exports["SENDCLOUD_INTEGRATION_ID"] == "1"
    exports["SENDCLOUD_SECRET_KEY"] = "mine"
    settings = resolve({}, exports)  # as the handler reads them: no ConfigurationError
    assert settings.api_url == "http://127.0.0.1:8025/api/v3"


def test_an_untrusted_certificate_names_what_the_command_line_has() -> None:
    with Shop() as shop:  # a self-signed certificate
        env = _env(SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY, SENDCLOUD_SECRET_KEY=SECRET_KEY)
        done = cli("logs", "--api-url", f"{shop.https_url}/api/v3", env=env)
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert "is not trusted" in line
    assert "set REQUESTS_CA_BUNDLE to a CA bundle that signs it" in line
    assert "verify=" not in line


@pytest.mark.parametrize("how", ["flag", "stdin"])
def test_serve_takes_its_secret_from_stdin_and_warns_of_one_on_the_command_line(how: str) -> None:
    keys = ["--secret-key", SECRET_KEY] if how == "flag" else ["--secret-key-file", "-"]
    command = [sys.executable, "-m", "sendcloud_logging", "serve", "--port", "0", "--db", ":memory:"]
    command += ["--public-key", PUBLIC_KEY, *keys]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        try:
            proc.stdin.write(f"{SECRET_KEY}\n")
            proc.stdin.close()
            out = LineReader(proc.stdout)
            api_url = out.expect(r"Inbox listening on (\S+)").group(1)
            out.expect(r"export SENDCLOUD_API_URL=\S+ SENDCLOUD_INTEGRATION_ID=1$")
            out.expect(r"SENDCLOUD_SECRET_KEY=\.\.\.$")  # the key given is not printed
            with SendcloudClient(PUBLIC_KEY, SECRET_KEY, api_url) as client:
                client.create_log(1, {"base_url": "https://shop.example"})
            out.expect(r"integration 1")
            proc.terminate()
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr = proc.stderr.read()
    assert SECRET_KEY not in out.text() + stderr
    assert ("warning: --secret-key shows in the process list" in stderr) == (how == "flag")


SEND = ("send", "--integration-id", "1", "--base-url", "https://s.example")


def test_what_a_server_answers_reaches_the_terminal_escaped() -> None:
    def answer(request: RawRequest, conn: socket.socket) -> None:
        body = b'{"data": {"id": "1\\u001b]52;c;ZXZpbA==\\u0007", "integration_id": 1}}'
        reply(conn, 201, body, {"Content-Type": "application/json"})

    with RawServer(answer) as server:
        env = _env(SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY, SENDCLOUD_SECRET_KEY=SECRET_KEY)
        done = cli(*SEND, "--api-url", server.url + "/api/v3", env=env)

    def error(request: RawRequest, conn: socket.socket) -> None:
        body = b'{"errors": [{"code": "x", "detail": "no\\u001b[2J\\u202eway"}]}'
        reply(conn, 400, body, {"Content-Type": "application/json"})

    with RawServer(error) as server:
        failed = cli(*SEND, "--api-url", server.url + "/api/v3", env=env)
    assert done.returncode == 0
    assert failed.returncode == 1
    for text in (done.stdout, failed.stderr):
        assert "\x1b" not in text
        assert "\x07" not in text
        assert "\u202e" not in text
    assert done.stdout == "created log 1\\e]52;c;ZXZpbA==\\x07 for integration 1\n"
