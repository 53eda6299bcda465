"""The distributions are fit for an index: built once per session from this tree, the wheel installed and read back.

``python -m build`` makes the sdist and then the wheel from that sdist, so the sdist is proven to build. The
wheel is installed (``pip install --target``, no dependencies) and its metadata read with ``importlib.metadata``,
as an index and a user's tools see it. ``twine check --strict`` and ``check-wheel-contents`` must be clean.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import sendcloud_logging

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NAME = "sendcloud-logging"


def _run(*args: str, cwd: Path = ROOT) -> str:
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built once for the session (a few seconds; no network: the dev extra's tools)."""
    pytest.importorskip("build", reason="python -m build comes with the dev extra: pip install -e '.[dev]'")
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source") / "tree"
    # A copy without build leftovers, so nothing of an earlier build or of this checkout's venv leaks in.
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "benchmarks", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"))
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source))
    return out


@pytest.fixture(scope="session")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[importlib.metadata.Distribution]:
    target = tmp_path_factory.mktemp("site")
    (wheel,) = dist.glob("*.whl")
    _run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target),
         str(wheel))
    (found,) = [d for d in importlib.metadata.distributions(path=[str(target)]) if d.metadata["Name"] == NAME]
    yield found


def test_the_wheels_metadata_as_installed(installed: importlib.metadata.Distribution) -> None:
    meta = installed.metadata
    assert meta["Version"] == sendcloud_logging.__version__
    assert meta["Requires-Python"] == ">=3.9"
    assert meta["License"] == "MIT" or meta["License-Expression"] == "MIT"
    runtime = [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]
    assert sorted(runtime) == ["python-json-logger>=3.1", "requests>=2.25"]  # runtime deps stay these two
    assert {"inbox", "test", "dev"} <= set(meta.get_all("Provides-Extra") or [])
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert set(urls) == {"Source", "Issues", "Changelog", "Documentation"}
    assert all(u.startswith("https://github.com/sendcloud-logging/sendcloud-logging") for u in urls.values())
    classifiers = set(meta.get_all("Classifier") or [])
    assert {f"Programming Language :: Python :: 3.{minor}" for minor in range(9, 14)} <= classifiers
    assert {"Framework :: Pytest", "Intended Audience :: Developers", "Typing :: Typed"} <= classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert "sendcloud" in (meta["Keywords"] or "")
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().strip() == (ROOT / "docs" / "pypi.md").read_text(encoding="utf-8").strip()


def test_the_wheel_ships_the_license_the_data_and_no_key(installed: importlib.metadata.Distribution) -> None:
    files = {str(f) for f in installed.files or []}
    assert any(f.endswith(".dist-info/licenses/LICENSE") or f.endswith(".dist-info/LICENSE") for f in files), files
    assert {"sendcloud_logging/py.typed", "sendcloud_logging/inbox/schema.json"} <= files
    assert not [f for f in files if f.endswith((".pem", ".key")) or f.startswith("tests/")]
    points = {(e.group, e.name): e.value for e in installed.entry_points}
    assert points[("console_scripts", "sendcloud-logging")] == "sendcloud_logging._cli:main"
    assert points[("pytest11", "sendcloud_logging")] == "sendcloud_logging.testing"


def test_the_installed_wheel_imports(installed: importlib.metadata.Distribution) -> None:
    site = str(installed.locate_file(""))
    code = "import sendcloud_logging, sys; print(sendcloud_logging.__version__, sendcloud_logging.__file__)"
    result = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {site!r}); {code}"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    version, path = result.stdout.split()
    assert version == sendcloud_logging.__version__
    assert path.startswith(site)


def test_the_sdist_carries_license_changelog_and_description_and_no_tests(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "docs/pypi.md", "pyproject.toml", "setup.cfg"} <= names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", ".ci/")) or n.endswith(".pem")]
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert not [n for n in archive.namelist() if n.startswith("tests/")]


def test_twine_check_strict_and_check_wheel_contents_are_clean(dist: Path) -> None:
    for tool in ("twine", "check-wheel-contents"):
        if not (BIN / tool).exists():
            pytest.skip(f"{tool} comes with the dev extra: pip install -e '.[dev]'")
    out = _run(str(BIN / "twine"), "check", "--strict", *map(str, sorted(dist.iterdir())))
    assert out.count("PASSED") == 2, out
    (wheel,) = dist.glob("*.whl")
    assert _run(str(BIN / "check-wheel-contents"), str(wheel)).strip().endswith("OK")
