"""The option table: every keyword's good and bad values, text as fileConfig gives it, the environment, auth mode.

Unit tests of ``_settings.resolve`` and the parsers behind it (no threads, no network), plus the checks that
the handler's signature, its docstring and the README's configuration table say what the table says.
"""

from __future__ import annotations

import inspect
import logging
import logging.config
import re
import textwrap
from pathlib import Path
from typing import Any, Optional

import pytest

from sendcloud_logging import ConfigurationError, SendcloudClient, SendcloudHandler
from sendcloud_logging._settings import DEFAULTS, ENVIRONMENT, OPTIONS, Settings, resolve
from sendcloud_logging._validators import DEFAULT_API_URL, DEFAULT_TIMEOUT
from sendcloud_logging.auth import DEFAULT_TOKEN_URL, auth_mode, key_pair, missing_key

from .conftest import PUBLIC_KEY, SECRET_KEY, assert_no_keys

README = Path(__file__).resolve().parent.parent / "README.md"
KEYS: dict[str, Any] = {"integration_id": 1, "public_key": PUBLIC_KEY, "secret_key": SECRET_KEY}
TRUE_WORDS = [True, 1, "true", "True", "1", "yes", "YES", "on", " On "]
FALSE_WORDS = [False, 0, "false", "False", "FALSE", "0", "no", "off", "Off", " false "]


def keys_for(integration_id: Any) -> Optional[tuple[str, str]]:
    """A credentials callable, also named by dotted path below."""
    return ("pk-merchant", "sk-merchant") if integration_id else None


def settings_of(environ: Optional[dict[str, str]] = None, **options: Any) -> Settings:
    return resolve(options, environ={} if environ is None else environ)


GOOD: dict[str, list[tuple[Any, Any]]] = {
    "level": [(logging.ERROR, 40), ("ERROR", 40), ("warning", 30), ("40", 40), (0, 0)],
    "integration_id": [(12, 12), ("12", 12), (" 12 ", 12), (None, None)],
    "public_key": [("pk", "pk"), (None, None)],
    "secret_key": [("sk", "sk"), (None, None)],
    "client_id": [("cid", "cid"), (None, None)],
    "client_secret": [("cs", "cs"), (None, None)],
    "token_url": [("https://t.example/oauth2/token/", "https://t.example/oauth2/token"), ("http://[::1]:1/t", "http://[::1]:1/t")],
    "credentials": [(keys_for, keys_for), ("tests.test_settings:keys_for", keys_for), ("tests.test_settings.keys_for", keys_for), ("", None)],
    "api_url": [("https://api.example/api/v3/", "https://api.example/api/v3"), ("http://127.0.0.1:8025/api/v3", "http://127.0.0.1:8025/api/v3")],
    "base_url": [("https://shop.example", "https://shop.example"), ("", None), (None, None)],
    "queue_size": [(50, 50), ("50", 50)],
    "max_memory_bytes": [(1048576, 1048576), ("8388608", 8388608)],
    "shutdown_timeout": [(2, 2.0), ("2.5", 2.5), (0, 0.0)],
    "timeout": [(4, (4.0, 4.0)), ("4", (4.0, 4.0)), ((1, 2), (1.0, 2.0)), ([1, "2"], (1.0, 2.0)), ("1, 2", (1.0, 2.0)), ("(1, 2)", (1.0, 2.0)), (None, DEFAULT_TIMEOUT)],
    "max_retries": [(0, 0), ("3", 3)],
    "max_backoff": [(10, 10.0), ("10", 10.0)],
    "verify": [(True, True), ("true", True), ("Yes", True), (__file__, __file__), (Path(__file__), __file__)],
    "allow_insecure_http": [(word, True) for word in TRUE_WORDS] + [(word, False) for word in FALSE_WORDS],
    "rate_limit_per_minute": [(100, 100.0), ("60", 60.0), (None, None), (0, None), ("off", None), (False, None), ("none", None), ("", None)],
    "rate_limit_burst": [(15, 15), ("15", 15)],
    "summary_window": [(0, 0.0), ("30", 30.0)],
    "breaker_threshold": [(1, 1), ("5", 5)],
    "breaker_cooldown": [(0.5, 0.5), ("2", 2.0)],
    "spool_path": [("/tmp/s.sqlite", "/tmp/s.sqlite"), (Path("/tmp/s.sqlite"), "/tmp/s.sqlite"), ("", None), (None, None)],
    "spool_max_bytes": [(1024, 1024), ("1024", 1024)],
    "spool_max_age": [(60, 60.0), ("60", 60.0)],
    "redact_keys": [(["a", "b"], ("a", "b")), ("a, b", ("a", "b")), (("a",), ("a",)), (None, ())],
    "redact_headers": [(["X-A"], ("X-A",)), ("X-A,X-B", ("X-A", "X-B"))],
    "keep_keys": [(["token"], ("token",)), ("token", ("token",))],
    "keep_headers": [(["WWW-Authenticate"], ("WWW-Authenticate",)), ("", ())],
    "redact_defaults": [(word, True) for word in TRUE_WORDS] + [(word, False) for word in FALSE_WORDS],
    "send_pii": [(word, True) for word in TRUE_WORDS] + [(word, False) for word in FALSE_WORDS],
    "before_send": [(keys_for, keys_for), ("tests.test_settings:keys_for", keys_for), ("", None), (None, None)],
    "max_body_bytes": [(1024, 1024), ("2048", 2048)],
    "max_payload_bytes": [(16384, 16384), ("16384", 16384)],
}

BAD: dict[str, list[Any]] = {
    "level": ["LOUD", 3.5, -1, True],
    "integration_id": ["abc", 0, -1, True, 1.5, ""],
    "public_key": [5, "", b"pk"],
    "secret_key": [5, ""],
    "client_id": [5, ""],
    "client_secret": [5, ""],
    "token_url": ["", "ftp://x", "http://tokens.example/oauth2/token", "https://u:p@t.example/", 5],
    "credentials": [42, "no_such_module_xyz.f", "not callable"],
    "api_url": ["", "ftp://x", "http://sendcloud.example/api/v3", "https://x:99999999/", "panel.sendcloud.sc/api/v3", 5],
    "base_url": ["shop", 5],
    "queue_size": [0, -1, "lots", 1.5, True, None],
    "max_memory_bytes": [1048575, 0, "lots", True],
    "shutdown_timeout": [-1, "soon", float("nan"), float("inf"), True, None],
    "timeout": ["soon", 0, -1, (1,), (0, 1), "1,2,3", True, float("nan"), ("a", 1)],
    "max_retries": [-1, "x", 1.5, True],
    "max_backoff": [-1, "x", "inf"],
    "verify": [False, None, 0, "false", "off", "/no/such/ca-bundle.pem", 5],
    "allow_insecure_http": ["maybe", 2, "", None, []],
    "rate_limit_per_minute": [-1, "fast", True, float("inf")],
    "rate_limit_burst": [0, "x"],
    "summary_window": [-1, "x", True],
    "breaker_threshold": [0, "0"],
    "breaker_cooldown": [0, -1],
    "spool_path": [5],
    "spool_max_bytes": [0, "x"],
    "spool_max_age": [-1, "x"],
    "redact_keys": [5],
    "redact_headers": [[1, 2]],
    "keep_keys": [{"a": 1}],
    "keep_headers": [5],
    "redact_defaults": ["maybe", 2, None],
    "send_pii": ["maybe", 2, None],
    "before_send": [42, "no_such_module_xyz.hook", "tests.test_settings:nothing"],
    "max_body_bytes": [100, "lots", True],
    "max_payload_bytes": [1000, True],
}


def test_every_option_has_good_and_bad_examples() -> None:
    assert list(GOOD) == list(OPTIONS) == list(BAD)


@pytest.mark.parametrize(("name", "value", "expected"), [(n, v, e) for n, cases in GOOD.items() for v, e in cases])
def test_good_values_parse(name: str, value: Any, expected: Any) -> None:
    assert OPTIONS[name].parse(name, value) == expected


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, values in BAD.items() for v in values])
def test_bad_values_fail_with_the_key_named(name: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as failed:
        resolve({**KEYS, name: value}, environ={})
    assert failed.value.key == name
    assert isinstance(failed.value, ValueError)
    assert_no_keys(str(failed.value) + repr(failed.value.args))


@pytest.mark.parametrize("word", FALSE_WORDS)
def test_false_in_any_spelling_keeps_plain_http_to_remote_hosts_refused(word: Any) -> None:
    remote = "http://api.example/api/v3"
    with pytest.raises(ConfigurationError, match="plain http") as failed:
        settings_of(**KEYS, api_url=remote, allow_insecure_http=word)
    assert failed.value.key == "api_url"
    with pytest.raises(ConfigurationError, match="plain http"):
        SendcloudClient("pk", "sk", api_url=remote, allow_insecure_http=word)
    with pytest.raises(ConfigurationError, match="plain http"):
        settings_of(client_id="c", client_secret="s", integration_id=1, token_url=remote, allow_insecure_http=word)


@pytest.mark.parametrize("word", TRUE_WORDS)
def test_true_in_any_spelling_allows_plain_http(word: Any) -> None:
    assert settings_of(**KEYS, api_url="http://api.example/api/v3", allow_insecure_http=word).allow_insecure_http is True


@pytest.mark.parametrize(("word", "secret"), [("false", False), ("0", False), ("on", True), (True, True)])
def test_redact_defaults_from_text(word: Any, secret: bool) -> None:
    redactor = settings_of(**KEYS, redact_defaults=word).policy.redactor
    assert redactor is not None and redactor.names.is_secret_key("password") is secret


def test_defaults_come_from_the_table() -> None:
    settings = settings_of(**KEYS)
    assert (settings.api_url, settings.token_url, settings.timeout) == (DEFAULT_API_URL, DEFAULT_TOKEN_URL, DEFAULT_TIMEOUT)
    assert settings.queue_size == DEFAULTS["queue_size"] == 1000
    assert settings.delivery.max_retries == DEFAULTS["max_retries"] == 5
    assert (settings.spool_max_bytes, settings.spool_max_age) == (50 * 1024 * 1024, 7 * 24 * 3600.0)
    assert settings.policy.max_body_bytes == DEFAULTS["max_body_bytes"]
    assert settings_of(**KEYS, api_url=None).api_url == DEFAULT_API_URL  # None is "not given"


def test_an_empty_api_url_is_refused_not_production() -> None:
    with pytest.raises(ConfigurationError, match="api_url: must be a non-empty URL"):
        SendcloudHandler(**KEYS, api_url="")


def test_unknown_options_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="queue_sise"):
        settings_of(**KEYS, queue_sise=5)


ENV_SAMPLES = {
    "integration_id": ("31", 31),
    "public_key": ("pk-env", "pk-env"),
    "secret_key": ("sk-env", "sk-env"),
    "api_url": ("http://127.0.0.1:9/api/v3", "http://127.0.0.1:9/api/v3"),
}
OAUTH_ENV_SAMPLES = {
    "client_id": ("cid-env", "cid-env"),
    "client_secret": ("cs-env", "cs-env"),
    "token_url": ("http://127.0.0.1:9/token", "http://127.0.0.1:9/token"),
}


def test_every_environment_variable_is_sampled() -> None:
    assert set(ENV_SAMPLES) | set(OAUTH_ENV_SAMPLES) == set(ENVIRONMENT)


@pytest.mark.parametrize("name", list(ENV_SAMPLES))
def test_the_environment_fills_a_keyword_left_out(name: str) -> None:
    text, expected = ENV_SAMPLES[name]
    options = {key: value for key, value in KEYS.items() if key != name}
    assert getattr(settings_of({ENVIRONMENT[name]: text}, **options), name) == expected
    assert getattr(settings_of({ENVIRONMENT[name]: text}, **options, **{name: None}), name) == expected
    if name in KEYS:
        assert getattr(settings_of({ENVIRONMENT[name]: text}, **KEYS), name) == KEYS[name]  # the keyword wins


@pytest.mark.parametrize("name", list(OAUTH_ENV_SAMPLES))
def test_the_environment_fills_oauth_keywords(name: str) -> None:
    environ = {ENVIRONMENT[key]: text for key, (text, _) in OAUTH_ENV_SAMPLES.items()}
    assert getattr(settings_of(environ, integration_id=1), name) == OAUTH_ENV_SAMPLES[name][1]


def test_an_empty_environment_variable_counts_as_unset() -> None:
    environ = {"SENDCLOUD_API_URL": "", "SENDCLOUD_PUBLIC_KEY": ""}
    assert settings_of(environ, **KEYS).api_url == DEFAULT_API_URL
    with pytest.raises(ConfigurationError, match="public_key: missing: pass public_key= or set SENDCLOUD_PUBLIC_KEY"):
        settings_of(environ, integration_id=1, secret_key="sk")


def test_environment_text_is_parsed_like_keywords() -> None:
    with pytest.raises(ConfigurationError) as failed:
        settings_of({"SENDCLOUD_INTEGRATION_ID": "abc"}, public_key="pk", secret_key="sk")
    assert failed.value.key == "integration_id"
    with pytest.raises(ConfigurationError, match="plain http"):
        settings_of({"SENDCLOUD_API_URL": "http://api.example/api/v3"}, **KEYS)


def test_only_the_chosen_pair_is_read_from_the_environment() -> None:
    environ = {"SENDCLOUD_CLIENT_ID": "cid", "SENDCLOUD_CLIENT_SECRET": "cs", "SENDCLOUD_PUBLIC_KEY": "pk-env"}
    basic = settings_of(environ, **KEYS)
    assert (basic.public_key, basic.client_id, basic.client_secret) == (PUBLIC_KEY, None, None)
    oauth = settings_of(environ, integration_id=1)  # no keyword chooses: the OAuth2 client in the environment does
    assert (oauth.client_id, oauth.public_key) == ("cid", None)
    half = settings_of({"SENDCLOUD_SECRET_KEY": "sk-env"}, integration_id=1, public_key="pk")
    assert (half.public_key, half.secret_key) == ("pk", "sk-env")


@pytest.mark.parametrize(
    ("given", "environment", "mode"),
    [
        ({"public_key": "pk", "secret_key": "sk"}, {}, "basic"),
        ({"public_key": "pk"}, {"client_id": "c"}, "basic"),
        ({"client_id": "c"}, {"public_key": "pk"}, "oauth"),
        ({"credentials": keys_for}, {"public_key": "pk", "client_id": "c"}, "credentials"),
        ({}, {"client_secret": "s", "public_key": "pk"}, "oauth"),
        ({}, {"secret_key": "sk"}, "basic"),
        ({}, {"public_key": ""}, "none"),
        ({}, {}, "none"),
    ],
)
def test_auth_mode(given: dict[str, Any], environment: dict[str, str], mode: str) -> None:
    assert auth_mode(**given, environment=environment) == mode


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ({"public_key": "pk", "client_secret": "s"}, "client_id"),
        ({"public_key": "pk", "credentials": keys_for}, "credentials"),
        ({"client_id": "c", "credentials": keys_for}, "credentials"),
        ({"credentials": "keys"}, "credentials"),
    ],
)
def test_auth_mode_refuses_two_ways(given: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigurationError) as failed:
        auth_mode(**given)
    assert failed.value.key == key


def test_missing_key_and_key_pair() -> None:
    assert missing_key("basic", {"public_key": "pk"}) == "secret_key"
    assert missing_key("oauth", {"client_id": "", "client_secret": "s"}) == "client_id"
    assert missing_key("oauth", {"client_id": "c", "client_secret": "s"}) is None
    assert missing_key("credentials", {}) is None
    assert key_pair(("pk", "sk")) == key_pair(["pk", "sk"]) == ("pk", "sk")
    for bad in (None, ("pk",), ("pk", ""), ("pk", 5), ("a", "b", "c"), "pk:sk", {"pk": "sk"}):
        assert key_pair(bad) is None


def test_the_client_follows_the_same_rule() -> None:
    with pytest.raises(ConfigurationError) as failed:
        SendcloudClient(public_key="pk")
    assert failed.value.key == "secret_key"
    with pytest.raises(ConfigurationError) as failed:
        SendcloudClient(client_id="c")
    assert failed.value.key == "client_secret"
    with pytest.raises(ConfigurationError) as failed:
        SendcloudClient(public_key="pk", secret_key="sk", client_id="c", client_secret="s")
    assert failed.value.key == "client_id"
    SendcloudClient().close()  # no keys at all: a client without auth (the API will say 401)


def test_the_signature_is_the_table() -> None:
    parameters = list(inspect.signature(SendcloudHandler.__init__).parameters.values())[1:]
    assert [p.name for p in parameters] == list(OPTIONS)
    assert {p.name: p.default for p in parameters} == dict(DEFAULTS)
    assert [p.kind for p in parameters] == [inspect.Parameter.POSITIONAL_OR_KEYWORD] + [
        inspect.Parameter.KEYWORD_ONLY
    ] * (len(OPTIONS) - 1)


def test_the_docstring_args_are_the_tables_docs() -> None:
    doc = inspect.getdoc(SendcloudHandler) or ""
    section = doc.split("Args:\n", 1)[1].split("\n\n", 1)[0]
    entries = re.findall(r"^    (\w+): (.*?)(?=^    \w+: |\Z)", section, flags=re.MULTILINE | re.DOTALL)
    assert [name for name, _ in entries] == list(OPTIONS)
    for name, text in entries:
        assert " ".join(text.split()) == OPTIONS[name].doc, name


def readme_rows() -> list[list[str]]:
    section = (README.parent / "docs" / "configuration.md").read_text(encoding="utf-8").split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]


def shown(name: str) -> str:
    """How the README writes an option's default: the value, or the fallback a None default ends as."""
    option = OPTIONS[name]
    value = option.fallback if option.default is None and option.fallback is not None else option.default
    if name == "level":
        return f"`{logging.getLevelName(value)}`"
    return f"`{value}`" if isinstance(value, str) else f"`{value!r}`"


def test_the_readme_table_is_the_table() -> None:
    rows = readme_rows()
    assert [row[0] for row in rows] == [f"`{name}`" for name in OPTIONS]
    for name, env, default, meaning in rows:
        option = OPTIONS[name.strip("`")]
        assert env == (f"`{option.env}`" if option.env else ""), name
        if default.startswith("required"):  # a key or id the environment may give; None means "not given"
            assert option.default is None and option.env and option.fallback is None, name
        else:
            assert default == shown(option.name) or default.startswith(f"{shown(option.name)} ("), name
        assert meaning, name


INI = """
[DEFAULT]
allow_insecure_http = {word}

[loggers]
keys = root

[handlers]
keys = sendcloud

[formatters]
keys =

[logger_root]
level = ERROR
handlers = sendcloud

[handler_sendcloud]
class = sendcloud_logging.SendcloudHandler
args = ()
kwargs = {{"integration_id": "7", "public_key": "pk", "secret_key": "sk", "queue_size": "20",
    "api_url": "http://api.example/api/v3", "allow_insecure_http": "%(allow_insecure_http)s"}}
"""


@pytest.mark.parametrize("word", ["false", "0", "no", "off"])
def test_file_config_with_allow_insecure_http_false_refuses_remote_http(word: str, tmp_path: Path) -> None:
    path = tmp_path / "logging.ini"
    path.write_text(textwrap.dedent(INI.format(word=word)), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="plain http") as failed:
        logging.config.fileConfig(path, disable_existing_loggers=False)
    assert failed.value.key == "api_url"


def test_file_config_with_allow_insecure_http_true_builds_the_handler(tmp_path: Path) -> None:
    path = tmp_path / "logging.ini"
    path.write_text(textwrap.dedent(INI.format(word="true")), encoding="utf-8")
    logging.config.fileConfig(path, disable_existing_loggers=False)
    [handler] = logging.getLogger().handlers
    assert isinstance(handler, SendcloudHandler)
    assert (handler.integration_id, handler.api_url) == (7, "http://api.example/api/v3")


@pytest.mark.parametrize(
    "kwargs,key",
    [
        ({"public_key": "a", "secret_key": "b"}, "integration_id"),
        ({"integration_id": 1, "secret_key": "b"}, "public_key"),
        ({"integration_id": 1, "public_key": "a"}, "secret_key"),
        ({"integration_id": "abc", "public_key": "a", "secret_key": "b"}, "integration_id"),
        ({"integration_id": 1, "public_key": "a", "secret_key": "b", "queue_size": 0}, "queue_size"),
        ({"integration_id": 1, "public_key": "a", "secret_key": "b", "shutdown_timeout": -1}, "shutdown_timeout"),
        ({"integration_id": 1, "public_key": "a", "secret_key": "b", "base_url": "shop"}, "base_url"),
        ({"integration_id": 1, "public_key": "a", "secret_key": "b", "api_url": "http://x.example"}, "api_url"),
    ],
)
def test_bad_configuration_fails_at_construction(kwargs: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        SendcloudHandler(**kwargs)
    assert isinstance(info.value, ValueError)
    assert info.value.key == key
    assert "SENDCLOUD" in str(info.value) or key in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"api_url": "http://sendcloud.example/api/v3"},
        {"api_url": "ftp://x"},
        {"verify": False},
        {"integration_id": "abc"},
        {"timeout": "soon"},
        {"max_body_bytes": 10},
        {"before_send": "no_such_module_xyz.f"},
    ],
)
def test_configuration_errors_carry_no_keys(kwargs: dict[str, Any], capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        SendcloudHandler(**{**KEYS, **kwargs})
    assert_no_keys(str(caught.value) + repr(caught.value) + repr(caught.value.args))
    out, err = capfd.readouterr()
    assert_no_keys(out + err)


@pytest.mark.parametrize("url", ["http://panel.sendcloud.sc/api/v3", "http://10.0.0.1/api/v3", "http://localhost.example/x"])
def test_plain_http_only_to_loopback(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="api_url"):
        SendcloudHandler(integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=url)
    monkeypatch.setenv("SENDCLOUD_API_URL", url)
    with pytest.raises(ConfigurationError, match="api_url"):
        SendcloudHandler(integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY)
    handler = SendcloudHandler(integration_id=1, public_key="p", secret_key="s", api_url=url, allow_insecure_http=True)
    assert handler.api_url == url
    handler.close()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8025/api/v3", "http://[::1]:8025/api/v3", "http://localhost/api/v3"])
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    handler = SendcloudHandler(integration_id=1, public_key="p", secret_key="s", api_url=url)
    assert handler.api_url == url
    handler.close()


@pytest.mark.parametrize("verify", [False, None, 0, "/no/such/ca-bundle.pem"])
def test_tls_verification_cannot_be_turned_off(verify: Any) -> None:
    with pytest.raises(ConfigurationError, match="verify"):
        SendcloudHandler(integration_id=1, public_key="p", secret_key="s", verify=verify)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"client_id": "client-x"}, "client_secret"),
        ({"client_secret": "client-secret-x"}, "client_id"),
        ({"client_id": "client-x", "client_secret": "client-secret-x", "public_key": "pk"}, "client_id"),
        ({"client_id": "client-x", "client_secret": "client-secret-x", "token_url": "http://tokens.example/oauth2/token"}, "token_url"),
        ({"client_id": "client-x", "client_secret": "client-secret-x", "token_url": "ftp://x"}, "token_url"),
    ],
)
def test_bad_oauth_configuration_fails_at_construction(kwargs: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigurationError) as failed:
        SendcloudHandler(integration_id=1, **kwargs)
    assert failed.value.key == key
    assert "client-secret-x" not in str(failed.value)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("redact_keys", 5, "redact_keys"),
        ("redact_headers", [1, 2], "redact_headers"),
        ("keep_keys", {"a": 1}, "keep_keys"),
        ("redact_defaults", "maybe", "redact_defaults"),
        ("max_body_bytes", 100, "max_body_bytes.*at least 1024"),
        ("max_body_bytes", "lots", "max_body_bytes.*positive integer"),
        ("max_payload_bytes", 1_000, "max_payload_bytes.*at least 16384"),
        ("max_payload_bytes", True, "max_payload_bytes.*positive integer"),
        ("before_send", 42, "before_send: must be a function"),
        ("before_send", "no_such_module_xyz.hook", "before_send: cannot import"),
        ("before_send", "tests.test_hook:nothing", "before_send: cannot import"),
    ],
)
def test_bad_payload_keywords_fail_at_construction(key: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        SendcloudHandler(integration_id=1, public_key="p", secret_key="s", **{key: value})


def test_credentials_exclude_a_key_pair() -> None:
    with pytest.raises(ConfigurationError) as failed:
        SendcloudHandler(credentials="not callable")
    assert failed.value.key == "credentials"
    with pytest.raises(ConfigurationError):
        SendcloudClient(public_key="pk", secret_key="sk", credentials=keys_for)
    with pytest.raises(ConfigurationError) as failed:
        SendcloudHandler(public_key="pk", secret_key="sk", credentials=keys_for)
    assert failed.value.key == "credentials"
