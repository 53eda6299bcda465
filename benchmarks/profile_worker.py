"""Where the worker threads' CPU goes: cProfile on the intake and sender threads, for storm or distinct records.

cProfile profiles the thread that enables it, so each worker loop is wrapped to run under its own profiler;
the two are merged and printed by own time (``tottime``).

    python benchmarks/profile_worker.py storm      # 5,000 storm records, defaults, to the Inbox
    python benchmarks/profile_worker.py distinct   # 500 distinct records, pacing off, to the minimal sink

Records are ``log.exception(...)`` with the failed call's request and response in ``extra`` (~1 KB).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import time
from typing import Any, Callable

from common import PUBLIC_KEY, SECRET_KEY, SHOP, Sinks, failed_shop_call
from storm_cpu import distinct_call, storm_call

from sendcloud_logging import SendcloudHandler
from sendcloud_logging._delivery import worker as worker_module

PROFILES: list[cProfile.Profile] = []


def _profiled(loop: Callable[[Any], None]) -> Callable[[Any], None]:
    def run(self: Any) -> None:
        profile = cProfile.Profile()
        PROFILES.append(profile)
        profile.enable()
        try:
            loop(self)
        finally:
            profile.disable()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["storm", "distinct"])
    parser.add_argument("--records", type=int, default=0)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    records = args.records or (5000 if args.kind == "storm" else 500)
    worker_module.BackgroundWorker._intake_loop = _profiled(worker_module.BackgroundWorker._intake_loop)  # type: ignore[method-assign]
    worker_module.BackgroundWorker._sender_loop = _profiled(worker_module.BackgroundWorker._sender_loop)  # type: ignore[method-assign]
    with Sinks(inbox_rate_limit=True) as sinks:
        response = failed_shop_call(sinks.http_url)
        if args.kind == "storm":
            handler = SendcloudHandler(integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY,
                                       api_url=sinks.inbox_url, base_url=SHOP)
        else:
            handler = SendcloudHandler(integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY,
                                       api_url=f"{sinks.http_url}/api/v3", base_url=SHOP, rate_limit_per_minute=None)
        log = logging.getLogger("bench.profile")
        log.propagate = False
        log.addHandler(handler)
        call = (storm_call if args.kind == "storm" else distinct_call)(log, response)
        start = time.process_time()
        for i in range(records):
            call(i)
        handler.flush(60)
        cpu = time.process_time() - start
        handler.close()
    out = io.StringIO()
    stats = pstats.Stats(PROFILES[0], stream=out)
    for profile in PROFILES[1:]:
        stats.add(profile)
    stats.sort_stats("tottime").print_stats(args.top)
    print(f"{records} {args.kind} records: {cpu / records * 1e6:.1f} µs of process CPU each (all threads); "
          f"stats {handler.stats()}")
    print(out.getvalue())


if __name__ == "__main__":
    main()
