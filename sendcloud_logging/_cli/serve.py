"""``serve``: run the local Inbox until Ctrl-C (or SIGTERM) and print one line per log it receives."""

from __future__ import annotations

import argparse
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any, Optional

from .arguments import FAILED, INBOX_SECRET_KEY, OK
from .tables import truncate

#: The Inbox's OAuth2 development client (its defaults), printed by ``serve`` like its development keys.
INBOX_CLIENT_ID = "inbox-client"
INBOX_CLIENT_SECRET = "inbox-client-secret"  # noqa: S105  # a local test server's published dev secret


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


def serve(args: argparse.Namespace) -> int:
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
