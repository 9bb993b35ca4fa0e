"""The identity a company's single sign-on proxy (oauth2-proxy, say) puts in a header,
trusted only when the request comes from one of the configured proxy addresses."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import ip_address, ip_network

from starlette.requests import Request

from pilotscale.refusal import Forbidden

HEADER = "X-Forwarded-Email"


class UntrustedIdentity(Forbidden):
    """An identity header from an address that is not a trusted proxy."""


def _trusted(host: str | None, proxies: Sequence[str]) -> bool:
    if not host or not proxies:
        return False
    try:
        address = ip_address(host)
    except ValueError:  # not an IP (a test client's name, a Unix socket)
        return False
    for proxy in proxies:
        try:
            if address in ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def proxy_identity(request: Request, proxies: Sequence[str]) -> str | None:
    """The header's email when a trusted proxy sent the request; otherwise None (the header
    is ignored for reading)."""
    value = request.headers.get(HEADER, "").strip()
    if not value or not _trusted(request.client.host if request.client else None, proxies):
        return None
    return value


def refuse_spoofed(request: Request, proxies: Sequence[str]) -> None:
    """An action carrying the header from anywhere but a trusted proxy is refused: someone
    is trying to act as somebody else."""
    if request.headers.get(HEADER) and proxy_identity(request, proxies) is None:
        raise UntrustedIdentity(
            f"the {HEADER} header is only accepted from the single sign-on proxy; "
            "nothing was recorded"
        )
