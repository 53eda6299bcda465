"""The public surface: names are fixed, and __all__ lists exactly what the package exports."""

from __future__ import annotations

import sendcloud_logging


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in vars(sendcloud_logging) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(sendcloud_logging, name)).__name__ == "module"}
    assert sorted(sendcloud_logging.__all__) == sendcloud_logging.__all__
    assert set(sendcloud_logging.__all__) - {"__version__"} == public - modules


def test_fixed_public_names() -> None:
    for name in ("SendcloudHandler", "SendcloudClient", "SendcloudError", "payload_from_record"):
        assert name in sendcloud_logging.__all__
    from sendcloud_logging.inbox import Inbox

    assert Inbox.__name__ == "Inbox"
