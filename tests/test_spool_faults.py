"""Spool faults fall back, never drop everything; an unusable spool_path is refused at construction; files
are private.

A failing disk is made through the spool's ``on_connect`` seam on real SQLite connections: a page limit (disk
full), ``query_only`` (a read-only file), a schema made unreadable (corrupt pages), a closed connection; and
for a running handler, the file deleted under it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from sendcloud_logging import ConfigurationError, SendcloudHandler
from sendcloud_logging._delivery import spool as spool_module
from sendcloud_logging._delivery.spool import SpoolOutbox, spool_file
from sendcloud_logging._types import Drop
from sendcloud_logging.inbox import Inbox
from tests.conftest import INTEGRATION_ID, PUBLIC_KEY, SECRET_KEY, SHOP


class Disk:
    """Every connection the spool opens, and a switch that breaks them all the same way."""

    def __init__(self) -> None:
        self.conns: list[sqlite3.Connection] = []
        self.kind = ""

    def on_connect(self, conn: sqlite3.Connection) -> None:
        self.conns.append(conn)
        if self.kind:
            self._apply(conn)

    def fail(self, kind: str) -> None:
        self.kind = kind
        for conn in list(self.conns):
            self._apply(conn)

    def heal(self) -> None:
        for conn in list(self.conns):
            if self.kind == "disk_full":
                conn.execute("PRAGMA max_page_count = 1073741823")
                conn.execute("DELETE FROM filler")
            elif self.kind == "read_only":
                conn.execute("PRAGMA query_only = OFF")
        self.kind = ""

    def _apply(self, conn: sqlite3.Connection) -> None:
        if self.kind == "disk_full":  # no page left, and no free page inside the file either
            conn.execute("CREATE TABLE IF NOT EXISTS filler (x BLOB)")
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")
            with contextlib.suppress(sqlite3.OperationalError):
                while True:
                    conn.execute("INSERT INTO filler VALUES (zeroblob(500))")
        elif self.kind == "read_only":
            conn.execute("PRAGMA query_only = ON")
        elif self.kind == "corrupt":
            conn.execute("PRAGMA writable_schema = ON")
            conn.execute("UPDATE sqlite_master SET sql = 'CREATE TABLE spool (' WHERE name = 'spool'")
            conn.execute("PRAGMA writable_schema = OFF")
            conn.close()  # the next statement of the spool fails, as on a damaged page
        elif self.kind == "closed":
            conn.close()


FAULTS = ["disk_full", "read_only", "corrupt", "closed"]
BIG = "x" * 5000  # more than a page: every row needs new pages


def payload(i: int) -> dict[str, Any]:
    return {"base_url": SHOP, "exception": f"e{i} {BIG}"}


@pytest.fixture
def disk() -> Disk:
    return Disk()


@pytest.fixture
def spool(tmp_path: Path, disk: Disk) -> Iterator[SpoolOutbox]:
    box = SpoolOutbox(str(tmp_path / "spool.sqlite"), 50_000_000, 3600, on_connect=disk.on_connect)
    yield box
    box.close()


def drain(box: SpoolOutbox) -> list[str]:
    sent = []
    while True:
        entry = box.claim()
        if entry is None:
            return sent
        sent.append(entry.payload["exception"].split()[0])
        box.done(entry)


@pytest.mark.parametrize("kind", FAULTS)
def test_a_failing_disk_sends_logs_to_memory_and_says_so_once(
    kind: str, spool: SpoolOutbox, disk: Disk, capfd: pytest.CaptureFixture[str]
) -> None:
    for i in range(5):
        spool.add(1, payload(i), time.time())
        assert spool.counts_as == "spooled"
    disk.fail(kind)
    for i in range(5, 405):
        spool.add(1, payload(i), time.time())
        assert spool.counts_as == "spool_error"
    assert spool.unsettled() >= 400 and spool.records() >= 400  # flush() waits for them, close() counts them
    sent = drain(spool)
    assert set(sent) >= {f"e{i}" for i in range(5, 405)}  # none of the 400 is lost
    err = capfd.readouterr().err
    assert err.count("the disk spool") == 1, err
    assert "spool_error" in err


@pytest.mark.parametrize("kind", ["disk_full", "read_only"])
def test_the_disk_is_used_again_once_it_works(kind: str, spool: SpoolOutbox, disk: Disk) -> None:
    disk.fail(kind)
    spool.add(1, payload(0), time.time())
    assert spool.counts_as == "spool_error"
    disk.heal()
    spool.add(1, payload(1), time.time())
    assert spool.counts_as == "spooled"
    assert sorted(drain(spool)) == ["e0", "e1"]


def test_a_summary_in_memory_folds_there(spool: SpoolOutbox, disk: Disk) -> None:
    disk.fail("disk_full")
    ref = spool.add(1, payload(0), time.time(), hold_for=60)
    assert spool.fold(ref, time.time())
    assert spool.counts_as == "spool_error"
    spool.release_waiting()
    entry = spool.claim()
    assert entry is not None and entry.more == 1


def test_when_memory_is_full_too_the_rest_is_counted_as_spool_error(tmp_path: Path, disk: Disk) -> None:
    box = SpoolOutbox(str(tmp_path / "s.sqlite"), 50_000_000, 3600, on_connect=disk.on_connect, fallback_entries=3)
    try:
        disk.fail("read_only")
        for i in range(3):
            box.add(1, payload(i), time.time())
        with pytest.raises(Drop) as dropped:
            box.add(1, payload(3), time.time())
        assert dropped.value.reason == "spool_error"
        assert box.close_out().lost == 3  # memory dies with the process: close() reports them
    finally:
        box.close()


def test_a_row_whose_delete_failed_is_not_sent_again(spool: SpoolOutbox, disk: Disk) -> None:
    spool.add(1, payload(0), time.time())
    entry = spool.claim()
    assert entry is not None
    disk.fail("read_only")
    spool.done(entry)  # the API took it, the disk refused the delete
    disk.heal()
    assert spool.claim() is None
    assert len(spool) == 0


def test_a_retry_the_disk_refused_is_claimed_again_after_its_lease(tmp_path: Path, disk: Disk) -> None:
    clock = [1_000.0]
    box = SpoolOutbox(str(tmp_path / "s.sqlite"), 50_000_000, 3600, lease=10, clock=lambda: clock[0],
                      on_connect=disk.on_connect)
    try:
        box.add(1, payload(0), clock[0])
        entry = box.claim()
        assert entry is not None
        disk.fail("read_only")
        box.retry(entry, 0.0)
        disk.heal()
        assert box.claim() is None  # still within its lease
        clock[0] += 11
        again = box.claim()
        assert again is not None and again.payload["exception"].startswith("e0")
    finally:
        box.close()


def test_a_damaged_row_does_not_block_the_rows_behind_it(spool: SpoolOutbox) -> None:
    for i in range(3):
        spool.add(1, payload(i), time.time())
    conn = sqlite3.connect(spool.path)
    conn.execute("UPDATE spool SET payload = '{broken' WHERE id = 1")
    conn.commit()
    conn.close()
    assert drain(spool) == ["e1", "e2"]


# --- a running handler ------------------------------------------------------------------------------------


def run_handler(inbox: Inbox, path: Path, n: int, middle: Callable[[], None], **kwargs: Any) -> dict[str, Any]:
    handler = SendcloudHandler(
        integration_id=INTEGRATION_ID, public_key=PUBLIC_KEY, secret_key=SECRET_KEY, api_url=inbox.api_url,
        base_url=SHOP, spool_path=str(path), summary_window=0, rate_limit_per_minute=None, **kwargs,
    )
    log = logging.getLogger(f"tests.spoolfaults.{id(handler)}")
    log.propagate = False
    log.addHandler(handler)
    try:
        for i in range(n // 2):
            log.error("first half %d", i)
        assert handler.flush(20)
        middle()
        for i in range(n - n // 2):
            log.error("second half %d", i)
        assert handler.flush(20)
        return handler.stats()
    finally:
        log.removeHandler(handler)
        handler.close()


def test_a_handler_whose_disk_fills_up_still_delivers_everything(
    inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    disk = Disk()
    monkeypatch.setattr("sendcloud_logging._delivery.spool.SpoolOutbox", functools.partial(SpoolOutbox, on_connect=disk.on_connect))
    stats = run_handler(inbox, tmp_path / "spool.sqlite", 400, lambda: disk.fail("disk_full"))
    assert inbox.count() == 400
    assert stats["sent"] == 400 and stats["dropped_total"] == 0
    # the sender frees pages as it deletes sent rows, so some of the second half still find room on disk
    assert stats["spool_error"] > 0 and stats["spool_error"] + stats["spooled"] == 400
    assert capfd.readouterr().err.count("the disk spool") == 1
    assert "spool_error" not in stats["dropped"]


def test_a_handler_whose_spool_file_is_deleted_still_delivers_everything(inbox: Inbox, tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite"

    def delete() -> None:
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            name.unlink(missing_ok=True)

    stats = run_handler(inbox, path, 100, delete)
    assert inbox.count() == 100
    assert stats["sent"] == 100 and stats["dropped_total"] == 0


# --- an unusable spool_path -------------------------------------------------------------------------------


def bad_paths(tmp_path: Path) -> dict[str, Path]:
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database, just text" * 200)
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    fifo = tmp_path / "pipe.sqlite"
    os.mkfifo(fifo)  # reading its header would wait for ever
    return {
        "a pipe": fifo,
        "a device": Path(os.devnull),
        "a file as the directory": text / "spool.sqlite",
        "missing directory": tmp_path / "nowhere" / "spool.sqlite",
        "a directory": tmp_path,
        "not a database": garbage,
        "a text file": text,
    }


@pytest.mark.parametrize("case", ["missing directory", "a directory", "not a database", "a text file", "a pipe",
                                  "a device", "a file as the directory"])
def test_an_unusable_spool_path_is_refused_naming_spool_path(case: str, tmp_path: Path) -> None:
    path = bad_paths(tmp_path)[case]
    before = open_files()
    with pytest.raises(ConfigurationError) as info:
        SendcloudHandler(integration_id=1, public_key="pk", secret_key="sk", spool_path=str(path))
    assert info.value.key == "spool_path"
    assert str(path) in str(info.value)
    assert open_files() <= before  # nothing left open
    assert not (tmp_path / "nowhere").exists()


def test_a_new_or_empty_file_is_a_good_spool(tmp_path: Path) -> None:
    assert spool_file("spool_path", str(tmp_path / "new.sqlite")) == str(tmp_path / "new.sqlite")
    (tmp_path / "empty.sqlite").write_bytes(b"")
    assert spool_file("spool_path", str(tmp_path / "empty.sqlite")) == str(tmp_path / "empty.sqlite")
    assert spool_file("spool_path", None) is None


def test_a_spool_that_cannot_open_raises_configuration_error_and_closes_its_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "later.sqlite"
    path.write_bytes(b"garbage" * 1000)  # after the settings checked it: a race with another program
    before = open_files()
    with pytest.raises(ConfigurationError) as info:
        SpoolOutbox(str(path), 10_000_000, 3600)
    assert info.value.key == "spool_path"
    assert open_files() <= before


def test_a_refused_spool_path_leaves_nothing_that_fails_at_exit(tmp_path: Path) -> None:
    for case, path in bad_paths(tmp_path).items():
        script = (
            "import sendcloud_logging as s\n"
            "try:\n"
            f"    s.SendcloudHandler(integration_id=1, public_key='pk', secret_key='sk', spool_path={str(path)!r})\n"
            "except s.ConfigurationError as exc:\n"
            "    print('refused', exc.key)\n"
        )
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        assert done.stdout.strip() == "refused spool_path", (case, done.stdout, done.stderr)
        assert done.stderr == "", (case, done.stderr)


def test_an_uncaught_refusal_prints_one_traceback_only(tmp_path: Path) -> None:
    script = (
        "import sendcloud_logging as s\n"
        f"s.SendcloudHandler(integration_id=1, public_key='pk', secret_key='sk', spool_path={str(tmp_path)!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.count("Traceback") == 1, done.stderr
    assert "ConfigurationError: spool_path:" in done.stderr
    assert "_worker" not in done.stderr


def test_a_spool_file_of_an_older_version_gains_the_new_columns(tmp_path: Path) -> None:
    path = str(tmp_path / "old.sqlite")
    conn = sqlite3.connect(path)
    conn.executescript(spool_module.SCHEMA)
    conn.execute("INSERT INTO spool (integration_id, payload, created) VALUES ('7', '{\"base_url\": \"x\"}', ?)",
                 (time.time(),))
    conn.commit()
    conn.close()
    box = SpoolOutbox(path, 10_000_000, 3600)
    try:
        entry = box.claim()
        assert entry is not None and entry.integration_id == 7
        box.retry(entry, 0.0)
        assert box.claim() is not None
    finally:
        box.close()


def open_files() -> set[str]:
    """Paths this process holds open (Linux: /proc/self/fd)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return {f for f in found if f.startswith("/") and not f.startswith(("/dev", "/proc"))}


# --- private files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o002])
def test_the_spool_and_its_wal_and_shm_are_created_mode_0600(umask: int, tmp_path: Path) -> None:
    path = tmp_path / f"private-{umask:o}.sqlite"
    old = os.umask(umask)
    try:
        box = SpoolOutbox(str(path), 10_000_000, 3600)
        box.add(1, payload(0), time.time())
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        modes = {f.name: stat.S_IMODE(os.stat(f).st_mode) for f in files}
        box.close()
    finally:
        os.umask(old)
    assert modes == {f.name: 0o600 for f in files}


def test_the_settings_check_creates_the_file_private(tmp_path: Path) -> None:
    path = tmp_path / "checked.sqlite"
    old = os.umask(0)
    try:
        spool_file("spool_path", str(path))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_the_faults_are_sqlites_and_the_file_systems() -> None:
    assert (sqlite3.Error, OSError) == spool_module.FAULTS


@pytest.mark.parametrize("case", ["missing directory", "a directory", "not a database"])
def test_an_unusable_spool_path_is_one_line_and_exit_stays_quiet(case: str, tmp_path: Path) -> None:
    path = bad_paths(tmp_path)[case]
    code = (
        "import sys\n"
        "from sendcloud_logging import SendcloudHandler\n"
        "try:\n"
        "    SendcloudHandler(integration_id=1, public_key='pk', secret_key='sk', spool_path=sys.argv[1])\n"
        "except ValueError as exc:\n"
        "    print(exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENDCLOUD_")}
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 0
    (line,) = done.stdout.splitlines()
    assert line.startswith(f"spool_path: {str(path)!r} ")
    assert done.stderr == ""  # no second traceback at exit from a half-built handler
