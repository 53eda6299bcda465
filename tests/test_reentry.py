"""Records logged from inside the handler's own work: handled or counted (``own_thread``), never waited on.

The signal handler that logs at the worst moment is played by a trace function: it logs at every line the
handler's code runs on the caller's thread, so every moment a lock is held is tried, deterministically.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from sendcloud_logging import SendcloudHandler
from sendcloud_logging._capture.reentry import MAX_DEPTH, Reentry
from sendcloud_logging.inbox import Inbox

from .conftest import PUBLIC_KEY, SECRET_KEY, AppLogger, make_record, within


def settled(handler: SendcloudHandler) -> dict[str, Any]:
    assert handler.flush(10)
    return handler.stats()


def test_a_record_logged_inside_run_is_handled_after_it() -> None:
    order: list[str] = []
    counted: list[int] = []
    reentry = Reentry(counted.append)

    def handle(record: logging.LogRecord) -> str:
        order.append(f"start {record.msg}")
        if record.msg == "outer":
            reentry.run(make_record("nested"), handle)  # as a signal handler or finalizer would, mid-handle
        order.append(f"end {record.msg}")
        return f"handled {record.msg}"

    assert reentry.run(make_record("outer"), handle) == "handled outer"
    assert order == ["start outer", "end outer", "start nested", "end nested"]  # never inside one another
    assert counted == []


def test_records_causing_records_end_after_max_depth_levels_counted() -> None:
    counted: list[int] = []
    reentry = Reentry(counted.append)
    handled: list[int] = []

    def handle(record: logging.LogRecord) -> None:  # each record causes one more, for ever
        handled.append(record.args[0] if isinstance(record.args, tuple) else 0)
        reentry.run(make_record("again %d", len(handled)), handle)

    reentry.run(make_record("again %d", 0), handle)
    assert handled == list(range(1 + MAX_DEPTH))
    assert counted == [1]


def test_a_keyboard_interrupt_mid_handle_counts_what_waited_aside() -> None:
    counted: list[int] = []
    reentry = Reentry(counted.append)

    def handle(record: logging.LogRecord) -> None:
        reentry.run(make_record("aside 1"), handle)
        reentry.run(make_record("aside 2"), handle)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reentry.run(make_record("outer"), handle)
    assert counted == [2]
    assert reentry.run(make_record("next"), lambda r: r.msg) == "next"  # the thread is not left "inside"


def test_a_formatter_that_logs_is_delivered_and_its_loop_counted(app_logger: AppLogger) -> None:
    log, handler = app_logger(summary_window=0)

    class Chatty(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            log.error("formatting %s", record.getMessage())  # re-enters the handler on this thread
            return super().format(record)

    handler.setFormatter(Chatty())
    within(10, lambda: log.error("the record"))
    stats = settled(handler)
    # The record, the one its formatting caused, the one that one caused; the next is counted, not handled.
    assert stats["sent"] == 1 + MAX_DEPTH
    assert stats["dropped"] == {"own_thread": 1}


def test_a_message_argument_whose_str_logs_never_recurses(app_logger: AppLogger) -> None:
    log, handler = app_logger(summary_window=0)

    class Loud:
        def __str__(self) -> str:
            log.error("str of %s", self)  # each str logs a record whose message needs another str
            return "loud"

    within(10, lambda: log.error("order %s", Loud()))
    stats = settled(handler)
    assert stats["queued"] == 2 + MAX_DEPTH  # every record accepted counts, the ones counted own_thread too
    assert stats["dropped_total"] == stats["dropped"]["own_thread"]
    assert stats["sent"] + sum(stats["dropped"].values()) == stats["queued"]


def test_records_of_hooks_the_worker_runs_are_counted_own_thread(
    app_logger: AppLogger, capfd: pytest.CaptureFixture[str]
) -> None:
    def before_send(payload: dict[str, Any], record: logging.LogRecord) -> dict[str, Any]:
        logging.getLogger(record.name).error("seen by the hook")  # on the worker's thread: would loop
        return payload

    log, handler = app_logger(summary_window=0, before_send=before_send)
    for i in range(3):
        log.error("record %d", i)
    stats = settled(handler)
    assert stats["sent"] == 3
    assert stats["dropped"] == {"own_thread": 3}  # counted, never silently discarded
    assert capfd.readouterr().err.count("reason 'own_thread'") == 1


TRACED_SCRIPT = textwrap.dedent(
    """
    import json, logging, os, sys, threading
    import sendcloud_logging
    from sendcloud_logging import SendcloudHandler
    PACKAGE = os.path.dirname(sendcloud_logging.__file__)
    handler = SendcloudHandler(base_url="https://shop.example", summary_window=0, rate_limit_per_minute=None,
                               queue_size=1000)
    log = logging.getLogger("app")
    log.addHandler(handler)
    budget, made = [200], [0]

    def tracer(frame, event, arg):
        if not frame.f_code.co_filename.startswith(PACKAGE):
            return None
        if event == "line" and budget[0] > 0:  # the trace function itself is not traced: no recursion here
            budget[0] -= 1
            made[0] += 1
            log.error("interrupting at %s:%d", frame.f_code.co_name, frame.f_lineno)
        return tracer

    def run():
        sys.settrace(tracer)
        try:
            for i in range(60):
                log.error("caller %d", i)
                made[0] += 1
            handler.stats()
        finally:
            sys.settrace(None)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(20)
    if runner.is_alive():  # deadlocked on a lock it holds itself: exit without logging.shutdown(), which would too
        print("deadlock", flush=True)
        os._exit(3)
    assert handler.flush(10)
    print(json.dumps({"made": made[0], "budget": budget[0], "stats": handler.stats()}), flush=True)
    """
)


def test_logging_at_every_line_the_handler_runs_never_deadlocks(inbox: Inbox) -> None:
    """A signal handler or finalizer that logs at any moment of emit() or stats(): whatever lock the
    interrupted frame holds, the nested record is handled or counted, and every record is accounted for."""
    env = dict(os.environ, SENDCLOUD_INTEGRATION_ID="31", SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY,
               SENDCLOUD_SECRET_KEY=SECRET_KEY, SENDCLOUD_API_URL=inbox.api_url)
    proc = subprocess.run([sys.executable, "-c", TRACED_SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    stats = out["stats"]
    assert out["budget"] == 0
    assert stats["queued"] == out["made"]
    assert stats["sent"] + sum(stats["dropped"].values()) == stats["queued"]
    assert inbox.count(31) == stats["sent"]


SIGNAL_SCRIPT = textwrap.dedent(
    """
    import json, logging, os, signal
    from sendcloud_logging import SendcloudHandler
    handler = SendcloudHandler(integration_id=7, public_key="pk", secret_key="sk", api_url="http://127.0.0.1:9/api/v3",
                               base_url="https://shop.example", queue_size=100_000, shutdown_timeout=0.1,
                               summary_window=0)
    log = logging.getLogger("app")
    log.addHandler(handler)
    signals = []

    def on_alarm(signum, frame):  # interrupts the main thread wherever it is: in emit, holding a lock...
        signals.append(1)  # one C call: a signal handler that interrupts this one cannot lose a count
        log.error("from the signal handler")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.0002, 0.0002)
    for i in range(20_000):
        log.error("main %d", i)
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)  # one already pending would log after the count is taken
    stats = handler.stats()
    print(json.dumps({"signals": len(signals), "queued": stats["queued"], "dropped": stats["dropped"]}), flush=True)
    os._exit(0)
    """
)


def test_a_signal_handler_that_logs_at_any_moment_never_deadlocks() -> None:
    proc = subprocess.run([sys.executable, "-c", SIGNAL_SCRIPT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["signals"] > 0
    assert out["queued"] == 20_000 + out["signals"]
    assert set(out["dropped"]) <= {"own_thread"}  # signals that interrupt signal handlers three deep are counted
    assert "Logging error" not in proc.stderr


def test_an_extra_value_whose_str_logs_is_counted_and_its_record_still_sent(app_logger: AppLogger) -> None:
    log, handler = app_logger(summary_window=0)

    class Chatty:
        def __str__(self) -> str:
            log.error("str of an extra")  # wherever the payload is built: handled, or counted own_thread
            return "chatty"

        __repr__ = __str__

    within(10, lambda: log.error("with an extra", extra={"response": {"body": Chatty(), "headers": {}}}))
    stats = settled(handler)
    assert stats["sent"] >= 1
    assert stats["queued"] >= 2  # the nested record is never lost silently: sent, or counted own_thread
    assert stats["sent"] + sum(stats["dropped"].values()) == stats["queued"]
