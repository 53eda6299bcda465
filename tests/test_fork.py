"""Children of multiprocessing (fork start method): ``Process`` and ``Pool`` workers deliver or report.

They end with ``os._exit``, so ``logging.shutdown()`` never runs there; ``Pool.terminate()`` (which ``with
Pool(...)`` calls) ends its workers with SIGTERM. Each scenario runs in a child interpreter of its own, as an
application would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections import Counter

import pytest

from sendcloud_logging._delivery import fork
from sendcloud_logging.inbox import Inbox

from .conftest import PUBLIC_KEY, SECRET_KEY

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import logging, multiprocessing, sys, time
    from sendcloud_logging import SendcloudHandler
    handler = SendcloudHandler(base_url="https://shop.example", summary_window=0, rate_limit_per_minute=None,
                               shutdown_timeout=float(sys.argv[1]))
    log = logging.getLogger("app")
    log.addHandler(handler)

    def child(n):
        for i in range(15):
            log.error("process %d record %d", n, i)

    def task(n):
        log.error("task %d", n)
        return n

    def sleeper(ready):
        for i in range(5):
            log.error("terminated %d", i)
        ready.set()
        time.sleep(60)  # until SIGTERM

    if __name__ == "__main__":
        ctx = multiprocessing.get_context("fork")
        process = ctx.Process(target=child, args=(1,))
        process.start()
        process.join()
        with ctx.Pool(2) as pool:  # leaving it terminates the workers: SIGTERM
            assert pool.map(task, range(10)) == list(range(10))
        pool = ctx.Pool(2)
        assert pool.map(task, range(10, 20)) == list(range(10, 20))
        pool.close()  # the workers' own end: multiprocessing's finalizers
        pool.join()
        ready = ctx.Event()
        terminated = ctx.Process(target=sleeper, args=(ready,))
        terminated.start()
        assert ready.wait(20)
        terminated.terminate()  # SIGTERM while it sleeps, its records still on their way
        terminated.join()
        print(process.exitcode, terminated.exitcode, flush=True)
    """
)


def run(inbox: Inbox, shutdown_timeout: float) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SENDCLOUD_INTEGRATION_ID="41", SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY,
               SENDCLOUD_SECRET_KEY=SECRET_KEY, SENDCLOUD_API_URL=inbox.api_url)
    return subprocess.run([sys.executable, "-c", SCRIPT, str(shutdown_timeout)], env=env, capture_output=True,
                          text=True, timeout=120)


def test_process_and_pool_workers_deliver_what_they_logged(inbox: Inbox) -> None:
    inbox.latency = 0.05  # each child still holds records when its target returns or SIGTERM comes
    proc = run(inbox, 10)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "-15"]  # the terminated one still ends by SIGTERM
    received = Counter(log["exception"] for log in inbox.logs(41))
    expected = [f"process 1 record {i}" for i in range(15)] + [f"task {n}" for n in range(20)]
    expected += [f"terminated {i}" for i in range(5)]
    assert received == Counter(expected)  # every one, once


def test_children_that_cannot_deliver_report_a_count_within_shutdown_timeout(inbox: Inbox) -> None:
    inbox.refuse()
    proc = run(inbox, 0.5)
    assert proc.returncode == 0, proc.stderr
    lost = [int(n) for n in re.findall(r"(\d+) log\(s\) were not delivered: shutdown_timeout of 0.5 s", proc.stderr)]
    # The Process's 15, each Pool worker's share of 10 tasks, twice (SIGTERM, then its own end), and the
    # terminated Process's 5; the parent, which logged nothing, says nothing.
    assert sum(lost) == 15 + 10 + 10 + 5, proc.stderr
    assert len(lost) <= 1 + 2 + 2 + 1


def test_only_children_of_multiprocessing_register() -> None:
    assert fork.in_multiprocessing_child() is False  # this process, an os.fork() child or gunicorn's is not one
    assert fork.at_child_exit(lambda: None) is False
