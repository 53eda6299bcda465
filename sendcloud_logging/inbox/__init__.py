"""A local HTTP server speaking the Sendcloud integration logs API, for development and tests.

Needs the optional ``jsonschema`` dependency: ``pip install 'sendcloud-logging[inbox]'``.

Modules: ``control`` (the ``Inbox`` class), ``server`` (HTTP framing, faults, latency), ``routes`` (what
the API answers), ``validation`` (JSON Schema), ``store`` (SQLite), ``faults``, ``traffic``,
``responses`` and ``timestamps``.
"""

from __future__ import annotations

from .control import Inbox

__all__ = ["Inbox"]
