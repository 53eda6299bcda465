"""The package imports and works with none of the optional HTTP clients installed, and never imports them itself."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from sendcloud_logging.inbox import Inbox
from sendcloud_logging.shop import Shop

from .conftest import INTEGRATION_ID, PUBLIC_KEY, SECRET_KEY

SCRIPT = textwrap.dedent(
    """
    import json, logging, sys

    BLOCKED = ("httpx", "httpcore", "aiohttp", "yarl", "multidict", "jsonschema", "django", "flask", "celery")
    if sys.argv[1] == "blocked":
        for name in BLOCKED:
            sys.modules[name] = None  # "import httpx" now raises ImportError, as if it were not installed

    import requests
    import sendcloud_logging
    import sendcloud_logging._capture.adapters
    import sendcloud_logging.testing
    from sendcloud_logging import SendcloudHandler, payload_from_record

    api_url, shop_url = sys.argv[2], sys.argv[3]
    handler = SendcloudHandler(integration_id=%(id)d, public_key=%(pk)r, secret_key=%(sk)r, api_url=api_url,
                               base_url="https://shop.example", summary_window=0)
    log = logging.getLogger("app")
    log.addHandler(handler)
    try:
        requests.get(shop_url + "/api/orders/404", timeout=5).raise_for_status()
    except requests.RequestException:
        log.exception("Could not fetch order 404")
    log.error("A foreign object is ignored", extra={"request": object(), "response": object()})
    ok = handler.flush(10)
    handler.close()
    record = logging.makeLogRecord({"msg": "x", "request": {"method": "get", "url": shop_url}})
    print(json.dumps({
        "flushed": ok,
        "stats": handler.stats(),
        "payload": payload_from_record(record),
        "imported": sorted(m for m in BLOCKED if sys.modules.get(m) is not None),
    }))
    """
) % {"id": INTEGRATION_ID, "pk": PUBLIC_KEY, "sk": SECRET_KEY}


def run(mode: str, inbox: Inbox, shop: Shop) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, inbox.api_url, shop.http_url], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out: dict[str, object] = json.loads(result.stdout)
    return out


def test_works_with_every_optional_client_blocked(inbox: Inbox) -> None:
    with Shop() as shop:
        out = run("blocked", inbox, shop)
        shop_url = shop.http_url
    assert out["flushed"] is True
    assert out["imported"] == []
    assert out["payload"] == {"base_url": shop_url, "full_url": shop_url, "method": "GET",
                              "created_at": out["payload"]["created_at"], "exception": "x"}  # type: ignore[index]
    logs = inbox.logs()
    assert [got["exception_type"] for got in logs] == ["requests.exceptions.HTTPError", None]
    assert logs[0]["response_code"] == 404
    assert logs[1]["request"] is None and logs[1]["response"] is None


def test_the_package_never_imports_an_optional_client(inbox: Inbox) -> None:
    with Shop() as shop:
        out = run("installed", inbox, shop)
    assert out["flushed"] is True
    assert out["imported"] == []  # installed, but nobody imported them: neither did we
