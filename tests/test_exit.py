"""Exit explained, in real child processes: the line before a long wait, Ctrl-C during it, no ResourceWarning.

The rules are ``_delivery/exit.py``'s; reconfiguration is ``test_dictconfig.py``'s, a dropped handler
``test_handler.py``'s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sendcloud_logging.inbox import Inbox

from .conftest import PUBLIC_KEY, SECRET_KEY, LineReader

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from sendcloud_logging import SendcloudHandler
    log = logging.getLogger("app")
    log.addHandler(SendcloudHandler(base_url="https://shop.example", shutdown_timeout=float(sys.argv[1]),
                                    max_retries=1000, max_backoff=0.2))
    for i in range(3):
        log.error("record %d", i)  # one log and a storm summary of the other two: three records
    print("logged", flush=True)
    """
)


def env_for(inbox: Inbox) -> dict[str, str]:
    return dict(
        os.environ,
        SENDCLOUD_INTEGRATION_ID="21",
        SENDCLOUD_PUBLIC_KEY=PUBLIC_KEY,
        SENDCLOUD_SECRET_KEY=SECRET_KEY,
        SENDCLOUD_API_URL=inbox.api_url,
        PYTHONUNBUFFERED="1",
    )


def test_ctrl_c_during_the_exit_wait_drops_with_a_count_and_no_traceback(inbox: Inbox) -> None:
    inbox.refuse()  # nothing but the deadline or Ctrl-C ends the wait: 60 s of retries
    with subprocess.Popen([sys.executable, "-c", SCRIPT, "60"], env=env_for(inbox), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stderr is not None
            err = LineReader(proc.stderr)
            # Said before the wait, with the configured timeout, once it lasts beyond half a second.
            err.expect(r"^sendcloud-logging: delivering 3 log\(s\) to Sendcloud, up to 60 s \(Ctrl-C drops them\)$")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=20) == 0
            text = err.text()
        finally:
            proc.kill()
    assert "sendcloud-logging: 3 log(s) were not delivered: interrupted (Ctrl-C)\n" in text
    assert "Traceback" not in text
    assert "KeyboardInterrupt" not in text
    assert text.count("\n") == 2, "".join(err.seen)  # the announcement and the count: nothing else


def test_the_exit_line_names_the_configured_shutdown_timeout(inbox: Inbox) -> None:
    inbox.refuse()
    proc = subprocess.run([sys.executable, "-c", SCRIPT, "0.8"], env=env_for(inbox), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "delivering 3 log(s) to Sendcloud, up to 0.8 s (Ctrl-C drops them)" in proc.stderr
    assert "3 log(s) were not delivered: shutdown_timeout of 0.8 s passed" in proc.stderr


def test_a_quick_exit_says_nothing_and_leaves_no_socket_open(inbox: Inbox) -> None:
    """Under ``-X dev`` an unclosed kept-alive socket is a ResourceWarning; here it would be an error."""
    proc = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", SCRIPT, "5"],
        env=env_for(inbox), capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no announcement (the wait was short), no warning
    assert inbox.count(21) == 2  # the first record, and one summary of the other two


RELOAD_SCRIPT = textwrap.dedent(
    """
    import logging.config, os
    config = {
        "version": 1,
        "handlers": {"sendcloud": {"class": "sendcloud_logging.SendcloudHandler", "base_url": "https://shop.example",
                                   "summary_window": 0}},
        "root": {"handlers": ["sendcloud"]},
    }
    logging.config.dictConfig(config)
    for i in range(10):
        logging.error("before the reload %d", i)
    logging.config.dictConfig(config)  # the old handler's worker delivers after this returns...
    """  # ...and the process exits right away: exit waits for it
)


def test_exit_right_after_a_reload_waits_for_the_old_handler(inbox: Inbox) -> None:
    inbox.latency = 0.05  # all ten are still on their way when the process ends
    proc = subprocess.run([sys.executable, "-c", RELOAD_SCRIPT], env=env_for(inbox), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert inbox.count(21) == 10
    assert "not delivered" not in proc.stderr


def test_ctrl_c_while_exit_waits_for_an_old_handler_drops_with_a_count(inbox: Inbox) -> None:
    inbox.refuse()
    script = RELOAD_SCRIPT.replace('"summary_window": 0', '"summary_window": 0, "shutdown_timeout": 60')
    with subprocess.Popen([sys.executable, "-c", script], env=env_for(inbox), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stderr is not None
            err = LineReader(proc.stderr)
            err.expect(r"^sendcloud-logging: delivering 10 log\(s\) to Sendcloud, up to \d+ s \(Ctrl-C drops them\)$")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=20) == 0
            text = err.text()
        finally:
            proc.kill()
    assert "sendcloud-logging: 10 log(s) were not delivered: interrupted (Ctrl-C)\n" in text
    assert "Traceback" not in text


FORK_AFTER_RELOAD = textwrap.dedent(
    """
    import logging.config, os, sys, time
    config = {
        "version": 1,
        "handlers": {"sendcloud": {"class": "sendcloud_logging.SendcloudHandler", "base_url": "https://shop.example",
                                   "shutdown_timeout": 30}},
        "root": {"handlers": ["sendcloud"]},
    }
    logging.config.dictConfig(config)
    logging.error("held by the old handler")
    logging.config.dictConfig(config)  # the old worker goes on for up to 30 s: the API is down
    began = time.monotonic()
    pid = os.fork()
    if pid == 0:
        sys.exit(0)  # a normal exit, atexit hooks and all: the parent's close is not the child's to wait for
    _, status = os.waitpid(pid, 0)
    print(f"{time.monotonic() - began:.1f}", flush=True)
    os._exit(0)  # the parent's own wait is not what this test is about
    """
)


def test_a_forked_child_does_not_wait_at_exit_for_its_parents_closes(inbox: Inbox) -> None:
    inbox.refuse()
    proc = subprocess.run([sys.executable, "-c", FORK_AFTER_RELOAD], env=env_for(inbox), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) < 15  # far below the 30 s it waited for a close that is not in this process


def test_with_a_spool_the_line_says_ctrl_c_leaves_them_there(inbox: Inbox, tmp_path: Path) -> None:
    inbox.refuse()
    script = SCRIPT.replace("max_backoff=0.2)", f"max_backoff=0.2, spool_path={str(tmp_path / 'spool.db')!r})")
    proc = subprocess.run([sys.executable, "-c", script, "0.8"], env=env_for(inbox), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "up to 0.8 s (Ctrl-C leaves them in the spool)" in proc.stderr
    assert "stay in the spool and will be sent by the next process" in proc.stderr
