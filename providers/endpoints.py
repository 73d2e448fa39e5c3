"""The one endpoint rule every vendor client and the config share.

An endpoint is an absolute https URL with no credentials, query or fragment in it. Plain http is
allowed only to a loopback host (a local sandbox or proxy): every vendor request carries a key
or a signature made with one, and the numbers it carries are personal data.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_USERINFO = re.compile(r"//[^/?#]*@")


class EndpointRefused(ValueError):
    """An endpoint that breaks the rule above. `str()` is one line saying why and what to do."""


def is_loopback_host(host: str) -> bool:
    """Whether `host` ("localhost", "*.localhost", an IPv4 or IPv6 address, brackets allowed) is
    this machine: the only place plain http:// may go, and where a sandbox may listen."""
    name = host.lower().strip("[]")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def endpoint_problem(url: str, *, bare_origin: bool = False) -> str | None:
    """Why `url` may not be used as an endpoint, or None. `bare_origin`: no path either (for
    vendors whose signature covers the path, such as Volcengine)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "not a valid URL (e.g. https://api.example.com)"
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in text):
        return "a full http(s) URL, e.g. https://api.example.com"
    if parts.username is not None or parts.password is not None:
        return "no user name or password in the URL: credentials go in the secrets file or environment"
    if parts.scheme == "http" and not is_loopback_host(host):
        return f"use https for {host} (plain http is allowed only for localhost / 127.0.0.1 / ::1)"
    if parts.query or parts.fragment:
        return "no query string or fragment, just scheme, host, port and path"
    if bare_origin and parts.path not in ("", "/"):
        return "just scheme, host and port: no path"
    return None


def check_endpoint(url: str, *, vendor: str, bare_origin: bool = False) -> str:
    """`url` without a trailing slash, or EndpointRefused naming the vendor and the reason."""
    problem = endpoint_problem(url, bare_origin=bare_origin)
    if problem is not None:
        # A user name and password typed into the URL are not repeated in the error.
        shown = _USERINFO.sub("//***@", url.strip())
        raise EndpointRefused(f"{vendor} endpoint {shown!r} refused: {problem}")
    return url.strip().rstrip("/")
