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

from .._validators import is_loopback_host
from ..errors import ConfigurationError
from . import terminal
from .arguments import FAILED, INBOX_PUBLIC_KEY, INBOX_SECRET_KEY, OK, USAGE
from .secret_files import read_secret
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

    problem = _keys(args)
    if problem is not None:
        terminal.error(problem)
        return USAGE
    local = is_loopback_host(args.host)
    oauth = (INBOX_CLIENT_ID, INBOX_CLIENT_SECRET) if local else (None, None)  # published: loopback only
    try:
        inbox = Inbox(
            args.host,
            args.port,
            db=args.db,
            public_key=args.public_key,
            secret_key=args.secret_key,
            on_log=on_log,
            client_id=oauth[0],
            client_secret=oauth[1],
        ).start()
    except (OSError, ValueError, sqlite3.Error) as exc:
        terminal.error(f"cannot serve on {args.host}:{args.port} with --db {args.db}: {exc}")
        return FAILED
    previous = _raise_on_sigterm()
    try:
        for line in _exports(inbox, args, oauth=local):
            print(line, flush=True)
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


def _keys(args: argparse.Namespace) -> Optional[str]:
    """Read ``--secret-key-file``; warn of a secret on the command line; refuse the published development
    keys on an address other machines reach. Returns the error to print, or None."""
    if args.secret_key_file is not None:
        if args.secret_key != INBOX_SECRET_KEY:
            return "--secret-key: give --secret-key or --secret-key-file, not both"
        try:
            args.secret_key = read_secret("secret_key", "--secret-key-file", args.secret_key_file)
        except ConfigurationError as exc:
            return f"--secret-key-file: {exc.message}"
        if not args.secret_key:
            return "--secret-key-file: the file holds no key"
    elif args.secret_key != INBOX_SECRET_KEY:
        terminal.warn(
            "--secret-key shows in the process list and shell history; use --secret-key-file PATH "
            "(- reads stdin) instead"
        )
    published = args.public_key == INBOX_PUBLIC_KEY or args.secret_key == INBOX_SECRET_KEY
    if published and not is_loopback_host(args.host):
        return (
            f"--host {args.host} lets other machines reach the Inbox, and its development keys are published: "
            "give your own --public-key and --secret-key-file (or serve on 127.0.0.1)"
        )
    return None


def _exports(inbox: Any, args: argparse.Namespace, *, oauth: bool) -> list[str]:
    """What to tell the handler: only settings it accepts, so the printed exports work as copied.

    Plain http is accepted to a loopback host only: an Inbox on every address (``0.0.0.0``) is named by
    127.0.0.1 on this machine; one on another address needs ``allow_insecure_http=True``, which no variable sets.
    """
    kept = "in memory only" if args.db == ":memory:" else f"in {args.db}"
    api_url: str = inbox.api_url
    host = args.host.strip("[]")
    everywhere = host in ("0.0.0.0", "::")  # noqa: S104  # naming the wildcard, not binding to it
    if everywhere:
        api_url = api_url.replace(f"//{'[::]' if host == '::' else host}:", "//127.0.0.1:", 1)
    # The default keys are the Inbox's local development credentials: printing them is the point.
    dev = args.secret_key == INBOX_SECRET_KEY
    secret = args.secret_key if dev else "(the one you passed)"
    shown = args.secret_key if dev else "..."
    lines = [f"Inbox listening on {inbox.api_url} (logs kept {kept})"]
    if is_loopback_host(host) or everywhere:
        lines += [
            f"use public key {args.public_key} / secret key {secret}, for example on this machine:",
            f"  export SENDCLOUD_API_URL={api_url} SENDCLOUD_INTEGRATION_ID=1",
            f"  export SENDCLOUD_PUBLIC_KEY={args.public_key} SENDCLOUD_SECRET_KEY={shown}",
        ]
    else:
        lines += [
            f"use public key {args.public_key} / secret key {secret}; plain http to {host} needs the handler's",
            f"  SendcloudHandler(api_url='{api_url}', integration_id=1, allow_insecure_http=True, ...)",
        ]
    if everywhere:
        lines.append("  (from another machine: its address instead of 127.0.0.1, and allow_insecure_http=True)")
    if oauth:
        lines.append(
            f"or OAuth2: client id {INBOX_CLIENT_ID} / secret {INBOX_CLIENT_SECRET}, token URL {inbox.token_url}"
        )
    lines.append(f"what arrived, as the merchant will see it: {api_url.rsplit('/api/v3', 1)[0]}/")
    return lines


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
