"""Delivery throughput: time until the receiver holds 2,000 logs, with pacing and summaries off.

The records are case (b) of the caller benchmark (a failed POST with its ~1 KB request and response), so
each log is a full body. Two receivers, both in the sink process:

- the Inbox: the API's behaviour (JSON Schema validation, SQLite) in Python's ``http.server``;
- the minimal HTTP sink (answers 201 at once): what the handler itself can push over one connection.

Reported: logs per second from the first ``log.error`` to the last log received, the TCP connections the
receiver saw (1 means keep-alive held for all of them), and the handler's own counters.

Two ceilings put those numbers in context: ``SendcloudClient.create_log`` alone in a loop (requests, one
keep-alive session, the same payload), and a bare ``http.client`` connection posting that payload to the
Inbox (what the Inbox itself can take over one connection).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from common import MESSAGE, PUBLIC_KEY, SECRET_KEY, SHOP, Sinks, emit_result, failed_shop_call

from sendcloud_logging import SendcloudClient, SendcloudHandler
from sendcloud_logging._capture import snapshot_record
from sendcloud_logging._payload import build_payload


def deliver(sinks: Sinks, api_url: str, n: int, receiver: str) -> dict[str, Any]:
    response = failed_shop_call(sinks.http_url)
    before = sinks.command("stats")
    handler = SendcloudHandler(
        integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=api_url, base_url=SHOP,
        rate_limit_per_minute=None, summary_window=0, queue_size=n,
    )
    log = logging.getLogger(f"bench.delivery.{receiver}")
    log.propagate = False
    log.addHandler(handler)
    extra = {"request": response.request, "response": response}
    start = time.perf_counter()
    for i in range(n):
        log.error("%s (order %d)", MESSAGE, i, extra=extra)
    queued = time.perf_counter()
    if receiver == "inbox":
        waited = sinks.command(f"wait {before['inbox_logs'] + n} 120")
        done = time.perf_counter()
        ok = waited["ok"]
    else:
        ok = handler.flush(120)
        done = time.perf_counter()
    stats = handler.stats()
    handler.close()
    log.removeHandler(handler)
    after = sinks.command("stats")
    if receiver == "inbox":
        received = after["inbox_logs"] - before["inbox_logs"]
        connections = after["inbox_connections"] - before["inbox_connections"]
    else:
        received = after["http_requests"].get("api", 0) - before["http_requests"].get("api", 0)
        connections = after["http_connections"] - before["http_connections"]
    seconds = done - start
    return {
        "receiver": receiver,
        "logs": n,
        "received": received,
        "complete": bool(ok) and received >= n,
        "seconds": seconds,
        "logs_per_s": received / seconds if seconds else 0.0,
        "emit_seconds": queued - start,
        "connections": connections,
        "sent": stats["sent"],
        "dropped": stats["dropped_total"],
    }


def one_payload(sinks: Sinks) -> dict[str, Any]:
    response = failed_shop_call(sinks.http_url)
    record = logging.getLogger("bench.delivery").makeRecord(
        "bench.delivery", logging.ERROR, __file__, 1, MESSAGE, (), None,
        extra={"request": response.request, "response": response},
    )
    return build_payload(snapshot_record(record), {"base_url": SHOP})


def client_loop(api_url: str, payload: dict[str, Any], n: int) -> dict[str, Any]:
    """``create_log`` back to back: the requests client's own ceiling, without the handler's threads."""
    with SendcloudClient(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=api_url) as client:
        for _ in range(20):
            client.create_log(1, payload)
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            client.create_log(1, payload)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"posts_per_s": n / seconds, "cpu_ms_per_post": cpu / n * 1000}


def bare_loop(api_url: str, payload: dict[str, Any], n: int) -> dict[str, Any]:
    """The same POST over a bare ``http.client`` connection: what the receiver takes at most."""
    url = urlsplit(api_url)
    token = base64.b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode()
    headers = {"Content-Type": "application/json", "Authorization": f"Basic {token}"}
    body = json.dumps(payload).encode()
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    path = f"{url.path}/integrations/1/logs"
    try:
        for _ in range(20):
            connection.request("POST", path, body, headers)
            connection.getresponse().read()
        start = time.perf_counter()
        for _ in range(n):
            connection.request("POST", path, body, headers)
            connection.getresponse().read()
        seconds = time.perf_counter() - start
    finally:
        connection.close()
    return {"posts_per_s": n / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=2000)
    args = parser.parse_args()
    with Sinks() as sinks:
        deliver(sinks, sinks.inbox_url, 100, "inbox")  # warm-up: imports, first connection, SQLite pages
        results = [
            deliver(sinks, sinks.inbox_url, args.logs, "inbox"),
            deliver(sinks, f"{sinks.http_url}/api/v3", args.logs, "sink"),
        ]
        payload = one_payload(sinks)
        n = max(100, args.logs // 4)
        ceilings = {
            "client_inbox": client_loop(sinks.inbox_url, payload, n),
            "client_sink": client_loop(f"{sinks.http_url}/api/v3", payload, n),
            "bare_inbox": bare_loop(sinks.inbox_url, payload, n),
        }
    emit_result({"delivery": results, "ceilings": ceilings})


if __name__ == "__main__":
    main()
