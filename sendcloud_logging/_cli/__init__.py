"""The ``sendcloud-logging`` command (also ``python -m sendcloud_logging``): serve, send, demo, logs.

- ``serve``: run the local Inbox (the logs API on your machine) and print a line per log it receives.
- ``send``: post one test log with ``SendcloudClient`` (to Sendcloud, or to an Inbox with ``--api-url``).
- ``demo``: real shop failures logged through the README's configuration into a local Inbox, then checked.
- ``logs``: list logs through the API (or an Inbox), following its pages, as a table or JSON lines.

Keys come from ``--public-key``/``--secret-key`` or ``SENDCLOUD_PUBLIC_KEY``/``SENDCLOUD_SECRET_KEY``, or OAuth2
client credentials from ``--client-id``/``--client-secret`` or ``SENDCLOUD_CLIENT_ID``/``SENDCLOUD_CLIENT_SECRET``;
they are never printed by ``send`` or ``logs``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from .._settings import ENVIRONMENT, environment
from .._version import __version__
from ..auth import DEFAULT_TOKEN_URL, auth_mode
from ..client import DEFAULT_API_URL, SendcloudClient
from ..errors import APIError, ConfigurationError, SendcloudError
from . import demo
from .demo import INBOX_PUBLIC_KEY, INBOX_SECRET_KEY, format_log_table, truncate

PROG = "sendcloud-logging"
#: The Inbox's OAuth2 development client (its defaults), printed by ``serve`` like its development keys.
INBOX_CLIENT_ID = "inbox-client"
INBOX_CLIENT_SECRET = "inbox-client-secret"  # noqa: S105  # a local test server's published dev secret

# exit codes
OK, FAILED, USAGE = 0, 1, 2


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keep the line breaks of descriptions and examples."""


def _example(*lines: str) -> str:
    return "Example:\n" + "".join(f"  {line}\n" for line in lines)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its four subcommands."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Send failed shop-API calls to Sendcloud's connection issue log, and try it locally.",
        formatter_class=_Formatter,
        epilog=_example(
            f"{PROG} demo                      # real failures, logged into a local Inbox",
            f"{PROG} serve                     # a local Inbox on http://127.0.0.1:8025/api/v3",
            f"{PROG} logs --integration-id 1234 --limit 10",
            f"{PROG} COMMAND --help            # each command's options and an example",
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    serve = commands.add_parser(
        "serve",
        help="run a local Inbox (the logs API on your machine) and print each log it receives",
        description="Run the local Inbox until Ctrl-C and print one line per log it receives.",
        formatter_class=_Formatter,
        epilog=_example(
            f"{PROG} serve --port 8025 --db inbox.sqlite",
            "export SENDCLOUD_API_URL=http://127.0.0.1:8025/api/v3",
            f"export SENDCLOUD_PUBLIC_KEY={INBOX_PUBLIC_KEY} SENDCLOUD_SECRET_KEY={INBOX_SECRET_KEY}",
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8025, help="port, 0 for any free one (default: %(default)s)")
    serve.add_argument(
        "--db", default="inbox.sqlite", help="SQLite file keeping the logs, or :memory: (default: %(default)s)"
    )
    serve.add_argument("--public-key", default=INBOX_PUBLIC_KEY, help="accepted public key (default: %(default)s)")
    serve.add_argument("--secret-key", default=INBOX_SECRET_KEY, help="accepted secret key (default: %(default)s)")

    send = commands.add_parser(
        "send",
        help="post one test log",
        description=(
            "Post one test log with SendcloudClient and print the id the API gave it.\n"
            "Keys come from --public-key/--secret-key or SENDCLOUD_PUBLIC_KEY/SENDCLOUD_SECRET_KEY."
        ),
        formatter_class=_Formatter,
        epilog=_example(
            f"{PROG} send --integration-id 1234 --base-url https://myshop.example \\",
            '    --exception "Could not post the order note" --exception-type requests.exceptions.HTTPError \\',
            "    --full-url https://myshop.example/api/orders/7/notes --method POST --response-code 422",
        ),
    )
    send.add_argument("--integration-id", required=True, help="the integration the log belongs to")
    send.add_argument("--base-url", required=True, help="the shop's URL, such as https://myshop.example")
    send.add_argument(
        "--exception", default="Test log sent with sendcloud-logging", help="the text (default: %(default)s)"
    )
    send.add_argument("--exception-type", help="dotted Python exception type, such as requests.exceptions.SSLError")
    send.add_argument("--full-url", help="the URL that was called")
    send.add_argument("--method", help="the HTTP method of that call")
    send.add_argument("--response-code", type=int, help="the HTTP status the shop answered")
    _add_api_arguments(send)

    commands.add_parser(
        "demo",
        help="log real shop failures into a local Inbox and check what arrived",
        description=(
            "Start a local Inbox and a failing Shop, configure logging with the README's dictConfig,\n"
            "make real failing calls with requests (TLS, 404, 422, refused, timeout, 401), log them,\n"
            "and check that every log arrived and matches the API's schema. Exits 1 if any is missing."
        ),
        formatter_class=_Formatter,
        epilog=_example(f"{PROG} demo"),
    )

    logs = commands.add_parser(
        "logs",
        help="list logs through the API, as a table or JSON lines",
        description=(
            "List logs, newest first as the API returns them, following its pages (Link: rel=\"next\").\n"
            "A table for people, or one JSON object a line (--json) for tools such as jq. While more\n"
            "than one page is fetched, a progress line goes to stderr."
        ),
        formatter_class=_Formatter,
        epilog=_example(
            f"{PROG} logs --integration-id 1234 --limit 10",
            f"{PROG} logs --api-url http://127.0.0.1:8025/api/v3 --limit 0 --json | jq .exception_type",
        ),
    )
    logs.add_argument("--integration-id", help="only this integration's logs (default: all of the account)")
    logs.add_argument(
        "--limit", type=int, default=25, help="show at most this many, 0 for all (default: %(default)s)"
    )
    logs.add_argument("--json", action="store_true", help="print one JSON object a line instead of a table")
    _add_api_arguments(logs)
    return parser


def _add_api_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-url", help=f"API v3 base URL (default: $SENDCLOUD_API_URL, else {DEFAULT_API_URL})")
    parser.add_argument("--public-key", help="API public key (default: $SENDCLOUD_PUBLIC_KEY)")
    parser.add_argument("--secret-key", help="API secret key (default: $SENDCLOUD_SECRET_KEY)")
    parser.add_argument("--client-id", help="OAuth2 client id, instead of keys (default: $SENDCLOUD_CLIENT_ID)")
    parser.add_argument("--client-secret", help="OAuth2 client secret (default: $SENDCLOUD_CLIENT_SECRET)")
    parser.add_argument(
        "--token-url", help=f"OAuth2 token endpoint (default: $SENDCLOUD_TOKEN_URL, else {DEFAULT_TOKEN_URL})"
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 failed, 2 usage)."""
    args = build_parser().parse_args(argv)
    command = {"serve": _serve, "send": _send, "demo": _demo, "logs": _logs}[args.command]
    return command(args)


# serve --------------------------------------------------------------------------------------------------


def format_received(log: Mapping[str, Any], received: Optional[float] = None) -> str:
    """One readable line for a log the Inbox stored."""
    stamp = time.strftime("%H:%M:%S", time.localtime(time.time() if received is None else received))
    code = log.get("response_code")
    return "  ".join(
        [
            stamp,
            f"integration {log.get('integration_id', '-')}",
            f"#{log.get('id', '-')}",
            truncate(log.get("method"), 7),
            "-" if code is None else str(code),
            truncate(log.get("exception_type"), 60),
            truncate(log.get("full_url"), 100),
            truncate(log.get("exception"), 80),
        ]
    )


def _serve(args: argparse.Namespace) -> int:
    try:
        from ..inbox import Inbox  # noqa: PLC0415  # needs the "inbox" extra (jsonschema)
    except ImportError as exc:
        print(
            f"error: the Inbox needs the inbox extra: pip install 'sendcloud-logging[inbox]' ({exc})", file=sys.stderr
        )
        return FAILED
    lock = threading.Lock()

    def on_log(log: dict[str, Any]) -> None:
        line = format_received(log)
        with lock:
            print(line, flush=True)

    try:
        inbox = Inbox(
            args.host, args.port, db=args.db, public_key=args.public_key, secret_key=args.secret_key, on_log=on_log
        ).start()
    except (OSError, ValueError, sqlite3.Error) as exc:
        print(f"error: cannot serve on {args.host}:{args.port} with --db {args.db}: {exc}", file=sys.stderr)
        return FAILED
    previous = _raise_on_sigterm()
    try:
        # The default keys are the Inbox's local development credentials: printing them is the point.
        secret = args.secret_key if args.secret_key == INBOX_SECRET_KEY else "(the one you passed)"
        kept = "in memory only" if args.db == ":memory:" else f"in {args.db}"
        print(f"Inbox listening on {inbox.api_url} (logs kept {kept})", flush=True)
        print(f"use public key {args.public_key} / secret key {secret}, for example:", flush=True)
        print(f"  export SENDCLOUD_API_URL={inbox.api_url}", flush=True)
        shown = args.secret_key if args.secret_key == INBOX_SECRET_KEY else "..."
        print(f"  export SENDCLOUD_PUBLIC_KEY={args.public_key} SENDCLOUD_SECRET_KEY={shown}", flush=True)
        print(
            f"or OAuth2: client id {INBOX_CLIENT_ID} / secret {INBOX_CLIENT_SECRET}, token URL {inbox.token_url}",
            flush=True,
        )
        print("Ctrl-C stops it. Logs received:", flush=True)
        forever = threading.Event()
        while not forever.wait(1.0):  # short waits keep Ctrl-C prompt on every platform
            pass
    except KeyboardInterrupt:
        pass
    finally:
        try:
            stored = inbox.count()
        finally:
            inbox.stop()
            _restore_sigterm(previous)
    print(f"stopped; {stored} log(s) stored", flush=True)
    return OK


def _raise_on_sigterm() -> Any:
    """Make SIGTERM stop ``serve`` as Ctrl-C does (only possible on the main thread)."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        return None


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


# send and logs ------------------------------------------------------------------------------------------


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


def _send(args: argparse.Namespace) -> int:
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


def _logs(args: argparse.Namespace) -> int:
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


# demo ---------------------------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    del args
    try:
        from ..inbox import Inbox  # noqa: PLC0415, F401  # the Inbox needs the "inbox" extra (jsonschema)
    except ImportError as exc:
        print(f"error: the demo needs the inbox extra: pip install 'sendcloud-logging[inbox]' ({exc})", file=sys.stderr)
        return FAILED
    return demo.run(sys.stdout, sys.stderr)
