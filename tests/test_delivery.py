"""Delivery end to end, for what only real sockets and processes prove: storms against the Inbox's limiter,
SIGKILL with a spool, fork, exit within shutdown_timeout, a spool shared by processes, real TLS.

Retries, outages, 429 pauses and chaos are unit tests of the sender on a fake clock (``test_sender.py``).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest

from sendcloud_logging import SendcloudHandler
from sendcloud_logging.inbox import Inbox
from sendcloud_logging.shop import CERT_PATH, Shop

from .conftest import INTEGRATION_ID, PUBLIC_KEY, SECRET_KEY, within

AppLogger = Callable[..., "tuple[logging.Logger, SendcloudHandler]"]
MORE = re.compile(r"\(\+(\d+) more like this between \d\d:\d\d:\d\d and \d\d:\d\d:\d\d\)$")

pytestmark = pytest.mark.slow


def represented(log: dict[str, Any]) -> int:
    """How many records one delivered log stands for."""
    match = MORE.search(log["exception"] or "")
    return 1 + (int(match.group(1)) if match else 0)


def env_for(inbox: Inbox, **extra: str) -> dict[str, str]:
    return dict(
        os.environ,
        SENDCLOUD_INTEGRATION_ID="9",
        SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY,
        SENDCLOUD_SECRET_KEY=SECRET_KEY,
        SENDCLOUD_API_URL=inbox.api_url,
        PYTHONUNBUFFERED="1",
        **extra,
    )


def test_an_error_storm_becomes_one_log_and_one_summary_per_signature(
    make_handler: Callable[..., SendcloudHandler],
) -> None:
    with Inbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY, rate_limit=(100, 15)) as inbox:
        handler = make_handler(api_url=inbox.api_url)  # default rate limit and summary window
        log = logging.getLogger("storm")
        log.propagate = False
        log.addHandler(handler)
        signatures = [
            ("GET", "https://shop.example/api/orders/{}", 503, "Order {} could not be read"),
            ("GET", "https://shop.example/api/orders/{}/notes", 404, "Notes of {} missing"),
            ("POST", "https://shop.example/api/orders/{}/notes", 422, "Note for {} refused"),
            ("PUT", "https://shop.example/api/products/{}", 500, "Stock of {} not updated"),
            ("GET", "https://shop.example/api/customers/{}", 401, "Customer {} hidden"),
            ("DELETE", "https://shop.example/api/webhooks/{}", 410, "Webhook {} gone"),
            ("GET", "https://shop.example/api/shipments/{}", 429, "Shipment {} throttled"),
        ]
        inbox.latency = 3600.0  # the API holds every request until the storm is over

        def storm() -> float:
            start = time.monotonic()
            for i in range(10_000):
                method, url, code, template = signatures[i % 7]
                log.error(
                    template.replace("{}", "%s"),
                    i,
                    extra={"full_url": url.format(i), "method": method, "response_code": code},
                )
            return time.monotonic() - start

        logged_in = within(60, storm)  # a hang guard: the calls take about 0.3 s
        assert inbox.count() == 0  # 10,000 calls returned while the API had answered nothing: none waited on it
        inbox.latency = 0.0
        handler.close()  # closes the windows: their summaries go out
        logs = inbox.logs()
        stats = handler.stats()
        by_signature = Counter((log["method"], log["response_code"]) for log in logs)
        print(f"\nstorm: 10000 records logged in {logged_in:.2f} s -> {len(logs)} POSTs, stats {stats}")
        assert inbox.status_counts.get(429, 0) == 0
        assert len(by_signature) == 7
        # One thread logging flat out may outrun the intake (on Python 3.11 it does not; on 3.9 under load 431
        # of 10,000 found the queue full): such a record is counted as queue_full, never lost silently.
        full = stats["dropped"].get("queue_full", 0)
        assert stats["dropped_total"] == full
        assert sum(represented(log) for log in logs) == 10_000 - full
        assert stats["sent"] + stats["summarised"] == 10_000 - full
        assert len(logs) <= 15  # within the burst: nothing more was needed


KILL_SCRIPT = """
import logging, sys, time
from sendcloud_logging import SendcloudHandler
handler = SendcloudHandler(base_url="https://shop.example", spool_path=sys.argv[1], summary_window=0,
                           rate_limit_per_minute=None)
log = logging.getLogger("app")
log.addHandler(handler)
i = 0
while True:
    log.error("record %d", i)
    print(i, time.time(), handler.stats()["spooled"], flush=True)  # spooled: records 0 .. spooled-1 are on disk
    i += 1
    time.sleep(0.002)  # the application's pace, not a wait for anything: the kill comes by count, not time
"""

RESTART_SCRIPT = """
import logging, sys
from sendcloud_logging import SendcloudHandler
handler = SendcloudHandler(base_url="https://shop.example", spool_path=sys.argv[1], rate_limit_per_minute=None)
logging.getLogger("app").addHandler(handler)
ok = handler.flush(60)
print(handler.stats(), flush=True)
"""


def test_sigkill_loses_nothing_older_than_a_second_with_a_spool(inbox: Inbox, tmp_path: Path) -> None:
    spool = str(tmp_path / "spool.sqlite")
    inbox.latency = 0.2  # a slow API: a backlog builds up in the spool
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, spool], env=env_for(inbox), stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    logged: list[tuple[int, float]] = []
    spooled = 0
    for line in proc.stdout:
        index, stamp, spooled_text = line.split()
        logged.append((int(index), float(stamp)))
        spooled = int(spooled_text)
        if spooled >= 150:  # the precondition, by count: this many records are on disk
            break
    proc.send_signal(signal.SIGKILL)
    killed_at = time.time()
    proc.wait(10)
    proc.stdout.close()
    before_restart = inbox.count(9)
    inbox.latency = 0.0
    restart = subprocess.run(
        [sys.executable, "-c", RESTART_SCRIPT, spool], env=env_for(inbox), capture_output=True, text=True, timeout=90
    )
    assert restart.returncode == 0, restart.stderr
    received = Counter(log["exception"] for log in inbox.logs(9))
    lost = [i for i in range(spooled) if f"record {i}" not in received]
    older = [i for i, stamp in logged if stamp < killed_at - 1.0 and f"record {i}" not in received]
    duplicates = sum(c - 1 for c in received.values() if c > 1)
    print(f"\nSIGKILL: {len(logged)} logged, {spooled} spooled, {before_restart} delivered before the kill, "
          f"{len(received)} distinct after restart, {duplicates} duplicates, lost {len(lost)}")
    assert not lost  # every record the child had spooled survived the kill
    # And so did every record logged more than a second before it (the README's promise): a record reaches
    # the spool within milliseconds, even with both cores busy, so the second is a wide margin.
    assert not older
    assert before_restart < spooled  # the restart really had to deliver the rest


FORK_SCRIPT = """
import logging, os, sys
from sendcloud_logging import SendcloudHandler
handler = SendcloudHandler(base_url="https://shop.example", summary_window=0, rate_limit_per_minute=None)
log = logging.getLogger("app")
log.addHandler(handler)
for i in range(5):
    log.error("parent %d", i)
pid = os.fork()
if pid == 0:
    for i in range(3):
        log.error("child %d", i)
    ok = handler.flush(20)
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
assert handler.flush(20)
print(os.waitstatus_to_exitcode(status), handler.stats()["sent"], flush=True)
"""


def test_fork_with_records_pending_in_the_parent(inbox: Inbox) -> None:
    inbox.latency = 0.1  # the parent's records are still pending when it forks
    proc = subprocess.run([sys.executable, "-c", FORK_SCRIPT], env=env_for(inbox), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    child_status, parent_sent = proc.stdout.split()
    assert child_status == "0"
    assert parent_sent == "5"
    received = Counter(log["exception"] for log in inbox.logs(9))
    assert received == Counter([f"parent {i}" for i in range(5)] + [f"child {i}" for i in range(3)])


EXIT_SCRIPT = """
import atexit, time
stamp = {}
atexit.register(lambda: print(f"{time.monotonic() - stamp['end']:.3f}", flush=True))  # runs last
import logging
from sendcloud_logging import SendcloudHandler
logging.getLogger().addHandler(SendcloudHandler(base_url="https://shop.example", shutdown_timeout=SHUTDOWN))
for i in range(COUNT):
    logging.error("lost %d", i)
stamp["end"] = time.monotonic()
"""


def test_exit_with_the_api_down_keeps_to_shutdown_timeout(inbox: Inbox) -> None:
    inbox.refuse()
    script = EXIT_SCRIPT.replace("SHUTDOWN", "1.0").replace("COUNT", "3")
    proc = subprocess.run([sys.executable, "-c", script], env=env_for(inbox), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    # logging.shutdown() calls flush() and then close(): both together keep to one shutdown_timeout (two
    # would take at least 2 s).
    assert float(proc.stdout.strip()) < 2 * 1.0
    assert "3 log(s) were not delivered" in proc.stderr
    assert proc.stderr.count("\n") <= 3


def test_exit_with_an_empty_queue_is_quick(inbox: Inbox) -> None:
    script = EXIT_SCRIPT.replace("SHUTDOWN", "5.0").replace("COUNT", "0")
    proc = subprocess.run([sys.executable, "-c", script], env=env_for(inbox), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout.strip()) < 0.5
    assert proc.stderr == ""


def test_spool_keeps_logs_across_an_outage_and_a_restart(inbox: Inbox, tmp_path: Path) -> None:
    spool = str(tmp_path / "outage.sqlite")
    inbox.refuse()
    script = textwrap.dedent(
        """
        import logging, sys
        from sendcloud_logging import SendcloudHandler
        handler = SendcloudHandler(base_url="https://shop.example", spool_path=sys.argv[1], shutdown_timeout=0.5)
        logging.getLogger().addHandler(handler)
        for i in range(4):
            logging.error("kept %d", i)
        """
    )
    first = subprocess.run([sys.executable, "-c", script, spool], env=env_for(inbox), capture_output=True,
                           text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "stay in the spool" in first.stderr
    inbox.accept()
    second = subprocess.run([sys.executable, "-c", RESTART_SCRIPT, spool], env=env_for(inbox),
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    logs = inbox.logs(9)  # one problem seen four times: the first log, then the summary of the other three
    assert sorted(log["exception"].split(" (+")[0] for log in logs) == ["kept 0", "kept 3"]
    assert sum(represented(log) for log in logs) == 4


def test_refused_credentials_keep_spooled_logs_for_a_later_process(
    inbox: Inbox, tmp_path: Path, make_handler: Callable[..., SendcloudHandler], capfd: pytest.CaptureFixture[str]
) -> None:
    spool = str(tmp_path / "auth.sqlite")
    wrong = make_handler(secret_key="rotated-away", spool_path=spool, summary_window=0, shutdown_timeout=0.5)
    log = logging.getLogger("auth")
    log.propagate = False
    log.addHandler(wrong)
    for i in range(3):
        log.error("waits %d", i)
    assert wrong.flush(0.5) is False  # the rows wait for credentials that work: not dropped, not settled
    wrong.close()
    log.removeHandler(wrong)
    err = capfd.readouterr().err
    assert err.count("refused the credentials") == 1
    assert "3 log(s) stay in the spool" in err
    assert wrong.stats()["dropped_total"] == 0
    assert inbox.count() == 0
    fixed = make_handler(spool_path=spool, summary_window=0)  # the next deploy, with the new key
    assert fixed.flush(10)
    assert sorted(log["exception"] for log in inbox.logs()) == [f"waits {i}" for i in range(3)]


SHARED_SPOOL_SCRIPT = """
import logging, sys
from sendcloud_logging import SendcloudHandler
handler = SendcloudHandler(base_url="https://shop.example", spool_path=sys.argv[1], summary_window=0,
                           rate_limit_per_minute=None)
log = logging.getLogger("app")
log.addHandler(handler)
for i in range(150):
    log.error("worker %s record %d", sys.argv[2], i)
assert handler.flush(60), handler.stats()
"""


def test_processes_sharing_a_spool_send_each_row_once(inbox: Inbox, tmp_path: Path) -> None:
    spool = str(tmp_path / "shared.sqlite")
    inbox.latency = 0.002  # slow enough that the workers' senders overlap on the same rows
    procs = [
        subprocess.Popen([sys.executable, "-c", SHARED_SPOOL_SCRIPT, spool, str(n)], env=env_for(inbox),
                         stderr=subprocess.PIPE, text=True)
        for n in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
    received = Counter(log["exception"] for log in inbox.logs(9))
    expected = {f"worker {n} record {i}" for n in range(3) for i in range(150)}
    assert set(received) == expected
    assert max(received.values()) == 1  # no row went out twice


FORK_STORM_SCRIPT = """
import logging, multiprocessing, sys
from sendcloud_logging import SendcloudHandler
handler = SendcloudHandler(base_url="https://shop.example", summary_window=0, rate_limit_per_minute=None)
log = logging.getLogger("app")
log.addHandler(handler)

def child(n):
    log.error("child %d", n)
    return handler.flush(20)

if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    for i in range(40):
        log.error("parent %d", i)  # the worker is busy (and holds its locks now and then) while we fork
    with ctx.Pool(4) as pool:
        results = pool.map(child, range(12))
    assert all(results), results
    assert handler.flush(20)
"""


def test_forking_while_the_worker_is_busy_never_deadlocks(inbox: Inbox, tmp_path: Path) -> None:
    inbox.latency = 0.01
    script = tmp_path / "fork_storm.py"
    script.write_text(FORK_STORM_SCRIPT)
    proc = subprocess.run([sys.executable, str(script)], env=env_for(inbox), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    received = Counter(log["exception"] for log in inbox.logs(9))
    assert received == Counter([f"parent {i}" for i in range(40)] + [f"child {n}" for n in range(12)])


def test_real_tls_an_untrusted_api_is_retried_and_a_trusted_one_is_read(
    shop: Shop, capfd: pytest.CaptureFixture[str]
) -> None:
    """The Shop's TLS port stands in for the API: its self-signed certificate fails, unless it is trusted."""
    record = logging.makeLogRecord({"msg": "over TLS", "levelno": logging.ERROR, "levelname": "ERROR"})
    common: dict[str, Any] = {
        "integration_id": INTEGRATION_ID, "public_key": PUBLIC_KEY, "secret_key": SECRET_KEY,
        "api_url": f"{shop.https_url}/api/v3", "base_url": "https://shop.example", "summary_window": 0,
        "max_retries": 1, "max_backoff": 0.01, "breaker_threshold": 10,
    }
    untrusted = SendcloudHandler(**common)
    trusted = SendcloudHandler(**common, verify=CERT_PATH)
    try:
        untrusted.handle(record)
        assert untrusted.flush(10)
        stats = untrusted.stats()
        assert stats["dropped"] == {"retries_exhausted": 1}  # a TLS failure is a transport error: retried
        assert stats["retried"] == 1
        assert "TLS certificate" in capfd.readouterr().err
        trusted.handle(record)
        assert trusted.flush(10)
        # The handshake passed and the answer was read: the Shop knows no such API route (404).
        assert trusted.stats()["dropped"] == {"unknown_integration": 1}
    finally:
        untrusted.close()
        trusted.close()

