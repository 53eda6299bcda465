"""The Makefile's install steps: `make demo` installs only the inbox extra; `make test` after it still installs all.

Read through ``make -n`` (what make would run) in a copy with stand-in stamps, so nothing is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _plan(tree: Path, target: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}  # under make test
    result = subprocess.run(["make", "--no-print-directory", "-n", target], cwd=tree, env=env, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in ("Makefile", "setup.cfg", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").touch()
    return tmp_path


def _stamp(tree: Path, name: str) -> None:
    path = tree / ".venv" / name
    path.touch()
    later = (tree / "setup.cfg").stat().st_mtime + 10
    os.utime(path, (later, later))


def test_a_fresh_demo_installs_only_the_inbox_extra(tree: Path) -> None:
    plan = _plan(tree, "demo")
    installs = [line for line in plan.splitlines() if "pip install" in line]
    assert installs == [".venv/bin/python -m pip install --quiet -e '.[inbox]'"]
    assert plan.strip().endswith("sendcloud-logging demo")


def test_test_after_demo_installs_the_test_and_dev_extras(tree: Path) -> None:
    _stamp(tree, ".installed-demo")
    plan = _plan(tree, "test")
    assert "'.[inbox,test,dev]'" in plan
    assert "touch .venv/.installed .venv/.installed-demo" in plan  # so a later demo installs nothing


def test_demo_after_test_installs_nothing(tree: Path) -> None:
    _stamp(tree, ".installed")
    _stamp(tree, ".installed-demo")  # the full install stamps both
    assert "pip" not in _plan(tree, "demo")
