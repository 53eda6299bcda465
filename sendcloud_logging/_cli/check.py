"""``check``: verify a production configuration without creating a log.

The configuration is resolved exactly as ``SendcloudHandler`` resolves it (``config.configuration``: flags as
keywords, else the ``SENDCLOUD_*`` environment), each setting is printed with where it came from (the keys
only by name), and one harmless authenticated request, ``GET …/integrations/{id}/logs?page_size=1``, proves
the keys, the integration id and the API URL together. The last line is ``OK`` or the one thing to fix.
"""

from __future__ import annotations

import argparse
import os

from .._validators import redacted_url
from ..errors import SendcloudError
from . import terminal
from .api import explain
from .arguments import FAILED, OK
from .config import REPORTED, client, configuration


def _network_environment(api_url: str) -> list[tuple[str, str, str]]:
    """The proxy and CA bundle requests will use for ``api_url`` (from the environment), without user info."""
    import requests.utils  # noqa: PLC0415  # only this command asks

    found: list[tuple[str, str, str]] = []
    proxy = requests.utils.get_environ_proxies(api_url).get(api_url.split(":", 1)[0])
    if proxy:
        names = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
        source = next((name for name in names if os.environ.get(name) == proxy), "the proxy variables")
        found.append(("proxy", source, redacted_url(proxy)))
    for env in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        if os.environ.get(env):
            found.append(("ca_bundle", env, os.environ[env]))
            break
    return found


def check(args: argparse.Namespace) -> int:
    conf = configuration(args)
    settings = conf.settings
    for name in REPORTED:
        value = getattr(settings, name)
        if value is None:
            continue
        shown = "(set)" if name in ("public_key", "secret_key", "client_id", "client_secret") else value
        if name in ("api_url", "token_url"):
            if name == "token_url" and settings.client_id is None:
                continue  # Basic auth asks no token endpoint
            shown = redacted_url(str(value))
        print(f"{name:<15} {terminal.printable(shown, one_line=True):<45} from {conf.sources[name]}")
    for name, env, value in _network_environment(settings.api_url):
        print(f"{name:<15} {terminal.printable(value, one_line=True):<45} from {env}")
    url = f"{settings.api_url}/integrations/{settings.integration_id}/logs?page_size=1"
    print(f"GET {url}", flush=True)
    try:
        with client(settings) as api:
            next(iter(api.iter_pages(settings.integration_id, page_size=1)), None)
    except SendcloudError as exc:
        terminal.error(explain(exc, conf))
        return FAILED
    print(f"OK: the keys, integration {settings.integration_id} and {settings.api_url} work together")
    return OK
