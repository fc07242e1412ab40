"""Fetch issuer documents (DID documents, status lists) from allow-listed hosts, defensively.

The verifier may fetch a document of another issuer only from a host an administrator put on
the allow-list (:class:`badges.models.TrustedHost`). Even then a URL written into a credential
is attacker-controlled, so every fetch is held to strict limits:

* HTTPS only, on an allow-listed host (and port);
* the host name is resolved here and *every* address it resolves to must be a public unicast
  address: private, loopback, link-local, multicast, reserved and unspecified addresses (also
  when embedded in IPv6, e.g. ``::ffff:127.0.0.1``) are refused;
* the connection goes to the address that was checked, with the host name used only for TLS
  (SNI and certificate check) and the ``Host`` header, so DNS rebinding cannot swap it;
* a connect timeout and a deadline for the whole exchange (a server dribbling bytes cannot
  hold a worker), a size cap, at most a couple of redirects and only to the same origin,
  an answer that must be ``200`` with a JSON media type and JSON inside.

Environment proxies are ignored on purpose: connecting to the checked address is the point.
Nothing in the Flask configuration can loosen these rules; the only loosening is the
``allow_loopback_for_tests`` constructor argument, which tests pass to talk to their own
plain-HTTP servers on 127.0.0.1.
"""

import http.client
import io
import ipaddress
import json
import re
import socket
import ssl
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from badges.core.errors import BadgesError

#: Answers we accept: JSON and its JSON-LD / DID / VC flavours.
_JSON_TYPE = re.compile(r"application/(?:[a-z0-9.+-]+\+)?json", re.IGNORECASE)
#: A DNS host name (already IDNA-encoded): labels of letters, digits and hyphens.
_HOST_NAME = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_REDIRECTS = {301, 302, 303, 307, 308}
#: Headers beyond the body cap: a generous allowance for a status line and headers.
_HEADER_ALLOWANCE = 16 * 1024
#: Name resolution runs here so that it, too, has a timeout (getaddrinfo has none of its own).
_resolver_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="badges-dns")


class FetchError(BadgesError):
    """A document could not be fetched; ``reason`` says why in a stable word."""

    code = "fetch_failed"

    def __init__(self, reason: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        #: not_https, host_not_allowed, bad_url, dns, private_address, connect, tls, timeout,
        #: too_large, redirect, http_status, not_json, budget
        self.reason = reason
        #: The HTTP status of a non-200 answer (410 Gone means a revoked OB 2.0 assertion).
        self.status = status


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """How much one fetch may cost."""

    connect_timeout: float = 3.0  #: seconds to open the TCP connection (and TLS)
    total_timeout: float = 8.0  #: seconds for the whole exchange, redirects included
    max_bytes: int = 512 * 1024  #: the largest body accepted
    max_redirects: int = 2  #: same-origin redirects followed
    max_fetches: int = 6  #: documents one Fetcher fetches at most (one verification)


def normalise_host(value: str) -> str:
    """Return the allow-list form of a host: lower-case IDNA name or IP, with ``:port`` if not 443.

    Raises:
        ValueError: the value is not a host name, IP address or ``host:port``.
    """
    text = value.strip().lower().rstrip(".")
    if "://" in text:
        text = urlsplit(text).netloc
    parts = urlsplit(f"//{text}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        raise ValueError(f"not a host name: {value!r}") from None
    if not host or parts.username is not None or parts.path or parts.query or parts.fragment:
        raise ValueError(f"not a host name: {value!r}")
    host = _ascii_host(host)
    return host if port in (None, 443) else f"{host}:{port}"


def _ascii_host(host: str) -> str:
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"not a host name: {host!r}") from None
    if not _HOST_NAME.fullmatch(ascii_host):
        raise ValueError(f"not a host name: {host!r}")
    return ascii_host


def host_of(url: str) -> str | None:
    """Return the allow-list form of the host of ``url``, or None when it has none."""
    try:
        parts = urlsplit(url)
        if not parts.hostname:
            return None
        port = parts.port
        host = _ascii_host(parts.hostname)
    except ValueError:
        return None
    return host if port in (None, 443) or (parts.scheme == "http" and port == 80) else f"{host}:{port}"


def is_public_address(address: str) -> bool:
    """Return True only for a public unicast address (IPv4, or IPv6 with no private IPv4 inside)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return is_public_address(str(embedded))
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
        or ip.is_reserved or ip.is_unspecified
    )


def system_resolver(host: str, port: int) -> list[str]:
    """Return every address ``host`` resolves to (the system resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


class _Recorded:
    """A socket stand-in that lets ``http.client`` parse an answer already read into memory."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode: str) -> io.BytesIO:
        """Return the recorded bytes as a file."""
        return io.BytesIO(self._data)


class Fetcher:
    """Fetch JSON documents from allow-listed HTTPS hosts under strict limits.

    One instance serves one verification: it remembers what it fetched (a DID document is
    needed for the credential and again for its status list) and stops after
    ``limits.max_fetches`` documents.
    """

    def __init__(
        self,
        allowed_hosts: Collection[str],
        *,
        limits: FetchLimits = FetchLimits(),
        resolver: Callable[[str, int], list[str]] = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        allow_loopback_for_tests: bool = False,
    ) -> None:
        self.allowed_hosts = frozenset(allowed_hosts)
        self.limits = limits
        self._resolve = resolver
        self._ssl = ssl_context or ssl.create_default_context()
        #: Tests only: also allow plain HTTP and loopback addresses (never set from configuration).
        self._loopback = allow_loopback_for_tests
        self._cache: dict[str, Any] = {}
        self.fetched: list[str] = []

    def is_allowed(self, url: str) -> bool:
        """Return True when ``url`` is on an allow-listed host (nothing is fetched)."""
        host = host_of(url)
        return host is not None and host in self.allowed_hosts

    def fetch_json(self, url: str) -> Any:
        """Return the parsed JSON document at ``url``.

        Raises:
            FetchError: with a ``reason`` and a message naming the host, never a traceback.
        """
        if url in self._cache:
            return self._cache[url]
        if len(self.fetched) >= self.limits.max_fetches:
            raise FetchError("budget", "too many documents would have to be fetched for one badge")
        self.fetched.append(url)
        deadline = time.monotonic() + self.limits.total_timeout
        current = url
        for _ in range(self.limits.max_redirects + 1):
            status, headers, body = self._get(current, deadline)
            if status in _REDIRECTS:
                current = self._redirect_target(current, headers.get("Location"))
                continue
            document = self._parse(current, status, headers, body)
            self._cache[url] = document
            return document
        raise FetchError("redirect", f"{host_of(url)} redirected more than {self.limits.max_redirects} times")

    # --- one request ---------------------------------------------------------------------

    def _target(self, url: str) -> tuple[str, str, int, str]:
        """Check ``url`` and return (scheme, host, port, path with query)."""
        # ASCII without spaces or control characters: it goes into the request line as it is.
        if not isinstance(url, str) or len(url) > 2048 or not url.isascii() or any(c <= " " or c == "\x7f" for c in url):
            raise FetchError("bad_url", "the address is not a valid URL")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise FetchError("bad_url", "the address is not a valid URL") from None
        schemes = ("https", "http") if self._loopback else ("https",)
        if parts.scheme not in schemes:
            raise FetchError("not_https", "only HTTPS addresses are fetched")
        if not parts.hostname or parts.username is not None or parts.password is not None:
            raise FetchError("bad_url", "the address is not a valid URL")
        host = host_of(url)
        if host is None or host not in self.allowed_hosts:
            raise FetchError("host_not_allowed", f"{host or parts.hostname} is not on the list of trusted hosts")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default = 443 if parts.scheme == "https" else 80
        return parts.scheme, _ascii_host(parts.hostname), port or default, path

    def _address(self, host: str, port: int, deadline: float) -> str:
        """Resolve ``host`` and return an address to connect to, if all of them are public."""
        timeout = max(0.01, min(self.limits.connect_timeout, deadline - time.monotonic()))
        try:
            addresses = _resolver_pool.submit(self._resolve, host, port).result(timeout=timeout)
        except FutureTimeout:
            raise FetchError("timeout", f"looking up {host} took too long") from None
        except (OSError, UnicodeError, ValueError):
            raise FetchError("dns", f"{host} could not be found") from None
        if not addresses:
            raise FetchError("dns", f"{host} could not be found")
        for address in addresses:
            if is_public_address(address):
                continue
            if self._loopback and ipaddress.ip_address(address.split("%", 1)[0]).is_loopback:
                continue
            raise FetchError("private_address", f"{host} points to a private or reserved address")
        return addresses[0]

    def _get(self, url: str, deadline: float) -> tuple[int, http.client.HTTPMessage, bytes]:
        scheme, host, port, path = self._target(url)
        address = self._address(host, port, deadline)
        raw = self._exchange(scheme, host, port, address, path, deadline)
        response = http.client.HTTPResponse(_Recorded(raw))  # type: ignore[arg-type]
        try:
            response.begin()
            body = response.read()
        except (http.client.HTTPException, ValueError, OSError):
            raise FetchError("http_status", f"{host} did not answer with valid HTTP") from None
        return response.status, response.headers, body

    def _exchange(self, scheme: str, host: str, port: int, address: str, path: str, deadline: float) -> bytes:
        """Send one GET to ``address`` and read the whole answer before the deadline."""
        default_port = 443 if scheme == "https" else 80
        host_header = host if port == default_port else f"{host}:{port}"
        if ":" in host and not host.startswith("["):  # an IPv6 literal in the Host header
            host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\n"
            "Accept: application/did+json, application/ld+json, application/json;q=0.9\r\n"
            "Accept-Encoding: identity\r\nUser-Agent: Osaamispassi-verifier/1\r\nConnection: close\r\n\r\n"
        ).encode("ascii")
        cap = self.limits.max_bytes + _HEADER_ALLOWANCE
        try:
            connect_timeout = max(0.01, min(self.limits.connect_timeout, deadline - time.monotonic()))
            sock = socket.create_connection((address, port), timeout=connect_timeout)
        except TimeoutError:
            raise FetchError("timeout", f"{host} did not accept a connection in time") from None
        except OSError:
            raise FetchError("connect", f"{host} could not be reached") from None
        try:
            if scheme == "https":
                try:
                    sock = self._ssl.wrap_socket(sock, server_hostname=host)
                except ssl.SSLError:
                    raise FetchError("tls", f"{host} did not present a valid certificate") from None
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            sock.sendall(request)
            chunks: list[bytes] = []
            total = 0
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FetchError("timeout", f"{host} did not answer in time")
                sock.settimeout(remaining)
                chunk = sock.recv(64 * 1024)
                if not chunk:
                    return b"".join(chunks)
                total += len(chunk)
                if total > cap:
                    raise FetchError("too_large", f"the answer from {host} is too large")
                chunks.append(chunk)
        except TimeoutError:
            raise FetchError("timeout", f"{host} did not answer in time") from None
        except ssl.SSLError:
            raise FetchError("tls", f"the secure connection to {host} failed") from None
        except OSError:
            raise FetchError("connect", f"the connection to {host} failed") from None
        finally:
            sock.close()

    def _redirect_target(self, current: str, location: str | None) -> str:
        if not location:
            raise FetchError("redirect", f"{host_of(current)} redirected without saying where")
        target = urljoin(current, location.strip())
        before, after = urlsplit(current), urlsplit(target)
        if (after.scheme, host_of(target)) != (before.scheme, host_of(current)):
            raise FetchError("redirect", f"{host_of(current)} redirected to another host")
        return target

    def _parse(self, url: str, status: int, headers: http.client.HTTPMessage, body: bytes) -> Any:
        host = host_of(url)
        if status != 200:
            raise FetchError("http_status", f"{host} answered HTTP {status}", status=status)
        if len(body) > self.limits.max_bytes:
            raise FetchError("too_large", f"the answer from {host} is too large")
        media_type = (headers.get("Content-Type") or "").split(";", 1)[0].strip()
        if not _JSON_TYPE.fullmatch(media_type):
            raise FetchError("not_json", f"{host} did not answer with JSON")
        try:
            return json.loads(body.decode("utf-8-sig"))
        except (ValueError, RecursionError):
            raise FetchError("not_json", f"the answer from {host} is not valid JSON") from None
