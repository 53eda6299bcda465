"""The handler's own share of a logging call: ``SendcloudHandler.handle(record)`` on ready-made records.

``logging``'s part of a call (``findCaller``, ``makeRecord``, the logger tree) is the same for every handler
and is left out here, so this shows what ``emit`` itself costs and where that time goes:

    python benchmarks/hotpath.py              # medians of handle(record) and of the capture it makes, in us
    python benchmarks/hotpath.py --profile c  # cProfile of emit for case a, b or c

The capture is ``capture_record``, what ``emit`` calls.

Records are the three cases of caller_cost.py. Blocks of 100 calls, the worker drained between blocks.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import sys
import time
from typing import Any, Callable

import requests
from common import MESSAGE, PUBLIC_KEY, SECRET_KEY, SHOP, Sinks, emit_result, failed_shop_call, percentile

from sendcloud_logging import SendcloudHandler
from sendcloud_logging._capture import capture_record as capture


def records(response: requests.Response) -> dict[str, logging.LogRecord]:
    log = logging.getLogger("bench.hotpath")
    out = {
        "a": log.makeRecord(log.name, logging.ERROR, __file__, 1, MESSAGE, (), None),
        "b": log.makeRecord(log.name, logging.ERROR, __file__, 1, MESSAGE, (), None,
                            extra={"request": response.request, "response": response}),
    }
    try:
        response.raise_for_status()
    except requests.HTTPError:
        out["c"] = log.makeRecord(log.name, logging.ERROR, __file__, 1, MESSAGE, (), sys.exc_info())
    return out


def timed(func: Callable[[], Any], blocks: int, calls: int, settle: Callable[[], Any]) -> dict[str, float]:
    clock = time.perf_counter_ns
    samples: list[int] = []
    for _ in range(blocks):
        for _ in range(calls):
            start = clock()
            func()
            samples.append(clock() - start)
        settle()
    samples.sort()
    us = [s / 1000 for s in samples]
    return {"median_us": percentile(us, 0.5), "p99_us": percentile(us, 0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=50)
    parser.add_argument("--profile", choices=("a", "b", "c"))
    args = parser.parse_args()
    with Sinks() as sinks:
        response = failed_shop_call(sinks.http_url)
        handler = SendcloudHandler(integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY,
                                   api_url=f"{sinks.http_url}/api/v3", base_url=SHOP)
        made = records(response)
        for record in made.values():  # start the worker, warm the caches
            for _ in range(50):
                handler.handle(record)
        handler.flush(30)
        if args.profile:
            record = made[args.profile]
            profile = cProfile.Profile()
            for _ in range(args.blocks):
                profile.enable()
                for _ in range(100):
                    handler.handle(record)
                profile.disable()
                handler.flush(30)
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
            handler.close()
            return
        result: dict[str, Any] = {}
        for case, record in made.items():
            result[case] = {
                "handle": timed(lambda r=record: handler.handle(r), args.blocks, 100, lambda: handler.flush(30)),
                capture.__name__: timed(lambda r=record: capture(r), args.blocks, 100, lambda: None),
            }
        handler.close()
    emit_result({"hotpath": result})


if __name__ == "__main__":
    main()
