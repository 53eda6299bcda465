"""The ``sendcloud-logging`` command (also ``python -m sendcloud_logging``): serve, send, demo, logs, check.

- ``serve``: run the local Inbox (the logs API on your machine) and print a line per log it receives.
- ``send``: post one test log with ``SendcloudClient`` (to Sendcloud, or to an Inbox with ``--api-url``).
- ``demo``: real shop failures logged through the README's configuration into a local Inbox, then checked.
- ``logs``: list logs through the API (or an Inbox), following its pages, as a table or JSON lines.
- ``check``: verify a production configuration with one harmless GET, without creating a log.

Settings come from flags, else the environment, resolved by the handler's own ``resolve`` (``config``); keys
are never printed. The options are in ``arguments``, each command group in its own module (``serve``, ``api``,
``check``, ``demo``), the text tables they share in ``tables``, and ``terminal`` keeps control characters out of
what people read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Callable, Optional

from . import terminal
from .arguments import FAILED, INTERRUPTED, OK, USAGE, UsageError, build_parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 failed, 2 usage, 130 interrupted).

    No path ends in a traceback: a bare ``sendcloud-logging`` prints the help, an unknown option the usage of
    its own command, Ctrl-C "interrupted" (130), and a reader that closed the pipe (``| head -1``) a quiet exit.
    A subcommand's module is imported once it is chosen: ``--version`` and ``--help`` import neither requests
    nor the handler.
    """
    parser = build_parser()
    words = sys.argv[1:] if argv is None else list(argv)
    if not words:
        parser.print_help()
        return USAGE
    args, unknown = parser.parse_known_args(words)
    if unknown:  # the command's own usage, not the top level's
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    command = _command(args.command)
    try:
        code = command(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except UsageError as exc:  # a setting the command cannot run with: one line naming its flag or variable
        terminal.error(str(exc))
        return USAGE
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        terminal.quiet_stdout()
        return OK


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    """The function of a subcommand, its module imported now."""
    if name == "demo":
        return _demo
    if name == "serve":
        from .serve import serve  # noqa: PLC0415

        return serve
    if name == "check":
        from .check import check  # noqa: PLC0415

        return check
    from . import api  # noqa: PLC0415

    return {"send": api.send, "logs": api.logs}[name]


def _demo(args: argparse.Namespace) -> int:
    del args
    try:
        from ..inbox import Inbox  # noqa: PLC0415, F401  # the Inbox needs the "inbox" extra (jsonschema)
    except ImportError as exc:
        print(f"error: the demo needs the inbox extra: pip install 'sendcloud-logging[inbox]' ({exc})", file=sys.stderr)
        return FAILED
    from . import demo  # noqa: PLC0415

    return demo.run(sys.stdout, sys.stderr)
