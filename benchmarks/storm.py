"""An error storm at the handler's default limits: 10,000 records of 7 kinds within 10 seconds.

The records (each with its ~1 KB request and response) are spread evenly over the 10 s, as a shop outage
would produce them; a second run logs them as fast as one thread can (``--seconds 0``), which fills the
queue (1,000) faster than the worker's intake folds repeats into their summaries. The receiver is the
Inbox with the API's rate limit of 100 a minute and 15 a second when this version of the Inbox offers it
(``Inbox(rate_limit=(100, 15))``). After the storm the handler is closed, as at process exit, which sends
the open summaries.

Reported: peak RSS growth of this process (VmHWM after resetting it, and a 5 ms VmRSS sampler), POSTs the
Inbox answered, 429s among them, how many of the 7 kinds arrived, and how many of the 10,000 records the
stored logs account for (each summary says "+N more like this").
"""

from __future__ import annotations

import argparse
import logging
import re
import threading
import time
from typing import Any, Optional

import requests
from common import (
    PUBLIC_KEY,
    SECRET_KEY,
    SHOP,
    Sinks,
    emit_result,
    failed_shop_call,
    reset_peak_rss,
    rss_kib,
)

from sendcloud_logging import SendcloudHandler

KINDS = 7
MORE = re.compile(r"\(\+(\d+) more like this")


class Sampler(threading.Thread):
    """Samples VmRSS every few milliseconds; ``peak`` is the highest seen."""

    def __init__(self, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = rss_kib() or 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.peak = max(self.peak, rss_kib() or 0)


def storm(records: int, seconds: float) -> dict[str, Any]:
    with Sinks(inbox_rate_limit=True) as sinks:
        response = failed_shop_call(sinks.http_url)
        http_error: Optional[requests.HTTPError] = None
        try:
            response.raise_for_status()
        except requests.HTTPError as exc:
            http_error = exc
        handler = SendcloudHandler(
            integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=sinks.inbox_url, base_url=SHOP
        )
        log = logging.getLogger(f"bench.storm.{'paced' if seconds > 0 else 'burst'}")
        log.propagate = False
        log.addHandler(handler)
        request = response.request
        kinds = [
            lambda i: log.error("Stock update failed for product %d", i, extra={
                "full_url": f"{SHOP}/api/products/{i}/stock", "method": "PUT", "response_code": 409}),
            lambda i: log.error("Order %d could not be fetched", i, extra={"request": request, "response": response}),
            lambda i: log.error("The shop refused our token", extra={"response_code": 401,
                                                                     "full_url": f"{SHOP}/api/orders/{i}"}),
            lambda i: log.error("Shipment %d: label not attached", i, extra={
                "full_url": f"{SHOP}/api/shipments/{i}", "method": "POST", "response_code": 500}),
            lambda i: log.error("Timed out syncing order %d", i, extra={
                "full_url": f"{SHOP}/api/orders/{i}/sync", "method": "GET",
                "exception_type": "requests.exceptions.ReadTimeout"}),
            lambda i: log.error("Webhook %d rejected", i, extra={
                "full_url": f"{SHOP}/api/webhooks/{i}", "method": "DELETE", "response_code": 404}),
            lambda i: log.error("Could not post the order note", exc_info=http_error),
        ]
        assert len(kinds) == KINDS

        base = rss_kib() or 0
        hwm_reset = reset_peak_rss()
        sampler = Sampler()
        sampler.start()
        start = time.perf_counter()
        per_tick = max(1, records // int(seconds * 100)) if seconds > 0 else records  # a burst every 10 ms
        sent = 0
        while sent < records:
            for _ in range(min(per_tick, records - sent)):
                kinds[sent % KINDS](sent)
                sent += 1
            pause = start + sent / records * seconds - time.perf_counter() if seconds > 0 else 0.0
            if pause > 0:
                time.sleep(pause)
        logged = time.perf_counter() - start
        handler.flush(30)  # everything taken in; the open summaries wait for close()
        handler.close()
        log.removeHandler(handler)
        closed = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
        hwm = rss_kib("VmHWM") if hwm_reset else None
        stats = handler.stats()
        after = sinks.command("stats")
        logs = sinks.command("logs")

    kinds_seen = {
        (log_["method"], log_["response_code"], log_["exception_type"], (log_["exception"] or "").split(" ")[0])
        for log_ in logs
    }
    accounted = sum(1 + sum(int(n) for n in MORE.findall(log_["exception"] or "")) for log_ in logs)
    peak = max(sampler.peak, hwm or 0)
    return {
        "records": records,
        "paced": seconds > 0,
        "seconds_logging": logged,
        "seconds_to_close": closed,
        "rss_base_mib": base / 1024,
        "rss_growth_mib": (peak - base) / 1024,
        "rss_peak_source": "VmHWM" if hwm_reset else "sampled VmRSS",
        "posts": after["inbox_posts"],
        "statuses": after["inbox_statuses"],
        "status_429": after["inbox_statuses"].get("429", 0),
        "inbox_rate_limited": after["inbox_rate_limited"],
        "logs_stored": after["inbox_logs"],
        "kinds": KINDS,
        "kinds_delivered": len(kinds_seen),
        "records_accounted": accounted,
        "stats": stats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="0: as fast as one thread can log")
    parser.add_argument("--no-burst", action="store_true", help="skip the unpaced second run")
    args = parser.parse_args()
    runs = [storm(args.records, args.seconds)]
    if not args.no_burst:
        runs.append(storm(args.records, 0.0))
    emit_result({"storm": runs})


if __name__ == "__main__":
    main()
