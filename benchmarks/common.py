"""What the benchmark scripts share: the sink process, the logged objects, percentiles."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import requests

HERE = Path(__file__).resolve().parent
PUBLIC_KEY, SECRET_KEY = "inbox-public", "inbox-secret"
SHOP = "https://shop.example"
MESSAGE = "Could not post the order note"


class Sinks:
    """``sinks.py`` in a child process; ``command()`` sends one line and returns its JSON answer."""

    def __init__(self, *, inbox_rate_limit: bool = False) -> None:
        args = [sys.executable, str(HERE / "sinks.py")] + (["--inbox-rate-limit"] if inbox_rate_limit else [])
        self._proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        assert self._proc.stdout is not None
        ready = json.loads(self._proc.stdout.readline())
        self.inbox_url: str = ready["inbox"]
        self.http_url = f"http://127.0.0.1:{ready['http']}"
        self.tcp_port: int = ready["tcp"]
        self.inbox_rate_limited: bool = ready["inbox_rate_limited"]

    def command(self, line: str) -> Any:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(line + "\n")
        self._proc.stdin.flush()
        return json.loads(self._proc.stdout.readline())

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> Sinks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def failed_shop_call(http_url: str) -> requests.Response:
    """A real failed call: a POST with a JSON body to the sink's shop, answered 422 with a JSON error body.

    Request and response together are about 1 KB (headers and bodies), what a typical failed call carries.
    """
    with requests.Session() as session:
        response = session.post(
            f"{http_url}/shop/api/orders/7/notes",
            json={
                "order_note": {
                    "note": "Shipped with DHL, tracking 00340434161094042557. " * 4,
                    "customer_notified": True,
                    "author": "sendcloud-sync",
                },
                "order_id": 7,
            },
            headers={"Authorization": "Bearer shpat_4f9c2b7e1d0a", "X-Shop-Domain": "shop.example"},
            timeout=10,
        )
    response.content  # noqa: B018  # read the body, as a caller that logs it would have
    return response


def http_size(response: requests.Response) -> int:
    """Bytes of headers and bodies of a response and its request."""
    request = response.request
    body = request.body or b""
    size = len(body) if isinstance(body, bytes) else len(str(body).encode())
    size += sum(len(k) + len(v) + 4 for k, v in request.headers.items())
    size += len(response.content) + sum(len(k) + len(v) + 4 for k, v in response.headers.items())
    return size


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-quantile (0..1) of sorted values, nearest rank."""
    if not sorted_values:
        return math.nan
    index = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[index]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return math.nan
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def rss_kib(field: str = "VmRSS") -> Optional[int]:
    """A size field of /proc/self/status in KiB (VmRSS, VmHWM), None where there is no /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Start VmHWM afresh (Linux: write 5 to /proc/self/clear_refs); False where that is not possible."""
    try:
        with open(f"/proc/{os.getpid()}/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def emit_result(result: dict[str, Any]) -> None:
    """The last stdout line of every part: its results as JSON, for run.py."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
