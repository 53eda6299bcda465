"""``sendcloud-logging check`` in a real process against an Inbox: OK, or the one thing to fix; never a key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sendcloud_logging.inbox import Inbox

from .test_cli_paths import PUBLIC_KEY, SECRET_KEY, _env, cli

KNOWN = 12


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, integrations=[KNOWN]) as server:
        yield server


def _deployed(inbox: Inbox, **extra: str) -> dict[str, str]:
    """The environment of a deployed service configured through SENDCLOUD_* variables."""
    env = {
        "SENDCLOUD_INTEGRATION_ID": str(KNOWN),
        "SENDCLOUD_PUBLIC_KEY": PUBLIC_KEY,
        "SENDCLOUD_SECRET_KEY": SECRET_KEY,
        "SENDCLOUD_API_URL": inbox.api_url,
    }
    return _env(**{**env, **extra})


def test_check_reports_each_setting_and_its_source_and_creates_no_log(inbox: Inbox) -> None:
    done = cli("check", "--integration-id", str(KNOWN), env=_deployed(inbox, SENDCLOUD_INTEGRATION_ID="999"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["integration_id", str(KNOWN), "from", "--integration-id"]
    assert lines[1].split() == ["api_url", inbox.api_url, "from", "SENDCLOUD_API_URL"]
    assert lines[2].split() == ["public_key", "(set)", "from", "SENDCLOUD_PUBLIC_KEY"]
    assert lines[3].split() == ["secret_key", "(set)", "from", "SENDCLOUD_SECRET_KEY"]
    assert lines[-2] == f"GET {inbox.api_url}/integrations/{KNOWN}/logs?page_size=1"
    assert lines[-1].startswith("OK")
    assert PUBLIC_KEY not in done.stdout  # named, never shown
    assert inbox.count() == 0
    assert inbox.requests == 1  # one harmless GET


@pytest.mark.parametrize(
    ("extra", "fix"),
    [
        ({"SENDCLOUD_SECRET_KEY": "wrong-secret-0b1e"}, "check SENDCLOUD_PUBLIC_KEY and SENDCLOUD_SECRET_KEY"),
        ({"SENDCLOUD_INTEGRATION_ID": "13"}, "integration 13 is not known to these keys"),
        ({"SENDCLOUD_API_URL": "{root}"}, "SENDCLOUD_API_URL should end in /api/v3"),
        ({"SENDCLOUD_API_URL": "http://127.0.0.1:9/api/v3"}, "is `sendcloud-logging serve` running"),
    ],
)
def test_check_names_the_one_thing_to_fix(inbox: Inbox, extra: dict[str, str], fix: str) -> None:
    root = inbox.api_url.rsplit("/api/v3", 1)[0]
    done = cli("check", env=_deployed(inbox, **{k: v.format(root=root) for k, v in extra.items()}))
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: ")
    assert fix in line, line
    assert "wrong-secret-0b1e" not in done.stdout + done.stderr
    assert "OK" not in done.stdout


def test_check_refuses_a_configuration_the_handler_refuses(inbox: Inbox) -> None:
    done = cli("check", env=_deployed(inbox, SENDCLOUD_API_URL="http://logs.example/api/v3"))
    assert done.returncode == 2
    assert done.stderr.startswith("error: SENDCLOUD_API_URL: plain http would send the API keys unencrypted")
    done = cli("check", env=_deployed(inbox, SENDCLOUD_INTEGRATION_ID=""))
    assert done.returncode == 2
    assert "SENDCLOUD_INTEGRATION_ID" in done.stderr


def test_check_with_oauth_names_the_token_url(inbox: Inbox) -> None:
    env = _deployed(inbox, SENDCLOUD_CLIENT_ID="inbox-client", SENDCLOUD_CLIENT_SECRET="inbox-client-secret")
    env.update(SENDCLOUD_TOKEN_URL=inbox.token_url)
    del env["SENDCLOUD_PUBLIC_KEY"], env["SENDCLOUD_SECRET_KEY"]
    done = cli("check", env=env)
    assert done.returncode == 0, done.stderr
    assert "client_secret" in done.stdout
    assert "inbox-client-secret" not in done.stdout
    assert f"token_url       {inbox.token_url}" in done.stdout


def test_check_shows_the_proxy_it_goes_through_without_its_password(inbox: Inbox) -> None:
    env = _deployed(inbox, NO_PROXY="", no_proxy="")
    env = {k: v for k, v in env.items() if k.lower() not in ("https_proxy", "all_proxy", "http_proxy")}
    env["HTTP_PROXY"] = "http://proxyuser:proxy-pw-44e1@127.0.0.1:9"
    done = cli("check", env=env)
    assert done.returncode == 1
    assert "proxy           http://127.0.0.1:9" in done.stdout
    assert "from HTTP_PROXY" in done.stdout
    assert "through the proxy" in done.stderr
    assert "proxy-pw-44e1" not in done.stdout + done.stderr
    assert inbox.requests == 0
