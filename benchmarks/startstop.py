"""Start and stop: the import time of the package, and what the handler adds to a short script's life.

Import time is wall time in a fresh interpreter, requests' own import beside it in another, interleaved:
``import sendcloud_logging``, ``from sendcloud_logging import SendcloudHandler`` (what a configuration does)
and ``import requests``; and the wall time of ``sendcloud-logging --version`` as a whole process.
Process time runs, like hyperfine, each of three scripts many times,
interleaved, and takes medians:

- ``without``: configure logging (a ``NullHandler``) with ``dictConfig``, log one error, exit;
- ``pending``: the same with ``SendcloudHandler`` (to the Inbox): the one record is delivered at exit;
- ``empty``: the same, but ``flush()`` before the end, so the queue is empty at exit.

Each script imports requests, as the shop integration around it does. Each prints ``time.monotonic()`` as
its last line; the time from then until the process is gone is its exit time. What the handler itself
spends at exit is also timed in-process: ``close()`` of a handler whose queue is empty.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import subprocess
import sys
import time
from typing import Any

from common import PUBLIC_KEY, SECRET_KEY, SHOP, Sinks, emit_result, median

from sendcloud_logging import SendcloudHandler

SCRIPT = """
import logging, logging.config, time
import requests  # the shop integration's own HTTP client
handler = {handler}
logging.config.dictConfig({{
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {{"out": handler}},
    "loggers": {{"myshop": {{"handlers": ["out"], "level": "INFO"}}}},
}})
log = logging.getLogger("myshop.sync")
log.error("Could not post the order note", extra={{"full_url": "{shop}/api/orders/7/notes", "response_code": 422}})
{flush}
print(time.monotonic(), flush=True)
"""

VARIANTS = {
    "without": SCRIPT.format(handler='{"class": "logging.NullHandler"}', shop=SHOP, flush=""),
    "pending": SCRIPT.format(
        handler=f'{{"class": "sendcloud_logging.SendcloudHandler", "base_url": "{SHOP}"}}', shop=SHOP, flush=""
    ),
    "empty": SCRIPT.format(
        handler=f'{{"class": "sendcloud_logging.SendcloudHandler", "base_url": "{SHOP}"}}', shop=SHOP,
        flush='assert logging.getLogger("myshop").handlers[0].flush(10)',
    ),
}


IMPORTS = {
    "requests": "import requests",
    "package": "import sendcloud_logging",
    "handler": "from sendcloud_logging import SendcloudHandler",
}
TIMED = "import time; t = time.perf_counter(); {}; print((time.perf_counter() - t) * 1000)"


def import_times(runs: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {name: [] for name in IMPORTS}
    version: list[float] = []
    cli = [sys.executable, "-m", "sendcloud_logging", "--version"]
    for _ in range(runs + 1):  # the first round warms the page cache and is not counted
        for name, code in IMPORTS.items():
            done = subprocess.run([sys.executable, "-c", TIMED.format(code)], capture_output=True, text=True,
                                  check=True)
            times[name].append(float(done.stdout.split()[-1]))
        start = time.perf_counter()
        subprocess.run(cli, capture_output=True, check=True)
        version.append((time.perf_counter() - start) * 1000)
    for series in (*times.values(), version):
        del series[0]
    return {
        "import_ms": median(times["package"]),
        "handler_ms": median(times["handler"]),
        "requests_ms": median(times["requests"]),
        "version_ms": median(version),
        "runs": runs,
    }


def process_times(sinks: Sinks, runs: int) -> dict[str, Any]:
    env = dict(os.environ, SENDCLOUD_INTEGRATION_ID="1", SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY,
               SENDCLOUD_SECRET_KEY=SECRET_KEY, SENDCLOUD_API_URL=sinks.inbox_url)
    wall: dict[str, list[float]] = {name: [] for name in VARIANTS}
    exit_: dict[str, list[float]] = {name: [] for name in VARIANTS}
    rng = random.Random(5)
    before = sinks.command("stats")["inbox_logs"]
    for _ in range(runs + 1):  # the first round warms the page cache and is not counted
        order = list(VARIANTS)
        rng.shuffle(order)
        for name in order:
            start = time.monotonic()
            done = subprocess.run([sys.executable, "-c", VARIANTS[name]], env=env, capture_output=True, text=True,
                                  check=True)
            end = time.monotonic()
            last = float(done.stdout.split()[-1])
            wall[name].append((end - start) * 1000)
            exit_[name].append((end - last) * 1000)
    for series in (*wall.values(), *exit_.values()):
        del series[0]
    delivered = sinks.command("stats")["inbox_logs"] - before
    return {
        "runs": runs,
        "wall_ms": {name: median(values) for name, values in wall.items()},
        "exit_ms": {name: median(values) for name, values in exit_.items()},
        "delivered": delivered,
        "expected": 2 * (runs + 1),
    }


def close_times(sinks: Sinks, runs: int) -> dict[str, Any]:
    """``close()`` of a handler that has sent a record and has nothing left: what it adds to ``logging.shutdown()``."""
    times = []
    for i in range(runs):
        handler = SendcloudHandler(integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY,
                                   api_url=sinks.inbox_url, base_url=SHOP)
        handler.handle(logging.makeLogRecord({"msg": f"close {i}", "levelno": logging.ERROR, "levelname": "ERROR"}))
        assert handler.flush(10)
        start = time.perf_counter()
        handler.close()
        times.append((time.perf_counter() - start) * 1000)
    return {"close_ms": median(times), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with Sinks() as sinks:
        result = {
            "imports": import_times(args.runs),
            "process": process_times(sinks, args.runs),
            "close": close_times(sinks, args.runs),
        }
    emit_result({"startstop": result})


if __name__ == "__main__":
    main()
