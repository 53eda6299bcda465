"""An asyncio service polling a shop with aiohttp: logging a failure never blocks the event loop.

``SendcloudHandler.emit`` only copies the record and appends it to a queue; a thread sends it. So the
handler is used straight from coroutines, with no QueueHandler in between. At exit ``logging.shutdown()``
(run by the interpreter) delivers what is still queued, within ``shutdown_timeout`` seconds. The
integration id and the API keys come from the SENDCLOUD_* environment variables.
"""

import asyncio
import logging.config
import os

import aiohttp

SHOP_URL = os.environ.get("SHOP_URL", "https://myshop.example")

logging.config.dictConfig(
    {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "sendcloud": {"class": "sendcloud_logging.SendcloudHandler", "level": "ERROR", "base_url": SHOP_URL},
        },
        "loggers": {"orderpoller": {"handlers": ["sendcloud"], "level": "INFO"}},
    }
)
log = logging.getLogger("orderpoller")


async def fetch_order(session: aiohttp.ClientSession, url: str) -> None:
    """Fetch one order; aiohttp's errors carry what the log needs (request_info, status, host)."""
    try:
        async with session.get(url, raise_for_status=True) as response:
            await response.read()
    except aiohttp.ClientError:
        log.exception("Could not fetch %s", url)


async def main(urls: list[str]) -> None:
    """Fetch every order at once."""
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(fetch_order(session, url) for url in urls))


if __name__ == "__main__":
    orders = os.environ.get("ORDER_URLS", f"{SHOP_URL}/api/orders/404 {SHOP_URL}/api/orders/401").split()
    asyncio.run(main(orders))
