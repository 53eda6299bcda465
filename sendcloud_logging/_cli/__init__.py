"""The ``sendcloud-logging`` command (also ``python -m sendcloud_logging``): serve, send, demo, logs.

- ``serve``: run the local Inbox (the logs API on your machine) and print a line per log it receives.
- ``send``: post one test log with ``SendcloudClient`` (to Sendcloud, or to an Inbox with ``--api-url``).
- ``demo``: real shop failures logged through the README's configuration into a local Inbox, then checked.
- ``logs``: list logs through the API (or an Inbox), following its pages, as a table or JSON lines.

Keys come from ``--public-key``/``--secret-key`` or ``SENDCLOUD_PUBLIC_KEY``/``SENDCLOUD_SECRET_KEY``, or OAuth2
client credentials from ``--client-id``/``--client-secret`` or ``SENDCLOUD_CLIENT_ID``/``SENDCLOUD_CLIENT_SECRET``;
they are never printed by ``send`` or ``logs``.

The options are in ``arguments``, each command group in its own module (``serve``, ``api``, ``demo``), and the
text tables they share in ``tables``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Optional

from .arguments import FAILED, build_parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 failed, 2 usage).

    The subcommands' modules are imported once one is chosen: ``--version`` and ``--help`` import neither
    requests nor the handler.
    """
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from .serve import serve as command  # noqa: PLC0415
    elif args.command == "demo":
        command = _demo
    else:
        from . import api  # noqa: PLC0415

        command = {"send": api.send, "logs": api.logs}[args.command]
    return command(args)


def _demo(args: argparse.Namespace) -> int:
    del args
    try:
        from ..inbox import Inbox  # noqa: PLC0415, F401  # the Inbox needs the "inbox" extra (jsonschema)
    except ImportError as exc:
        print(f"error: the demo needs the inbox extra: pip install 'sendcloud-logging[inbox]' ({exc})", file=sys.stderr)
        return FAILED
    from . import demo  # noqa: PLC0415

    return demo.run(sys.stdout, sys.stderr)
