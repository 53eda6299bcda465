"""Memory per held record and for a full queue, with 1 KB and 1 MB bodies, beside the bound (``max_memory_bytes``).

The API is unreachable (a closed port), so every record stays: in the caller's queue, then as a built log in
the outbox. Python's allocations are traced (``tracemalloc``) from before the first record until the intake
has taken everything it can; the logged bodies themselves are allocated before tracing starts (they are the
application's), so what is measured is what the handler keeps.

- held records: 200 distinct records (each its own problem), well within every bound: bytes per record;
- a full queue: 3,000 distinct records logged at once with the defaults (``queue_size`` 1000 in the queue and
  1000 in the outbox, ``max_memory_bytes`` 64 MiB): what the handler holds, and what it dropped.

Run: ``python benchmarks/memory.py``
"""

from __future__ import annotations

import argparse
import gc
import logging
import socket
import sys
import time
import tracemalloc
from typing import Any

from common import PUBLIC_KEY, SECRET_KEY, SHOP, emit_result

from sendcloud_logging import SendcloudHandler


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settle(handler: SendcloudHandler, timeout: float = 30.0) -> None:
    """Until the intake has taken every record from the caller's queue (or can take no more)."""
    worker = handler._worker  # a benchmark may look inside
    deadline = time.monotonic() + timeout
    last, still = -1, 0
    while time.monotonic() < deadline:
        waiting = len(worker._jobs)
        if waiting == 0 and not worker._holding:
            return
        still = still + 1 if waiting == last else 0
        if still >= 20:  # the outbox is full: the rest wait in the queue
            return
        last = waiting
        time.sleep(0.05)


def held(records: int, body_bytes: int, **options: Any) -> dict[str, Any]:
    body = b'{"note": "' + b"x" * max(0, body_bytes - 12) + b'"}'
    answer = b'{"error": "' + b"y" * max(0, body_bytes - 13) + b'"}'
    handler = SendcloudHandler(integration_id=1, public_key=PUBLIC_KEY, secret_key=SECRET_KEY,
                               api_url=f"http://127.0.0.1:{closed_port()}/api/v3", base_url=SHOP,
                               shutdown_timeout=0.1, **options)
    log = logging.getLogger(f"bench.memory.{records}.{body_bytes}")
    log.propagate = False
    log.addHandler(handler)
    extras = [
        {"request": {"method": "POST", "url": f"{SHOP}/api/orders/{i}/notes", "payload": body,
                     "headers": {"Content-Type": "application/json"}},
         "response": {"status_code": 422, "body": answer, "headers": {"Content-Type": "application/json"}}}
        for i in range(records)
    ]
    messages = [f"Order {i}: the note was refused" for i in range(records)]
    log.error("warm-up", extra=extras[0])
    _settle(handler)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for message, extra in zip(messages, extras):
        log.error(message, extra=extra)
    _settle(handler)
    gc.collect()
    now = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    stats = handler.stats()
    log.removeHandler(handler)
    handler.close()
    kept = stats["queued"] - 1 - stats["dropped_total"]
    return {
        "records": records,
        "body_bytes": len(body),
        "held_bytes": now - before,
        "kept": kept,
        "per_record_bytes": (now - before) / max(1, kept),
        "dropped": stats["dropped"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--full", type=int, default=3000)
    args = parser.parse_args()
    out: dict[str, Any] = {"held": [], "full": []}
    for size in (1024, 1024 * 1024):
        out["held"].append(held(args.records, size))
        print(f"memory: held, {size} B bodies", file=sys.stderr, flush=True)
        out["full"].append(held(args.full, size))
        print(f"memory: full queue, {size} B bodies", file=sys.stderr, flush=True)
    out["max_memory_bytes"] = SendcloudHandler.__init__.__kwdefaults__["max_memory_bytes"]
    emit_result({"memory": out})


if __name__ == "__main__":
    main()
