"""The CLI's configuration: its flags are the handler's keywords, resolved by the handler's own ``resolve``.

A flag left out is a keyword not given, so the environment fills it exactly as it does for
``SendcloudHandler`` (an empty variable counts as unset), and every value goes through the same parsers:
``--api-url ""`` is refused as ``api_url=""`` is, ``SENDCLOUD_INTEGRATION_ID`` counts, ``--base-url`` must be
an http(s) URL. ``describe`` turns the handler's ``ConfigurationError`` into one line naming the flag or the
environment variable the value came from, with hints that name what the CLI has.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._settings import ENVIRONMENT, OPTIONS, Settings, new_client, resolve
from ..errors import ConfigurationError
from . import terminal
from .arguments import UsageError
from .secret_files import read_secret

if TYPE_CHECKING:
    from ..client import SendcloudClient

#: The handler keywords the CLI takes, with their flags.
FLAGS = {
    "integration_id": "--integration-id",
    "base_url": "--base-url",
    "public_key": "--public-key",
    "secret_key": "--secret-key",
    "client_id": "--client-id",
    "client_secret": "--client-secret",
    "token_url": "--token-url",
    "api_url": "--api-url",
    "allow_insecure_http": "--allow-insecure-http",
}
#: The secrets a flag may give, and the flag that reads them from a file (``-``: stdin) instead.
SECRET_FILES = {"secret_key": "--secret-key-file", "client_secret": "--client-secret-file"}
#: What ``check`` reports, in this order (the keys are named, never shown).
REPORTED = ("integration_id", "api_url", "public_key", "secret_key", "client_id", "client_secret", "token_url")


@dataclass(frozen=True)
class Configuration:
    """The handler's settings for these flags, and where each came from (``--flag``, ``$VARIABLE``, default)."""

    settings: Settings
    sources: dict[str, str]


def options(args: argparse.Namespace) -> dict[str, Any]:
    """The handler keywords the flags give (a flag left out is not given); secrets from their files too."""
    given = {name: getattr(args, name, None) for name in FLAGS}
    for name, flag in SECRET_FILES.items():
        path = getattr(args, flag[2:].replace("-", "_"), None)
        if path is not None:
            if given[name] is not None:
                raise ConfigurationError(name, f"give {FLAGS[name]} or {flag}, not both")
            given[name] = read_secret(name, flag, path)
            given[_FROM_FILE + name] = flag
    if not given["allow_insecure_http"]:  # a store_true flag: False is "not given"
        given["allow_insecure_http"] = None
    return {name: value for name, value in given.items() if value is not None}


#: ``options`` notes a secret read from a file under this prefix, so errors name the file's flag.
_FROM_FILE = "from file:"


def keywords(given: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` without its notes: the handler's keywords only."""
    return {name: value for name, value in given.items() if not name.startswith(_FROM_FILE)}


def warn_secrets_on_command_line(args: argparse.Namespace) -> None:
    """A secret given as a flag is in the process list (``ps``) and the shell's history: say so, and the way out."""
    for name, flag in SECRET_FILES.items():
        if getattr(args, name, None):
            terminal.warn(
                f"{FLAGS[name]} shows in the process list and shell history; use {ENVIRONMENT[name]} or "
                f"{flag} PATH (- reads stdin) instead"
            )


def configuration(args: argparse.Namespace, *, need_integration_id: bool = True) -> Configuration:
    """The handler's ``resolve`` over these flags and the environment; a bad value is a ``UsageError``.

    A secret given as a flag is warned about first (``warn_secrets_on_command_line``), whatever the command.
    """
    warn_secrets_on_command_line(args)
    given: dict[str, Any] = {}
    try:
        given = options(args)
        settings = resolve(keywords(given), os.environ, require_integration_id=need_integration_id)
    except ConfigurationError as exc:
        raise UsageError(describe(exc, given)) from None
    return Configuration(settings, {name: source(name, given) for name in OPTIONS})


def source(name: str, given: Mapping[str, Any]) -> str:
    """Where a setting came from: its flag, its environment variable, or the default."""
    if name in given:
        return str(given.get(_FROM_FILE + name) or FLAGS.get(name, name))
    env = ENVIRONMENT.get(name)
    if env and os.environ.get(env):
        return env
    return "default"


def client(settings: Settings) -> SendcloudClient:
    """A ``SendcloudClient`` with the handler's resolved settings, made as the handler makes its own."""
    return new_client(settings)


#: A keyword named in a message (``integration_id=``, ``allow_insecure_http=True``, ``public_key/secret_key``).
_KEYWORD = re.compile(r"\b(" + "|".join(FLAGS) + r")\b(?:=(?:True\b)?)?")
#: Handler hints with no flag, and what the command line offers instead.
_NO_FLAG = (("pass verify= a CA bundle", "set REQUESTS_CA_BUNDLE to a CA bundle"),)


def for_the_cli(text: str, sources: Mapping[str, str]) -> str:
    """A handler message with each keyword named by where the command's value came from: the flag, or the
    environment variable (the flag when it took the default)."""
    for handler_hint, cli_hint in _NO_FLAG:
        text = text.replace(handler_hint, cli_hint)

    def named(match: re.Match[str]) -> str:
        where = sources.get(match.group(1), "default")
        return FLAGS[match.group(1)] if where == "default" or match.group(0).endswith("=True") else where

    return _KEYWORD.sub(named, text).replace(" (None)", "")


def describe(exc: ConfigurationError, given: Mapping[str, Any]) -> str:
    """The handler's ``ConfigurationError`` for the command line: the flag or variable the bad value came from,
    and hints that name flags (``--allow-insecure-http``, ``--integration-id``) instead of keywords."""
    where = source(exc.key, given) if exc.key in OPTIONS else exc.key
    if where == "default":
        where = FLAGS.get(exc.key, exc.key)
    hints = {name: FLAGS[name] for name in FLAGS}  # a missing value: name the flag to pass
    return f"{where}: {for_the_cli(exc.message, hints)}"
