"""A local HTTP server speaking the Sendcloud integration logs API, for development and tests.

Needs the optional ``jsonschema`` dependency: ``pip install 'sendcloud-logging[inbox]'``.

Modules: ``control`` (the ``Inbox`` class), ``server`` (listening, open connections), ``connection``
(HTTP framing), ``guard`` (Host, Origin, content type and header-line checks), ``exchange`` (latency,
faults, rate limits: which answer), ``routes`` (what the API answers), ``web`` (the web page at ``/`` and
its data routes; its files are in ``static/``), ``accounts`` and ``oauth`` (who may call), ``validation``
(JSON Schema), ``store`` (SQLite), ``ratelimit`` (the API's published limits), ``faults``, ``traffic``,
``responses`` and ``timestamps``.
The Inbox imports nothing of the logging handler: it is the independent stand-in the handler is tested
against.
"""

from __future__ import annotations

from .control import Inbox

__all__ = ["Inbox"]
