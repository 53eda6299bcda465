"""Caller-side cost of one logging call, for the handler and the alternatives a user would pick instead.

Every setup gets its own logger; all of them live in this one process and are measured in interleaved
rounds (each round runs every setup and case in a shuffled order), so that a noisy neighbour or a CPU
frequency change hits all of them alike and the ratios hold. Each call is timed on its own with
``perf_counter_ns``; between two blocks the setup's background work is drained (untimed), so one setup's
sender thread never competes with the next setup's calls.

Cases: (a) ``log.error(msg)``; (b) the same with ``extra={"request": ..., "response": ...}`` of about 1 KB;
(c) ``log.exception(msg)`` inside ``except requests.HTTPError`` with the real response attached.

Setups: ``logging.NullHandler`` (the floor); ``QueueHandler`` + ``QueueListener`` feeding a ``NullHandler`` (the
baseline of the targets: the caller's side of the stdlib queue, ``QueueHandler.prepare`` formatting and copying
the record, with nothing behind it); ``QueueHandler`` + ``QueueListener`` feeding a handler that posts
JSON with requests; ``SendcloudHandler`` with its defaults (to the Inbox); sentry-sdk with its default options
(its logging integration, DSN to a local sink); python-logstash-async (TCP to a local sink).
sentry-sdk's logging integration patches ``logging.Logger.callHandlers`` for every logger of the process;
the patch is put in place for sentry's blocks only, so it costs the other setups nothing.
"""

from __future__ import annotations

import argparse
import gc
import logging
import queue
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import QueueHandler, QueueListener
from typing import Any, Callable, Optional

import requests
from common import MESSAGE, PUBLIC_KEY, SECRET_KEY, SHOP, Sinks, emit_result, failed_shop_call, http_size, percentile

from sendcloud_logging import SendcloudHandler

CASES = ("a", "b", "c")


class JSONPostHandler(logging.Handler):
    """What users hand-roll today: format the record, post it as JSON with a requests Session."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.session = requests.Session()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            body: dict[str, Any] = {
                "message": self.format(record),
                "level": record.levelname,
                "logger": record.name,
                "created": record.created,
            }
            response = getattr(record, "response", None)
            if isinstance(response, requests.Response):
                body["status"] = response.status_code
                body["url"] = response.url
            self.session.post(self.url, json=body, timeout=5).close()
        except Exception:
            self.handleError(record)


class Setup:
    """One way of logging: its logger, how to switch it on and off, how to wait for its background work."""

    def __init__(self, key: str, label: str, logger: logging.Logger, settle: Callable[[], None]) -> None:
        self.key, self.label, self.logger, self.settle = key, label, logger, settle
        self.calls_divisor = 1  # a setup that takes milliseconds a call gets fewer calls per block
        self.enter: Callable[[], None] = lambda: None
        self.leave: Callable[[], None] = lambda: None
        self.close: Callable[[], None] = lambda: None


def _logger(name: str, handler: Optional[logging.Handler]) -> logging.Logger:
    log = logging.getLogger(f"bench.{name}")
    log.handlers.clear()
    log.propagate = False
    log.setLevel(logging.INFO)
    if handler is not None:
        log.addHandler(handler)
    return log


def null_setup() -> Setup:
    return Setup("null", "NullHandler (floor)", _logger("null", logging.NullHandler()), lambda: None)


def queue_setup(sinks: Sinks) -> Setup:
    q: queue.Queue[Any] = queue.Queue(-1)
    poster = JSONPostHandler(f"{sinks.http_url}/logs")
    listener = QueueListener(q, poster, respect_handler_level=True)
    listener.start()
    setup = Setup("queue", "QueueHandler + QueueListener, JSON POST", _logger("queue", QueueHandler(q)), q.join)

    def close() -> None:
        listener.stop()
        poster.session.close()

    setup.close = close
    return setup


def queue_null_setup() -> Setup:
    q: queue.Queue[Any] = queue.Queue(-1)
    listener = QueueListener(q, logging.NullHandler(), respect_handler_level=True)
    listener.start()
    setup = Setup("queue_null", "QueueHandler + QueueListener, NullHandler (baseline)",
                  _logger("queue_null", QueueHandler(q)), q.join)
    setup.close = listener.stop
    return setup


def sendcloud_setup(sinks: Sinks) -> Setup:
    handler = SendcloudHandler(
        integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=sinks.inbox_url, base_url=SHOP
    )
    setup = Setup("sendcloud", "SendcloudHandler (defaults)", _logger("sendcloud", handler),
                  lambda: handler.flush(60))
    setup.close = handler.close
    return setup


def logstash_setup(sinks: Sinks) -> Setup:
    from logstash_async.constants import constants  # noqa: PLC0415  # peers live in the bench venv only
    from logstash_async.handler import AsynchronousLogstashHandler  # noqa: PLC0415

    # Its worker looks at its queue every 2 s; polled faster, the untimed drain between blocks is quick.
    # emit() (format the record as JSON, put it on a queue) is the same either way.
    constants.QUEUE_CHECK_INTERVAL = 0.01
    handler = AsynchronousLogstashHandler("127.0.0.1", sinks.tcp_port, database_path=None)

    def settle() -> None:
        worker = getattr(AsynchronousLogstashHandler, "_worker_thread", None)
        handler.flush()
        deadline = time.monotonic() + 30
        while worker is not None and not worker._queue.empty() and time.monotonic() < deadline:
            time.sleep(0.002)

    setup = Setup("logstash", "python-logstash-async (defaults)", _logger("logstash", handler), settle)
    setup.close = handler.close
    return setup


def sentry_setup(sinks: Sinks) -> Setup:
    import sentry_sdk  # noqa: PLC0415  # peers live in the bench venv only

    unpatched = logging.Logger.callHandlers
    host = sinks.http_url.split("//", 1)[1]
    sentry_sdk.init(dsn=f"http://public@{host}/1")  # default options: LoggingIntegration(INFO, ERROR) and all
    patched = logging.Logger.callHandlers
    logging.Logger.callHandlers = unpatched  # type: ignore[method-assign]
    # a NullHandler keeps logging's lastResort quiet; sentry itself hooks in through callHandlers
    setup = Setup("sentry", "sentry-sdk logging integration (defaults)",
                  _logger("sentry", logging.NullHandler()), lambda: sentry_sdk.flush(30))

    def enter() -> None:
        logging.Logger.callHandlers = patched  # type: ignore[method-assign]

    def leave() -> None:
        logging.Logger.callHandlers = unpatched  # type: ignore[method-assign]

    setup.enter, setup.leave = enter, leave
    setup.calls_divisor = 5
    setup.close = lambda: sentry_sdk.flush(10)
    return setup


def block(log: logging.Logger, case: str, response: requests.Response, n: int, out: list[int]) -> None:
    """n timed calls of one case; only the logging call itself is inside the timer."""
    clock = time.perf_counter_ns
    if case == "a":
        for _ in range(n):
            start = clock()
            log.error(MESSAGE)
            out.append(clock() - start)
    elif case == "b":
        request = response.request
        for _ in range(n):
            start = clock()
            log.error(MESSAGE, extra={"request": request, "response": response})
            out.append(clock() - start)
    else:
        for _ in range(n):
            try:
                _post_note(response)
            except requests.HTTPError:
                start = clock()
                log.exception(MESSAGE)
                out.append(clock() - start)


def _post_note(response: requests.Response) -> None:
    """Stands in for the shop call that failed: each call raises a new HTTPError carrying the response."""
    response.raise_for_status()


@contextmanager
def _active(setup: Setup) -> Iterator[None]:
    setup.enter()
    try:
        yield
    finally:
        setup.leave()


def timer_overhead_ns() -> float:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(20_000):
        start = clock()
        samples.append(clock() - start)
    samples.sort()
    return float(samples[len(samples) // 2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--calls", type=int, default=100, help="timed calls per setup, case and round")
    parser.add_argument("--only", default="", help="comma-separated setup keys (default: all)")
    args = parser.parse_args()
    wanted = set(filter(None, args.only.split(",")))
    rng = random.Random(5)

    with Sinks() as sinks:
        response = failed_shop_call(sinks.http_url)
        setups = [null_setup(), queue_null_setup(), queue_setup(sinks), sendcloud_setup(sinks)]
        missing: dict[str, str] = {}
        try:
            setups.append(logstash_setup(sinks))
        except ImportError as exc:
            missing["logstash"] = str(exc)
        for setup in setups:  # start every background thread before sentry patches threading
            for case in CASES:
                block(setup.logger, case, response, 20, [])
            setup.settle()
        try:
            setups.append(sentry_setup(sinks))
        except ImportError as exc:
            missing["sentry"] = str(exc)
        if wanted:
            setups = [s for s in setups if s.key in wanted]
        samples: dict[tuple[str, str], list[int]] = {(s.key, c): [] for s in setups for c in CASES}
        per_round: dict[tuple[str, str], list[float]] = {(s.key, c): [] for s in setups for c in CASES}
        for setup in setups:  # warm-up, untimed
            with _active(setup):
                for case in CASES:
                    block(setup.logger, case, response, 20, [])
            setup.settle()

        for round_no in range(args.rounds):
            order = [(s, c) for s in setups for c in CASES]
            rng.shuffle(order)
            for setup, case in order:
                gc.collect()
                block_samples: list[int] = []
                with _active(setup):
                    n = max(10, args.calls // setup.calls_divisor)
                    block(setup.logger, case, response, n, block_samples)
                setup.settle()
                samples[(setup.key, case)].extend(block_samples)
                per_round[(setup.key, case)].append(percentile(sorted(block_samples), 0.5) / 1000)
            print(f"caller cost: round {round_no + 1}/{args.rounds}", file=sys.stderr, flush=True)

        stats_after = {s.key: s.logger.handlers[0].stats() for s in setups  # type: ignore[attr-defined]
                       if isinstance(s.logger.handlers[0], SendcloudHandler)}
        for setup in setups:
            setup.close()
        sink_stats = sinks.command("stats")

    results: dict[str, Any] = {}
    for (key, case), values in samples.items():
        values.sort()
        us = [v / 1000 for v in values]
        results.setdefault(key, {})[case] = {
            "median_us": percentile(us, 0.5),
            "p99_us": percentile(us, 0.99),
            "n": len(us),
            "round_medians_us": per_round[(key, case)],
        }
    emit_result({
        "labels": {s.key: s.label for s in setups},
        "cases": results,
        "rounds": args.rounds,
        "calls": args.calls,
        "timer_overhead_ns": timer_overhead_ns(),
        "http_bytes": http_size(response),
        "missing": missing,
        "sendcloud_stats": stats_after.get("sendcloud"),
        "sinks": sink_stats,
    })


if __name__ == "__main__":
    main()
