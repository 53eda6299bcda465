"""The public surface: names are fixed, every public name says where to import it from, the rest is private."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import sendcloud_logging
import sendcloud_logging.errors
import sendcloud_logging.inbox
import sendcloud_logging.shop
import sendcloud_logging.testing

#: What ``import sendcloud_logging`` offers (DESIGN.md's public surface and the tree of ``errors``). Adding a name
#: here is a promise to users; the test fails until the package and this list agree.
PUBLIC_NAMES = [
    "APIError",
    "AuthenticationError",
    "ConfigurationError",
    "ConnectError",
    "MissingBaseURLError",
    "MissingCredentialsError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "RequestTimeoutError",
    "SendcloudClient",
    "SendcloudError",
    "SendcloudHandler",
    "ServerError",
    "TLSError",
    "TransportError",
    "ValidationError",
    "WrongURLError",
    "__version__",
    "payload_from_record",
]
#: Modules users may import by path; every other module of the package has an underscore in its path. The
#: Inbox's own modules are its documented parts (listed in its docstring), used by tests of the Inbox.
PUBLIC_MODULES = {"", "__main__", "auth", "client", "errors", "handler", "inbox", "shop", "testing"}
ROOT = Path(sendcloud_logging.__file__).resolve().parent


def test_all_is_the_documented_public_list() -> None:
    assert sendcloud_logging.__all__ == PUBLIC_NAMES  # sorted, complete, nothing more
    public = {name for name in dir(sendcloud_logging) if not name.startswith("_")}  # the lazy names too
    modules = {name for name in public if inspect.ismodule(getattr(sendcloud_logging, name))}
    assert public - modules == set(PUBLIC_NAMES) - {"__version__"}  # nothing public that __all__ leaves out
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+\S*", sendcloud_logging.__version__)


def test_every_error_of_the_documented_tree_is_exported() -> None:
    drawn = set(re.findall(r"(?:──|^\s{4})\s*([A-Z][A-Za-z]+Error)\b", sendcloud_logging.errors.__doc__ or "", re.M))
    assert {"SendcloudError", "APIError", "RateLimitedError"} <= drawn  # the tree was read
    assert drawn <= set(PUBLIC_NAMES)
    errors = {name for name in PUBLIC_NAMES if name.endswith("Error")}
    assert all(issubclass(getattr(sendcloud_logging, name), sendcloud_logging.SendcloudError) for name in errors)


def test_public_names_show_the_public_path() -> None:
    for name in PUBLIC_NAMES[:-2]:  # the classes
        cls = getattr(sendcloud_logging, name)
        assert inspect.isclass(cls)
        assert cls.__module__ == "sendcloud_logging", name
        assert repr(cls) == f"<class 'sendcloud_logging.{name}'>"
        assert getattr(sendcloud_logging.errors, name, cls) is cls  # the old path still imports the same class
    assert sendcloud_logging.payload_from_record.__module__ == "sendcloud_logging"
    assert str(inspect.signature(sendcloud_logging.SendcloudHandler)).startswith("(")


def test_the_dev_tools_export_their_names() -> None:
    assert sendcloud_logging.inbox.__all__ == ["Inbox"]
    assert repr(sendcloud_logging.inbox.Inbox).endswith(".Inbox'>")
    assert "Shop" in sendcloud_logging.shop.__all__
    assert {"sendcloud", "sendcloud_inbox", "sendcloud_handler", "sendcloud_options"} <= set(
        sendcloud_logging.testing.__all__
    )
    for module in (sendcloud_logging.inbox, sendcloud_logging.shop, sendcloud_logging.testing):
        assert all(hasattr(module, name) for name in module.__all__)


def test_every_module_outside_the_public_set_is_underscored() -> None:
    found = set()
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.add(".".join(parts))
    assert found >= PUBLIC_MODULES
    unmarked = sorted(
        name for name in found
        if name not in PUBLIC_MODULES and not name.startswith("inbox.") and not any(p.startswith("_") for p in name.split("."))
    )
    assert unmarked == []
    assert {"_delivery.pacing", "_payload.redact", "_capture"} <= found  # the runtime's parts are found, private
