"""``send`` and ``logs``: the commands that call the logs API through ``SendcloudClient``.

Keys come from flags or the environment and are never printed: the errors reported here do not carry them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Optional

from .._settings import ENVIRONMENT, environment
from ..auth import DEFAULT_TOKEN_URL, auth_mode
from ..client import DEFAULT_API_URL, SendcloudClient
from ..errors import APIError, ConfigurationError, SendcloudError
from .arguments import FAILED, OK, USAGE
from .tables import format_log_table


def _client(args: argparse.Namespace) -> SendcloudClient:
    """A client from flags, else the environment; raises ConfigurationError naming what is missing.

    Flags decide between keys and OAuth2; without either, ``SENDCLOUD_CLIENT_ID``/``_SECRET`` mean OAuth2.
    """
    env = os.environ
    api_url = args.api_url or env.get(ENVIRONMENT["api_url"]) or DEFAULT_API_URL
    flags = (args.public_key, args.secret_key, args.client_id, args.client_secret)
    mode = auth_mode(*flags, environment=environment(env))
    names = ("client_id", "client_secret") if mode == "oauth" else ("public_key", "secret_key")
    first, second = (_flag_or_environment(args, key) for key in names)
    if mode == "oauth":
        token_url = args.token_url or env.get(ENVIRONMENT["token_url"]) or DEFAULT_TOKEN_URL
        return SendcloudClient(api_url=api_url, client_id=first, client_secret=second, token_url=token_url)
    return SendcloudClient(public_key=first, secret_key=second, api_url=api_url)


def _flag_or_environment(args: argparse.Namespace, key: str) -> str:
    value: Optional[str] = getattr(args, key) or os.environ.get(ENVIRONMENT[key])
    if not value:
        raise ConfigurationError(key, f"missing: pass --{key.replace('_', '-')} or set {ENVIRONMENT[key]}")
    return value


def _api_failure(exc: SendcloudError) -> int:
    """Say what went wrong on stderr (never the keys: the errors do not carry them)."""
    if isinstance(exc, ConfigurationError):
        print(f"error: {exc}", file=sys.stderr)
        return USAGE
    if isinstance(exc, APIError):
        print(
            f"error: the API answered {exc.status} {exc.code or '(no code)'}: {exc.detail or '(no detail)'}",
            file=sys.stderr,
        )
    else:
        print(f"error: {exc}", file=sys.stderr)
    return FAILED


def send(args: argparse.Namespace) -> int:
    payload: dict[str, Any] = {"base_url": args.base_url}
    optional = {
        "full_url": args.full_url,
        "method": args.method.upper() if args.method else None,
        "response_code": args.response_code,
        "exception_type": args.exception_type,
        "exception": args.exception,
    }
    payload.update({key: value for key, value in optional.items() if value is not None})
    try:
        with _client(args) as client:
            created = client.create_log(args.integration_id, payload)
    except SendcloudError as exc:
        return _api_failure(exc)
    print(f"created log {created.get('id')} for integration {created.get('integration_id', args.integration_id)}")
    return OK


class Progress:
    """A line on stderr while pages are fetched: rewritten in place on a terminal, else one line a page."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._shown = False

    def page(self, pages: int, logs: int) -> None:
        """Report ``pages`` fetched with ``logs`` so far, while the next is fetched; quiet after the first page."""
        if pages < 2:
            return
        text = f"fetched {pages} pages, {logs} logs so far"
        if self._tty:
            self._stream.write(f"\r{text}...")
        else:
            self._stream.write(f"{text}\n")
        self._stream.flush()
        self._shown = True

    def done(self) -> None:
        """Clear the in-place line, so the table or JSON below starts clean."""
        if self._tty and self._shown:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
        self._shown = False


def logs(args: argparse.Namespace) -> int:
    if args.limit < 0:
        print("error: --limit must be 0 (all) or more", file=sys.stderr)
        return USAGE
    limit = args.limit or None
    page_size = min(limit or 100, 100)
    progress = Progress(sys.stderr)
    found: list[dict[str, Any]] = []
    try:
        with _client(args) as client:
            for pages, page in enumerate(client.iter_pages(args.integration_id, page_size=page_size), start=1):
                taken = page if limit is None else page[: limit - len(found)]
                found.extend(taken)
                if args.json:  # stream: a long listing shows its first lines at once
                    progress.done()
                    for log in taken:
                        print(json.dumps(log, ensure_ascii=False, sort_keys=True), flush=True)
                if limit is not None and len(found) >= limit:
                    break
                progress.page(pages, len(found))
    except SendcloudError as exc:
        progress.done()
        return _api_failure(exc)
    progress.done()
    if args.json:
        return OK
    if not found:
        print("no logs")
    else:
        for line in format_log_table(found):
            print(line)
    return OK
