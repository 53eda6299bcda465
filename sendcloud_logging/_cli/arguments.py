"""The command line's surface: the parser with its five subcommands, their examples, and the exit codes."""

from __future__ import annotations

import argparse

from .._validators import DEFAULT_API_URL, DEFAULT_TOKEN_URL
from .._version import __version__

PROG = "sendcloud-logging"
#: The local Inbox's published development keys (``serve``, ``demo``).
INBOX_PUBLIC_KEY = "inbox-public"
INBOX_SECRET_KEY = "inbox-secret"  # noqa: S105  # a local test server's published dev key

# exit codes
OK, FAILED, USAGE = 0, 1, 2


class UsageError(Exception):
    """A configuration the command cannot run with; the message is one line naming the flag or variable.

    ``main`` prints it as ``error: ...`` and exits with ``USAGE``, whichever command raised it.
    """
#: 128 + SIGINT, as a shell reports a command stopped by Ctrl-C.
INTERRUPTED = 130


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keep the line breaks of descriptions and examples."""


def _example(*lines: str) -> str:
    return "Example:\n" + "".join(f"  {line}\n" for line in lines)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its five subcommands; each one's parser is its namespace's ``command_parser``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Send failed shop-API calls to Sendcloud's connection issue log, and try it locally.",
        formatter_class=_Formatter,
        epilog=_example(
            f"{PROG} demo                      # real failures, logged into a local Inbox",
            f"{PROG} serve                     # a local Inbox on http://127.0.0.1:8025/api/v3",
            f"{PROG} check                     # after a deploy: are the keys, id and URL right?",
            f"{PROG} logs --integration-id 1234 --limit 10",
            f"{PROG} COMMAND --help            # each command's options and an example",
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    serve = commands.add_parser(
        "serve",
        help="run a local Inbox (the logs API on your machine) and print each log it receives",
        description="Run the local Inbox until Ctrl-C and print one line per log it receives.",
        formatter_class=_Formatter,
        epilog=_example(
            f"{PROG} serve --port 8025 --db inbox.sqlite",
            "export SENDCLOUD_API_URL=http://127.0.0.1:8025/api/v3",
            f"export SENDCLOUD_PUBLIC_KEY={INBOX_PUBLIC_KEY} SENDCLOUD_SECRET_KEY={INBOX_SECRET_KEY}",
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8025, help="port, 0 for any free one (default: %(default)s)")
    serve.add_argument(
        "--db", default="inbox.sqlite", help="SQLite file keeping the logs, or :memory: (default: %(default)s)"
    )
    serve.add_argument("--public-key", default=INBOX_PUBLIC_KEY, help="accepted public key (default: %(default)s)")
    serve.add_argument("--secret-key", default=INBOX_SECRET_KEY, help="accepted secret key (default: %(default)s)")
    serve.add_argument(
        "--secret-key-file", metavar="PATH", help="read the accepted secret key from a file, - for stdin"
    )
    serve.set_defaults(command_parser=serve)

    send = commands.add_parser(
        "send",
        help="post one test log",
        description=(
            "Post one test log, redacted as the handler does, and print the id the API gave it.\n"
            "The merchant sees it in the connection issue log: use a test integration.\n"
            "Settings come from the flags, else the environment, as for SendcloudHandler\n"
            "(SENDCLOUD_INTEGRATION_ID, SENDCLOUD_PUBLIC_KEY, SENDCLOUD_SECRET_KEY, SENDCLOUD_API_URL)."
        ),
        formatter_class=_Formatter,
        epilog=_example(
            f"{PROG} send --integration-id 1234 --base-url https://myshop.example \\",
            '    --exception "Could not post the order note" --exception-type requests.exceptions.HTTPError \\',
            "    --full-url https://myshop.example/api/orders/7/notes --method POST --response-code 422",
        ),
    )
    send.add_argument(
        "--integration-id", help="the integration the log belongs to (default: $SENDCLOUD_INTEGRATION_ID)"
    )
    send.add_argument(
        "--base-url", help="the shop's URL, such as https://myshop.example (default: taken from --full-url)"
    )
    send.add_argument(
        "--exception", default="Test log sent with sendcloud-logging", help="the text (default: %(default)s)"
    )
    send.add_argument("--exception-type", help="dotted Python exception type, such as requests.exceptions.SSLError")
    send.add_argument("--full-url", help="the URL that was called")
    send.add_argument("--method", help="the HTTP method of that call")
    send.add_argument("--response-code", type=int, help="the HTTP status the shop answered")
    add_api_arguments(send)
    send.set_defaults(command_parser=send)

    check = commands.add_parser(
        "check",
        help="verify a production configuration without creating a log",
        description=(
            "Resolve the configuration as SendcloudHandler does (flags, else SENDCLOUD_* variables),\n"
            "print where each setting came from (never the keys), and make one harmless GET of the\n"
            "integration's logs: it proves the keys, the integration id and the API URL together.\n"
            "Prints OK, or the one thing to fix. Exit 0 when OK, 1 when not, 2 for a bad setting."
        ),
        formatter_class=_Formatter,
        epilog=_example(
            f"{PROG} check                     # with the SENDCLOUD_* variables of the deployed service",
            f"{PROG} check --integration-id 1234 --api-url http://127.0.0.1:8025/api/v3",
        ),
    )
    check.add_argument("--integration-id", help="the integration to check (default: $SENDCLOUD_INTEGRATION_ID)")
    add_api_arguments(check)
    check.set_defaults(command_parser=check)

    demo = commands.add_parser(
        "demo",
        help="log real shop failures into a local Inbox and check what arrived",
        description=(
            "Start a local Inbox and a failing Shop, configure logging with the README's dictConfig,\n"
            "make real failing calls with requests (TLS, 404, 422, refused, timeout, 401), log them,\n"
            "and check that every log arrived and matches the API's schema. Exits 1 if any is missing."
        ),
        formatter_class=_Formatter,
        epilog=_example(f"{PROG} demo"),
    )
    demo.set_defaults(command_parser=demo)

    logs = commands.add_parser(
        "logs",
        help="list logs through the API, as a table or JSON lines",
        description=(
            "List logs, newest first as the API returns them, following its pages (Link: rel=\"next\").\n"
            "A table for people, or one JSON object a line (--json) for tools such as jq. While more\n"
            "than one page is fetched, a progress line goes to stderr."
        ),
        formatter_class=_Formatter,
        epilog=_example(
            f"{PROG} logs --integration-id 1234 --limit 10",
            f"{PROG} logs --api-url http://127.0.0.1:8025/api/v3 --limit 0 --json | jq .exception_type",
        ),
    )
    logs.add_argument("--integration-id", help="only this integration's logs (default: all of the account)")
    logs.add_argument(
        "--limit", type=int, default=25, help="show at most this many, 0 for all (default: %(default)s)"
    )
    logs.add_argument("--json", action="store_true", help="print one JSON object a line instead of a table")
    add_api_arguments(logs)
    logs.set_defaults(command_parser=logs)
    return parser


def add_api_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-url", help=f"API v3 base URL (default: $SENDCLOUD_API_URL, else {DEFAULT_API_URL})")
    parser.add_argument("--public-key", help="API public key (default: $SENDCLOUD_PUBLIC_KEY)")
    parser.add_argument(
        "--secret-key", help="API secret key (default: $SENDCLOUD_SECRET_KEY); visible in the process list"
    )
    parser.add_argument("--secret-key-file", metavar="PATH", help="read the secret key from a file, - for stdin")
    parser.add_argument("--client-id", help="OAuth2 client id, instead of keys (default: $SENDCLOUD_CLIENT_ID)")
    parser.add_argument(
        "--client-secret", help="OAuth2 client secret (default: $SENDCLOUD_CLIENT_SECRET); visible in the process list"
    )
    parser.add_argument(
        "--client-secret-file", metavar="PATH", help="read the OAuth2 client secret from a file, - for stdin"
    )
    parser.add_argument(
        "--token-url", help=f"OAuth2 token endpoint (default: $SENDCLOUD_TOKEN_URL, else {DEFAULT_TOKEN_URL})"
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="permit a plain http --api-url or --token-url to a host that is not loopback",
    )
