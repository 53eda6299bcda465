"""What keeps the Inbox a developer's local tool: checks made before a request is routed. Pure functions.

A web page open in the developer's browser must not be able to use the Inbox (it holds what failing shops
sent, and answers without keys on its page routes):

- ``host_problem``: the ``Host`` must be a loopback name (``localhost``, ``*.localhost``, ``127.0.0.0/8``,
  ``::1``), the address the Inbox was told to serve, or a name it was given. A DNS-rebinding page reaches
  127.0.0.1 under its own name, and that name is in ``Host``. A request without ``Host`` (HTTP/1.0) is no
  browser's, and passes; an Inbox bound to every interface (``0.0.0.0``, ``::``) also takes IP literals,
  which no DNS answer can put there.
- ``origin_problem``: a request that carries an ``Origin`` must come from the Inbox's own page (the origin
  of its ``Host``). Browsers send ``Origin`` with every cross-origin request and every POST.
- ``is_json``: writes need ``Content-Type: application/json``, which no HTML form and no "simple"
  cross-origin ``fetch`` can send without a CORS preflight (that the Inbox never grants).
- ``header_problem``: header lines the stdlib would misread (``Transfer-Encoding : chunked`` hides itself and
  every header after it; an obs-fold or a bare CR splits or joins headers), which a proxy in front may read
  otherwise (request smuggling). RFC 9112 section 5.1 says reject them with 400.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from email.message import Message
from typing import Optional

__all__ = ["HostGuard", "header_problem", "is_json"]

#: ``name:value`` with an RFC 9110 token as name, no whitespace before the colon, and no control character
#: but HTAB in the value; the line ends in CRLF (or a bare LF, which the stdlib takes too).
_HEADER_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\x00-\x08\x0a-\x1f\x7f]*\r?\n")
_HOST = re.compile(r"(?P<name>[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?")
_WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 - names of "every interface", compared, never bound here


def header_problem(lines: Iterable[bytes]) -> Optional[str]:
    """What is wrong with the raw header lines of a request (the blank line that ends them included), or None."""
    for line in lines:
        if line in (b"\r\n", b"\n", b""):
            return None
        if not _HEADER_LINE.fullmatch(line):
            shown = line[:60].decode("latin-1").encode("unicode_escape").decode("ascii")
            return (
                f"Malformed header line {shown!r}: a header is name:value, with no space before the colon, "
                "no line folding and no control characters"
            )
    return None


def is_json(headers: Message) -> bool:
    """Whether the request says its body is ``application/json`` (parameters such as charset allowed)."""
    values = headers.get_all("Content-Type") or []
    if len(values) != 1:
        return False
    media_type = str(values[0]).split(";", 1)[0].strip().lower()
    return media_type == "application/json"


class HostGuard:
    """The names under which a request may reach one Inbox, and the origin its page has.

    Args:
        served: The address the Inbox is bound to (``127.0.0.1``, ``::1``, ``0.0.0.0``, a LAN address).
        allowed_hosts: Further host names (``inbox`` for a container of that name), compared case-insensitively.
    """

    def __init__(self, served: str, allowed_hosts: Iterable[str] = ()) -> None:
        self._served = _normal(served)
        self._names = frozenset(_normal(name) for name in allowed_hosts)

    def host_problem(self, headers: Message) -> Optional[str]:
        """Why the request's ``Host`` is refused, or None when it names this Inbox (or is absent)."""
        for value in headers.get_all("Host") or []:
            if not self.allows(str(value)):
                shown = str(value)[:80].encode("unicode_escape").decode("ascii")
                return (
                    f"Host {shown!r} is not this Inbox's: it answers to localhost, loopback addresses and the "
                    "address it serves (a page of another site may have resolved its own name to this machine)"
                )
        return None

    def allows(self, host: str) -> bool:
        """Whether ``host`` (a ``Host`` header value: name, optional port) names this Inbox."""
        match = _HOST.fullmatch(host.strip())
        if match is None:
            return False
        name = _normal(match.group("name"))
        if name == "localhost" or name.endswith(".localhost") or name in self._names or name == self._served:
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        if address.is_loopback:
            return True
        mapped = getattr(address, "ipv4_mapped", None)
        if mapped is not None and mapped.is_loopback:
            return True
        return self._served in _WILDCARDS  # bound to every interface: any address literal of this machine

    def origin_problem(self, headers: Message) -> Optional[str]:
        """Why the request's ``Origin`` is refused, or None when it is absent or the Inbox's own page."""
        origins = headers.get_all("Origin") or []
        if not origins:
            return None
        hosts = headers.get_all("Host") or []
        own = {f"http://{str(host).strip().lower()}" for host in hosts}
        for origin in origins:
            value = str(origin).strip().lower()
            if value not in own:
                shown = str(origin)[:80].encode("unicode_escape").decode("ascii")
                return f"Origin {shown!r} is not this Inbox's page: only its own page may call it from a browser"
        return None


def _normal(name: str) -> str:
    """A host name as compared: lower case, without brackets and a trailing dot."""
    name = name.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name.rstrip(".") if name not in ("", ".") else name
