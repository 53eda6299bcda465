"""``send`` and ``logs``: the commands that call the logs API through ``SendcloudClient``.

Settings come from flags, else the environment, resolved by the handler's own rules (``config``). Keys are
never printed: the errors reported here do not carry them. ``explain`` gives each failure one line saying
what to fix, for these commands and for ``check``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any
from urllib.parse import urlsplit

from .._validators import is_loopback_host
from ..errors import (
    AuthenticationError,
    ConnectError,
    MissingBaseURLError,
    NotFoundError,
    SendcloudError,
    WrongURLError,
)
from . import terminal
from .arguments import FAILED, OK, USAGE
from .config import Configuration, client, configuration, for_the_cli
from .tables import format_log_table


def explain(exc: SendcloudError, conf: Configuration) -> str:
    """One line: what went wrong and the one thing to fix, naming the flag or variable that holds it."""
    where = conf.sources
    api_url = conf.settings.api_url
    text = for_the_cli(str(exc), where)  # the handler's words, its keywords named as the command got them
    if isinstance(exc, WrongURLError):
        return f"{_named('api_url', where)} {api_url} looks wrong: {text}"
    if isinstance(exc, NotFoundError) and conf.settings.integration_id is not None:
        return (
            f"integration {conf.settings.integration_id} is not known to these keys ({exc.status} "
            f"{exc.code or 'not_found'}); check {_named('integration_id', where)}"
        )
    if isinstance(exc, AuthenticationError):
        keys = ("client_id", "client_secret") if conf.settings.client_id else ("public_key", "secret_key")
        return f"{text}; check {' and '.join(_named(key, where) for key in keys)}"
    if isinstance(exc, ConnectError):
        if is_loopback_host(urlsplit(api_url).hostname):
            return f"{text}; is `sendcloud-logging serve` running, is {_named('api_url', where)} right?"
        return f"{text}; is {_named('api_url', where)} right, and can this machine reach it (a proxy: HTTPS_PROXY)?"
    return text


def _named(key: str, sources: dict[str, str]) -> str:
    """The flag, or the environment variable, that gave a setting (the flag when it took the default)."""
    where = sources.get(key, "default")
    return f"--{key.replace('_', '-')}" if where == "default" else where


def send(args: argparse.Namespace) -> int:
    """Post one test log, built and redacted by the handler's own ``payload_from_record``."""
    from .._payload import payload_from_record  # noqa: PLC0415  # only this command builds a payload

    conf = configuration(args)
    settings = conf.settings
    record = logging.LogRecord("sendcloud_logging.cli", logging.ERROR, __file__, 0, args.exception, None, None)
    extra = {
        "full_url": args.full_url,
        "method": args.method.upper() if args.method else None,
        "response_code": args.response_code,
        "exception_type": args.exception_type,
    }
    record.__dict__.update({key: value for key, value in extra.items() if value is not None})
    try:
        payload = payload_from_record(record, policy=settings.policy, base_url=settings.base_url)
    except MissingBaseURLError:
        terminal.error("--base-url: missing: pass --base-url, or --full-url to take the shop's URL from")
        return USAGE
    terminal.warn(
        f"this test log goes to integration {settings.integration_id} at {settings.api_url}; "
        "the merchant sees it in the connection issue log"
    )
    try:
        with client(settings) as api:
            created = api.create_log(int(settings.integration_id or 0), payload)
    except SendcloudError as exc:
        terminal.error(explain(exc, conf))
        return FAILED
    integration = created.get("integration_id", settings.integration_id)
    answered = f"created log {created.get('id')} for integration {integration}"
    print(terminal.printable(answered, one_line=True))  # the ids are the server's text
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
        terminal.error("--limit must be 0 (all) or more")
        return USAGE
    conf = configuration(args, need_integration_id=False)
    limit = args.limit or None
    page_size = min(limit or 100, 100)
    progress = Progress(sys.stderr)
    found: list[dict[str, Any]] = []
    only = conf.settings.integration_id if args.integration_id is not None else None  # default: all the account's
    try:
        with client(conf.settings) as api:
            for pages, page in enumerate(api.iter_pages(only, page_size=page_size), start=1):
                taken = page if limit is None else page[: limit - len(found)]
                found.extend(taken)
                if args.json:  # stream: a long listing shows its first lines at once
                    progress.done()
                    for log in taken:
                        print(terminal.json_line(log), flush=True)
                if limit is not None and len(found) >= limit:
                    break
                progress.page(pages, len(found))
    except SendcloudError as exc:
        progress.done()
        terminal.error(explain(exc, conf))
        return FAILED
    progress.done()
    if args.json:
        return OK
    if not found:
        print("no logs")
    else:
        for line in format_log_table(found):
            print(line)
    return OK
