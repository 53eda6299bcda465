"""What a storm costs the application: all-thread CPU per record, and the throughput a CPU-bound thread loses.

Two measures, both with ``log.exception(...)`` inside ``except requests.HTTPError`` carrying the failed call's
request and response (~1 KB of headers and bodies) in ``extra``:

- **CPU per record**: process time (every thread of the process, not wall time) from the first logging call
  until the setup's background work is done (``flush()``, ``queue.join()``), divided by the records. The
  setups run in one process, in interleaved rounds (shuffled each round); the median and the spread over the
  rounds are reported. Storm records are one problem logged again and again; distinct records each have a
  message of their own. ``SendcloudHandler`` storm: its defaults, to the Inbox; distinct: pacing off, to the
  minimal sink (every record is built, redacted, encoded and POSTed). The baseline: ``QueueHandler`` +
  ``QueueListener`` feeding a ``NullHandler``.
- **Application throughput lost**: one thread runs a CPU-bound loop, alone and while a second thread logs
  1,000 storm records a second (bursts of 10 every 10 ms), ``--seconds`` each, in alternating halves; the
  share of loop iterations lost is the cost. Each (setup, round) runs in a fresh process (sentry-sdk patches
  the logging module of its process), rounds interleaved; the median and the spread over the rounds are reported.

Also measured: how long a distinct record takes to be delivered while a storm of another problem goes on.

Run: ``python benchmarks/storm_cpu.py [--rounds 5] [--seconds 3]``
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import requests
from common import MESSAGE, PUBLIC_KEY, SECRET_KEY, SHOP, Sinks, emit_result, failed_shop_call, median

from sendcloud_logging import SendcloudHandler

HERE = Path(__file__).resolve().parent
THROUGHPUT_SETUPS = {
    "disabled": "logging thread, logger disabled (its own loop)",
    "null": "NullHandler",
    "queue": "stdlib QueueHandler + listener posting with requests",
    "logstash": "python-logstash-async (defaults)",
    "sentry": "sentry-sdk logging integration (defaults)",
    "sendcloud": "SendcloudHandler, defaults",
}


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    log = logging.getLogger(f"bench.cpu.{name}")
    log.handlers.clear()
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    return log


def storm_call(log: logging.Logger, response: requests.Response) -> Callable[[int], None]:
    """One storm record: the same failed call, logged with its exception and its request and response."""
    extra = {"request": response.request, "response": response}

    def call(i: int) -> None:
        try:
            response.raise_for_status()
        except requests.HTTPError:
            log.exception(MESSAGE, extra=extra)

    return call


def distinct_call(log: logging.Logger, response: requests.Response) -> Callable[[int], None]:
    """A record of its own problem each time: the message template differs."""
    extra = {"request": response.request, "response": response}

    def call(i: int) -> None:
        try:
            response.raise_for_status()
        except requests.HTTPError:
            log.exception(f"{MESSAGE} (order {i})", extra=extra)

    return call


# ---- CPU per record -------------------------------------------------------------------------------------------


class CPUSetup:
    def __init__(self, key: str, label: str, log: logging.Logger, settle: Callable[[], Any], distinct: bool,
                 records: int, close: Callable[[], Any]) -> None:
        self.key, self.label, self.log, self.settle = key, label, log, settle
        self.distinct, self.records, self.close = distinct, records, close


def cpu_setups(sinks: Sinks, storm_records: int, distinct_records: int) -> list[CPUSetup]:
    from logging.handlers import QueueHandler, QueueListener  # noqa: PLC0415
    from queue import Queue  # noqa: PLC0415

    from caller_cost import JSONPostHandler  # noqa: PLC0415

    setups = []
    q_null: Queue[Any] = Queue(-1)
    listener_null = QueueListener(q_null, logging.NullHandler())
    listener_null.start()
    setups.append(CPUSetup("queue_null", "QueueHandler + QueueListener, NullHandler (baseline)",
                           _logger("queue_null", QueueHandler(q_null)), q_null.join, False, storm_records,
                           listener_null.stop))
    q_post: Queue[Any] = Queue(-1)
    poster = JSONPostHandler(f"{sinks.http_url}/logs")
    listener_post = QueueListener(q_post, poster)
    listener_post.start()
    setups.append(CPUSetup("queue_post", "QueueHandler + QueueListener, JSON POST", _logger("queue_post",
                           QueueHandler(q_post)), q_post.join, False, distinct_records, listener_post.stop))
    storm = SendcloudHandler(integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY,
                             api_url=sinks.inbox_url, base_url=SHOP)
    setups.append(CPUSetup("sendcloud_storm", "SendcloudHandler (defaults), storm records", _logger("storm", storm),
                           lambda: storm.flush(60), False, storm_records, storm.close))
    distinct = SendcloudHandler(integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY,
                                api_url=f"{sinks.http_url}/api/v3", base_url=SHOP, rate_limit_per_minute=None)
    setups.append(CPUSetup("sendcloud_distinct", "SendcloudHandler (pacing off), distinct records",
                           _logger("distinct", distinct), lambda: distinct.flush(60), True, distinct_records,
                           distinct.close))
    return setups


def cpu_per_record(sinks: Sinks, rounds: int, storm_records: int, distinct_records: int) -> dict[str, Any]:
    response = failed_shop_call(sinks.http_url)
    setups = cpu_setups(sinks, storm_records, distinct_records)
    calls = {s.key: (distinct_call if s.distinct else storm_call)(s.log, response) for s in setups}
    for setup in setups:  # warm-up: threads started, connections open, the storm's first log sent
        for i in range(20):
            calls[setup.key](i)
        setup.settle()
    samples: dict[str, list[float]] = {s.key: [] for s in setups}
    rng = random.Random(7)
    counter = 1_000
    for _ in range(rounds):
        order = list(setups)
        rng.shuffle(order)
        for setup in order:
            gc.collect()
            call = calls[setup.key]
            start = time.process_time()
            for _ in range(setup.records):
                call(counter)
                counter += 1
            setup.settle()
            samples[setup.key].append((time.process_time() - start) / setup.records * 1e6)
    # A distinct record logged during a storm of another problem: how long until it was delivered.
    storm_setup = next(s for s in setups if s.key == "sendcloud_storm")
    handler = storm_setup.log.handlers[0]
    assert isinstance(handler, SendcloudHandler)
    before = handler.stats()["sent"]
    storm_log = calls["sendcloud_storm"]
    waits = []
    for k in range(3):
        for i in range(200):
            storm_log(i)
        start = time.perf_counter()
        distinct_call(storm_setup.log, response)(10_000_000 + k)
        for i in range(200):
            storm_log(i)
        assert handler.flush(30)
        waits.append((time.perf_counter() - start) * 1000)
    first_out = handler.stats()["sent"] - before
    stats = {s.key: s.log.handlers[0].stats() for s in setups if isinstance(s.log.handlers[0], SendcloudHandler)}
    for setup in setups:
        setup.close()
    return {
        "rounds": rounds,
        "labels": {s.key: s.label for s in setups},
        "records": {s.key: s.records for s in setups},
        "cpu_us": {key: {"median": median(v), "min": min(v), "max": max(v)} for key, v in samples.items()},
        "distinct_during_storm_ms": {"median": median(waits), "max": max(waits), "sent": first_out},
        "stats": stats,
    }


# ---- application throughput -----------------------------------------------------------------------------------


def _throughput_logger(setup: str, sinks: dict[str, Any]) -> tuple[logging.Logger, Callable[[], None],
                                                                   Callable[[], None]]:
    """The logger of one setup, and what to call before and after the logging phase."""
    nothing: Callable[[], None] = lambda: None  # noqa: E731
    if setup in ("disabled", "null"):
        log = _logger(setup, logging.NullHandler())
        log.disabled = setup == "disabled"
        return log, nothing, nothing
    if setup == "queue":
        from logging.handlers import QueueHandler, QueueListener  # noqa: PLC0415
        from queue import Queue  # noqa: PLC0415

        from caller_cost import JSONPostHandler  # noqa: PLC0415

        q: Queue[Any] = Queue(-1)
        listener = QueueListener(q, JSONPostHandler(f"{sinks['http_url']}/logs"))
        listener.start()
        return _logger(setup, QueueHandler(q)), nothing, listener.stop
    if setup == "logstash":
        from logstash_async.handler import AsynchronousLogstashHandler  # noqa: PLC0415

        handler = AsynchronousLogstashHandler("127.0.0.1", sinks["tcp_port"], database_path=None)
        return _logger(setup, handler), nothing, handler.close
    if setup == "sentry":
        import sentry_sdk  # noqa: PLC0415

        host = sinks["http_url"].split("//", 1)[1]
        sentry_sdk.init(dsn=f"http://public@{host}/1")
        return _logger(setup, logging.NullHandler()), nothing, lambda: sentry_sdk.flush(5)
    handler = SendcloudHandler(integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY,
                               api_url=sinks["inbox_url"], base_url=SHOP)
    return _logger(setup, handler), nothing, handler.close


def _spin(stop: threading.Event, out: list[int]) -> None:
    """The application: a CPU-bound loop, counting its iterations."""
    n = 0
    while not stop.is_set():
        sum(range(100))
        n += 1
    out.append(n)


def _run_app(seconds: float, logging_thread: Callable[[threading.Event], None] | None) -> int:
    stop, out = threading.Event(), []  # type: ignore[var-annotated]
    threads = [threading.Thread(target=_spin, args=(stop, out))]
    if logging_thread is not None:
        threads.append(threading.Thread(target=logging_thread, args=(stop,)))
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return int(out[0])


def throughput_child(setup: str, seconds: float, sinks: dict[str, Any]) -> dict[str, Any]:
    response = failed_shop_call(sinks["http_url"])
    log, _, close = _throughput_logger(setup, sinks)
    call = storm_call(log, response)
    for i in range(20):
        call(i)
    time.sleep(0.3)
    logged = [0]

    def storm(stop: threading.Event) -> None:  # 1,000 records a second: 10 every 10 ms
        start, mine = time.perf_counter(), 0
        while not stop.is_set():
            for _ in range(10):
                call(logged[0])
                logged[0] += 1
            mine += 10
            pause = start + mine / 1000 - time.perf_counter()
            if pause > 0:
                stop.wait(pause)

    alone = with_logging = 0
    for _ in range(2):  # alternated, so that a noisy neighbour's phase hits both alike
        alone += _run_app(seconds / 2, None)
        with_logging += _run_app(seconds / 2, storm)
    rate = logged[0] / seconds
    close()
    return {"setup": setup, "alone": alone, "with_logging": with_logging,
            "lost": 1 - with_logging / alone, "records_per_s": rate}


def throughput(sinks: Sinks, rounds: int, seconds: float, setups: list[str]) -> dict[str, Any]:
    info = json.dumps({"http_url": sinks.http_url, "inbox_url": sinks.inbox_url, "tcp_port": sinks.tcp_port})
    rng = random.Random(11)
    runs: dict[str, list[dict[str, Any]]] = {key: [] for key in setups}
    for round_no in range(rounds):
        order = list(setups)
        rng.shuffle(order)
        for key in order:
            done = subprocess.run([sys.executable, str(Path(__file__)), "--throughput-child", key, "--seconds",
                                   str(seconds), "--sinks", info], stdout=subprocess.PIPE, text=True, check=False)
            if done.returncode != 0:
                runs.pop(key, None)
                continue
            if key in runs:
                runs[key].append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"throughput: round {round_no + 1}/{rounds}", file=sys.stderr, flush=True)
    return {
        "rounds": rounds,
        "seconds": seconds,
        "labels": {key: THROUGHPUT_SETUPS[key] for key in runs},
        "lost": {key: {"median": median([r["lost"] for r in v]), "min": min(r["lost"] for r in v),
                       "max": max(r["lost"] for r in v)} for key, v in runs.items() if v},
        "records_per_s": {key: median([r["records_per_s"] for r in v]) for key, v in runs.items() if v},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="of each phase of the throughput measure")
    parser.add_argument("--storm-records", type=int, default=2000)
    parser.add_argument("--distinct-records", type=int, default=300)
    parser.add_argument("--throughput-child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--sinks", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.throughput_child:
        emit_result(throughput_child(args.throughput_child, args.seconds, json.loads(args.sinks)))
        return
    with Sinks(inbox_rate_limit=True) as sinks:
        cpu = cpu_per_record(sinks, args.rounds, args.storm_records, args.distinct_records)
        print("cpu per record: done", file=sys.stderr, flush=True)
        app = throughput(sinks, max(1, args.rounds - 2), args.seconds, list(THROUGHPUT_SETUPS))
    emit_result({"cpu": cpu, "throughput": app})


if __name__ == "__main__":
    main()
