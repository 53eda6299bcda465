"""The pytest plugin costs a suite that never uses it next to nothing: loading it imports no handler, no requests.

The plugin (``sendcloud_logging.testing``) is loaded by every pytest run where the package is installed, through
its ``pytest11`` entry point, so its module imports only the standard library and pytest; the handler, requests,
the Inbox, jsonschema and the Shop come when a fixture is used. ``-p no:sendcloud_logging`` does not load it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import sendcloud_logging

from .conftest import SPARE_PLUGINS

PACKAGE_DIR = str(Path(sendcloud_logging.__file__).resolve().parent)
HEAVY = ("requests", "urllib3", "jsonschema", "cryptography", "pythonjsonlogger", "httpx", "aiohttp")


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_plugin_module_imports_nothing_of_the_package_and_nothing_heavy() -> None:
    """The module's own imports, apart from what the package's ``__init__`` may load."""
    out = _run(f"""
        import sys, types
        package = types.ModuleType("sendcloud_logging")   # the package without running its __init__
        package.__path__ = [{PACKAGE_DIR!r}]
        sys.modules["sendcloud_logging"] = package
        import sendcloud_logging.testing
        heavy = {HEAVY!r}
        print(sorted(m for m in sys.modules if m.split(".")[0] in heavy
                     or (m.startswith("sendcloud_logging.") and m != "sendcloud_logging.testing")))
    """)
    assert out == "[]"


def test_the_plugin_adds_no_module_beyond_the_package_itself() -> None:
    out = _run("""
        import sys
        import pytest, sendcloud_logging
        before = set(sys.modules)
        import sendcloud_logging.testing
        print(sorted(set(sys.modules) - before))
    """)
    assert out == "['sendcloud_logging.testing']"


def test_loading_the_plugin_with_the_package_imports_neither_requests_nor_the_handler() -> None:
    """The package's ``__init__`` names the handler and the client lazily: the plugin pays for neither."""
    out = _run(f"""
        import sys
        import sendcloud_logging.testing
        heavy = {HEAVY!r}
        print(sorted(m for m in sys.modules if m.split(".")[0] in heavy
                     or m in ("sendcloud_logging.handler", "sendcloud_logging.client")))
    """)
    assert out == "[]"


def test_the_lazy_names_are_the_package_s_own_once_asked_for() -> None:
    out = _run("""
        import sys
        import sendcloud_logging
        assert "requests" not in sys.modules
        from sendcloud_logging import SendcloudHandler, SendcloudClient, payload_from_record
        print(SendcloudHandler.__module__, SendcloudClient.__module__, payload_from_record.__module__,
              "requests" in sys.modules)
    """)
    assert out == "sendcloud_logging sendcloud_logging sendcloud_logging True"


USER_TEST = '''
import os
import sys
from pathlib import Path


def test_trivial():
    Path(os.environ["PLUGIN_SEEN"]).write_text(str("sendcloud_logging.testing" in sys.modules))
'''


def test_p_no_sendcloud_logging_does_not_load_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "test_trivial.py").write_text(USER_TEST, encoding="utf-8")
    seen = tmp_path / "seen"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDCLOUD_", "PYTEST_"))}
    env["PLUGIN_SEEN"] = str(seen)
    base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SPARE_PLUGINS, str(tmp_path)]
    loaded = {}
    for name, extra in (("default", []), ("disabled", ["-p", "no:sendcloud_logging"])):
        result = subprocess.run([*base, *extra], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        loaded[name] = seen.read_text()
    assert loaded == {"default": "True", "disabled": "False"}
