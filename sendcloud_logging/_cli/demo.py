"""``sendcloud-logging demo``: real shop failures, logged with the README's configuration, into a local Inbox.

The demo starts the package's ``Inbox`` (a local server speaking the Sendcloud logs API) and a ``Shop`` that
fails on purpose, configures logging with ``QUICKSTART_LOGGING`` (the very dict the README's quick start
shows; the ``SENDCLOUD_*`` environment variables point it at the Inbox while the demo runs), makes real
failing calls with ``requests``, logs each one, and checks that every log arrived and matches the API's schema.
Every port is picked by the system; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

import requests

from ..handler import SendcloudHandler
from ..shop import Shop
from .arguments import INBOX_PUBLIC_KEY, INBOX_SECRET_KEY
from .tables import format_log_table
from .terminal import json_line

#: The quick start's logging configuration. The README shows exactly this dict (a test compares them).
#: The handler reads integration_id, public_key, secret_key and api_url from the SENDCLOUD_* environment.
QUICKSTART_LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "sendcloud": {
            "class": "sendcloud_logging.SendcloudHandler",
            "level": "ERROR",
        },
    },
    "loggers": {
        "myshop": {"handlers": ["sendcloud"], "level": "INFO"},
    },
}

#: The logger the demo logs to, as an application would (a child of the configured ``myshop``).
DEMO_LOGGER = "myshop.sync"
DEMO_INTEGRATION_ID = 1
#: The local Inbox's development credentials (its defaults, printed by ``serve``; they guard nothing).
#: Seconds the client waits for ``/stall``, well below the Shop's stall.
CLIENT_TIMEOUT = 0.5
FLUSH_TIMEOUT = 10.0

LOG_SCHEMA_POINTER = "#/$defs/log"
#: The log shown in full at the end: the POST whose JSON answer refused the note (request, response, exception).
SHOWN_RESPONSE_CODE = 422
NEXT_STEPS = f"""
Next: a local Inbox for your own application, with a web view of what arrived:
  sendcloud-logging serve
  export SENDCLOUD_API_URL=http://127.0.0.1:8025/api/v3 SENDCLOUD_INTEGRATION_ID=1
  export SENDCLOUD_PUBLIC_KEY={INBOX_PUBLIC_KEY} SENDCLOUD_SECRET_KEY={INBOX_SECRET_KEY}
  then open http://127.0.0.1:8025/ (what the merchant will see)
Against Sendcloud, with your own keys: sendcloud-logging check
"""


@dataclass(frozen=True)
class Expected:
    """A log the demo must find in the Inbox."""

    label: str
    exception_type: Optional[str]
    response_code: Optional[int] = None

    def matches(self, log: Mapping[str, Any]) -> bool:
        """True when a received log has the fields this expectation names."""
        if self.response_code is not None and log.get("response_code") != self.response_code:
            return False
        return self.exception_type is None or log.get("exception_type") == self.exception_type


@contextmanager
def environment(values: Mapping[str, Optional[str]]) -> Iterator[None]:
    """Set (or, for None, unset) environment variables for the block and put the old values back afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


@contextmanager
def quickstart_logging() -> Iterator[SendcloudHandler]:
    """``dictConfig(QUICKSTART_LOGGING)``; afterwards the handler is closed and the ``myshop`` logger restored."""
    shop_logger = logging.getLogger("myshop")
    saved = (shop_logger.level, list(shop_logger.handlers), shop_logger.propagate, shop_logger.disabled)
    logging.config.dictConfig(QUICKSTART_LOGGING)
    handler = next(h for h in shop_logger.handlers if isinstance(h, SendcloudHandler))
    try:
        yield handler
    finally:
        shop_logger.removeHandler(handler)
        handler.close()
        shop_logger.setLevel(saved[0])
        shop_logger.handlers[:] = saved[1]
        shop_logger.propagate = saved[2]
        shop_logger.disabled = saved[3]


def log_validator() -> Callable[[Mapping[str, Any]], list[str]]:
    """Validate a stored log against the schema's ``#/$defs/log``; return the error messages."""
    import jsonschema  # noqa: PLC0415  # optional dependency (extra "inbox"), needed by the Inbox anyway

    from .. import inbox  # noqa: PLC0415

    schema = json.loads((Path(inbox.__file__).resolve().parent / "schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(
        {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": LOG_SCHEMA_POINTER},
        format_checker=jsonschema.FormatChecker(),
    )

    def errors(log: Mapping[str, Any]) -> list[str]:
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(log)]

    return errors


def make_failures(shop: Shop, log: logging.Logger, out: TextIO) -> list[Expected]:
    """Make real failing calls to the shop, log each as an integration would, and return what must arrive."""
    expected: list[Expected] = []

    def attempt(label: str, want: str, code: Optional[int], call: Callable[[], object], message: str) -> None:
        expected.append(Expected(label, want, code))
        try:
            call()
        except requests.RequestException as exc:
            log.exception(message)  # request, response and exception are pulled from the error
            outcome = f"{type(exc).__name__}, logged with log.exception()"
        else:
            outcome = "no error: nothing logged"
        out.write(f"  {len(expected)}. {label:<52} -> {outcome}\n")

    def fetch(url: str, timeout: float = 5.0) -> None:
        session.get(url, timeout=timeout).raise_for_status()

    def post_note() -> None:
        resp = session.post(f"{shop.http_url}/api/orders/7/notes", json={"order_note": {"note": "Shipped"}}, timeout=5)
        resp.raise_for_status()

    with requests.Session() as session:
        attempt(
            "GET over https with a self-signed certificate",
            "requests.exceptions.SSLError",
            None,
            lambda: fetch(f"{shop.https_url}/api/orders"),
            "Could not fetch the shop's orders",
        )
        attempt(
            "GET /api/orders/404 (an HTML error page)",
            "requests.exceptions.HTTPError",
            404,
            lambda: fetch(f"{shop.http_url}/api/orders/404"),
            "Could not fetch order 404",
        )
        attempt(
            "POST /api/orders/7/notes (a JSON validation error)",
            "requests.exceptions.HTTPError",
            422,
            post_note,
            "Could not post the order note",
        )
        attempt(
            "GET a port where nothing listens",
            "requests.exceptions.ConnectionError",
            None,
            lambda: fetch(f"{shop.refused_url}/api/orders"),
            "The shop is unreachable",
        )
        attempt(
            f"GET /stall with timeout={CLIENT_TIMEOUT}",
            "requests.exceptions.ReadTimeout",
            None,
            lambda: fetch(f"{shop.http_url}/stall", timeout=CLIENT_TIMEOUT),
            "The shop did not answer in time",
        )
        resp = session.get(f"{shop.http_url}/api/orders/401", timeout=5)
        log.error("The shop refused our access token (HTTP %s)", resp.status_code, extra={"response": resp})
        expected.append(Expected("GET /api/orders/401, no exception", None, resp.status_code))
        out.write(f"  {len(expected)}. {'GET /api/orders/401, no exception':<52} -> logged with log.error(extra=...)\n")
    return expected


def match(expected: Sequence[Expected], logs: Sequence[Mapping[str, Any]]) -> list[Expected]:
    """The expectations no stored log fulfils (each log fulfils at most one)."""
    left = list(logs)
    missing: list[Expected] = []
    for want in sorted(expected, key=lambda e: e.exception_type is None):  # the specific ones first
        found = next((log for log in left if want.matches(log)), None)
        if found is None:
            missing.append(want)
        else:
            left.remove(found)
    return missing


def run(out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run the demo; 0 when every expected log arrived in the Inbox and matches the schema, else 1."""
    from ..inbox import Inbox  # noqa: PLC0415  # the Inbox needs the "inbox" extra

    started = time.monotonic()
    validate = log_validator()
    with Inbox(public_key=INBOX_PUBLIC_KEY, secret_key=INBOX_SECRET_KEY) as inbox, Shop() as shop:
        out.write(f"Inbox (a local Sendcloud logs API) at {inbox.api_url}\n")
        out.write(f"Shop failing on purpose at {shop.http_url} and {shop.https_url}\n")
        out.write(f"logging configured with the README's dictConfig; SENDCLOUD_API_URL={inbox.api_url}\n\n")
        # Every other SENDCLOUD_* variable of the shell is unset: a real SENDCLOUD_CLIENT_ID would choose
        # OAuth2 against the production token endpoint, SENDCLOUD_TOKEN_URL or a spool would leak in.
        env: dict[str, Optional[str]] = {name: None for name in os.environ if name.startswith("SENDCLOUD_")}
        env |= {
            "SENDCLOUD_INTEGRATION_ID": str(DEMO_INTEGRATION_ID),
            "SENDCLOUD_PUBLIC_KEY": INBOX_PUBLIC_KEY,
            "SENDCLOUD_SECRET_KEY": INBOX_SECRET_KEY,
            "SENDCLOUD_API_URL": inbox.api_url,
        }
        with environment(env), quickstart_logging() as handler:
            expected = make_failures(shop, logging.getLogger(DEMO_LOGGER), out)
            flush_started = time.monotonic()
            delivered = handler.flush(FLUSH_TIMEOUT)
            flushed_in = time.monotonic() - flush_started
            stats = handler.stats()
        inbox.wait_for(len(expected), timeout=2.0 if delivered else 0.1)
        logs = inbox.logs()

    out.write(
        f"\nflush({FLUSH_TIMEOUT:g}) {'delivered everything' if delivered else 'timed out'} in {flushed_in:.2f} s; "
        f"sent={stats.get('sent')} retried={stats.get('retried')} dropped={stats.get('dropped_total')}\n\n"
    )
    out.write(f"The Inbox received {len(logs)} log(s):\n")
    for line in format_log_table(logs, ("id", "method", "response_code", "exception_type", "full_url", "exception")):
        out.write(f"  {line}\n")

    problems: list[str] = []
    for log in logs:
        problems.extend(f"log {log.get('id')}: {message}" for message in validate(log))
    missing = match(expected, logs)
    problems.extend(
        f"missing: {want.label} ({want.exception_type or f'response_code {want.response_code}'})" for want in missing
    )
    if len(logs) != len(expected):
        problems.append(f"expected {len(expected)} logs, the Inbox has {len(logs)}")
    elapsed = time.monotonic() - started
    if problems:
        err.write("\ndemo FAILED:\n" + "".join(f"  - {p}\n" for p in problems))
        return 1
    out.write(
        f"\nOK: all {len(expected)} logs arrived and match the API schema ({LOG_SCHEMA_POINTER}), in {elapsed:.1f} s\n"
    )
    shown = next((log for log in logs if log.get("response_code") == SHOWN_RESPONSE_CODE), logs[0])
    out.write(f"\nOne of them as the merchant sees it in the connection issue log (log {shown.get('id')}):\n")
    out.write("".join(f"  {line}\n" for line in json_line(shown, indent=2).splitlines()))
    out.write(NEXT_STEPS)
    return 0
