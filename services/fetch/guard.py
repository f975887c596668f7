"""SSRF guard: which URLs and addresses newswire may connect to, checked on every connection."""

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
from newswire.services.errors import ConfigError, RefusedURL
from newswire.services.fetch.deadline import DeadlineStream, remaining

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
ALLOWED_SCHEMES = frozenset({"http", "https"})
# Longer than any server takes (8 KiB is the common request-line limit): no story link.
MAX_URL_CHARS = 8192


@dataclass(frozen=True)
class AllowList:
    """Exceptions to the guard: exact `host:port` pairs and whole networks (CIDR)."""

    host_ports: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> "AllowList":
        host_ports: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            host, sep, port = entry.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ConfigError(
                    f"NEWSWIRE_FETCH_ALLOW_HOSTS entry {entry!r} is neither host:port "
                    "(e.g. 127.0.0.1:8080) nor a CIDR network (e.g. 10.1.0.0/16)"
                )
            host_ports.add(f"{host.strip('[]').lower()}:{int(port)}")
        return cls(frozenset(host_ports), tuple(networks))

    def allows_host_port(self, host: str, port: int) -> bool:
        return f"{host.strip('[]').lower()}:{port}" in self.host_ports

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


def check_url(url: str) -> None:
    """Refuse what no connection should even be attempted for: other schemes, no host, a
    port out of range, a URL longer than MAX_URL_CHARS."""
    if len(url) > MAX_URL_CHARS:
        raise RefusedURL(url[:200], f"URL longer than {MAX_URL_CHARS} characters ({len(url)})")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a port out of range
    except ValueError as exc:
        raise RefusedURL(url, f"malformed URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise RefusedURL(url, f"scheme {scheme or 'missing'!r} not allowed (http/https only)")
    if not parts.hostname:
        raise RefusedURL(url, "URL has no host")


def is_public(address: IPAddress) -> bool:
    """True for addresses on the public internet: not private, loopback, link-local, reserved."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[IPAddress]:
    """All addresses a host name resolves to (a literal address resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def pick_address(host: str, port: int, allow: AllowList) -> str:
    """The address to connect to, or RefusedURL when any address of the host is off limits.

    Every resolved address must pass: a name that resolves to one public and one private
    address is refused, so DNS tricks cannot sneak a private target in.
    """
    if allow.allows_host_port(host, port):
        return host
    addresses = resolve(host, port)
    for address in addresses:
        if not (is_public(address) or allow.allows_address(address)):
            raise RefusedURL(
                f"{host}:{port}", f"address {address} is not public (blocked by the SSRF guard)"
            )
    return str(addresses[0])


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, but every TCP connection goes through `pick_address` first.

    Checking here, at connect time, covers every redirect hop and every pooled connection and
    connects to the very address that was checked, so DNS rebinding has no window.
    """

    def __init__(self, allow: AllowList) -> None:
        self._allow = allow

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        address = pick_address(host, port, self._allow)
        stream = super().connect_tcp(
            address, port, remaining(timeout), local_address, socket_options
        )
        return DeadlineStream(stream)
