"""The package's import graph, read from the source (AST), never by importing it.

- The Inbox and the Shop import nothing of the runtime: the Inbox is the oracle the handler is tested
  against, so it must not share the handler's code (its 429s come from its own limiter).
- The runtime never imports the dev tools (Inbox, Shop, CLI, pytest plugin), so an application that only
  logs never loads them.
- There is no import cycle, and no module imports another's private name (``from x import _y``).
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "sendcloud_logging"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
#: Tools for development and tests, beside the runtime; ``_certs`` holds the Shop's test certificate.
DEV_TOOLS = ("inbox", "shop", "_cli", "testing", "__main__", "_certs")
#: Cycles and private imports that exist today, cut by the split of ``_capture`` (parts.pairs_to_dict). Listed
#: exactly, so a new one fails, and so does a fixed one until it is taken off the list.
@dataclass(frozen=True)
class Import:
    """One imported package module (``target``, relative to the package), and the name taken from it, if any."""

    target: str
    name: str | None
    line: int


def module_name(path: Path) -> str:
    """``inbox.server`` for ``sendcloud_logging/inbox/server.py``; ``""`` for the package itself."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


@functools.cache
def imports_of(name: str) -> list[Import]:
    """Every import of the package in a module, at any depth (functions included), as package-relative names."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [Import(target, None, node.lineno) for alias in node.names if (target := _inside(alias.name))
                      is not None]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = [PACKAGE, *package.split(".")] if package else [PACKAGE]
                base = base[: len(base) - node.level + 1]
                absolute = ".".join([*base, *([node.module] if node.module else [])])
            else:
                absolute = node.module or ""
            target = _inside(absolute)
            if target is None:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}".lstrip(".")
                found.append(Import(sub, None, node.lineno) if sub in MODULES else Import(target, alias.name, node.lineno))
    return found


def _inside(absolute: str) -> str | None:
    """The package-relative name of an absolute module name in the package, else None."""
    if absolute == PACKAGE:
        return ""
    if absolute.startswith(PACKAGE + "."):
        return absolute[len(PACKAGE) + 1 :]
    return None


def top(name: str) -> str:
    """The top-level module or sub-package a module is in: ``inbox`` for ``inbox.server``."""
    return name.partition(".")[0]


def is_dev_tool(name: str) -> bool:
    return top(name) in DEV_TOOLS


def graph() -> dict[str, set[str]]:
    return {name: targets(name) - {name} for name in MODULES}


def cycles(edges: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan), plus modules importing themselves."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def targets(name: str) -> set[str]:
    return {imp.target for imp in imports_of(name)}


def test_imports_are_read_the_way_python_resolves_them() -> None:
    assert {"", "handler", "inbox", "inbox.ratelimit", "shop", "_delivery.pacing"} <= set(MODULES)
    assert {"_delivery.pacing", "_delivery.policy", "_types", "_diagnostics"} <= targets("_delivery.sender")  # from ..x, from .x
    assert "inbox.control" in targets("inbox")  # from .control import Inbox, in a package's __init__
    assert "inbox" in targets("testing")  # imported inside a fixture: found all the same
    assert ("_payload", "PayloadPolicy") in {(imp.target, imp.name) for imp in imports_of("_payload.hook")}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if top(n) in ("inbox", "shop")))
def test_the_inbox_and_the_shop_import_nothing_of_the_runtime(name: str) -> None:
    outside = [f"{MODULES[name].name}:{imp.line} imports {PACKAGE}.{imp.target}" for imp in imports_of(name)
               if top(imp.target) != top(name)]
    assert outside == []


def test_the_runtime_never_imports_the_dev_tools() -> None:
    runtime = [name for name in MODULES if not is_dev_tool(name)]
    assert "handler" in runtime and "inbox" not in runtime
    found = [f"{name or '__init__'}:{imp.line} imports {imp.target}" for name in runtime for imp in imports_of(name)
             if is_dev_tool(imp.target)]
    assert found == []


def test_there_is_no_import_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == {frozenset("abc")}  # the finder finds
    assert cycles(graph()) == set()


def test_no_private_name_is_imported_from_another_module() -> None:
    private = {
        (name, f"{imp.target}.{imp.name}")
        for name in MODULES
        for imp in imports_of(name)
        if imp.name is not None and imp.name.startswith("_") and not imp.name.startswith("__")
    }
    assert private == set()
