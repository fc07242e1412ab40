"""The allow-list fetcher against local test servers: it refuses what an attacker would want.

Servers listen on 127.0.0.1 only. The production fetcher refuses them (loopback is private);
the tests that need a successful fetch use ``allow_loopback_for_tests=True``, a constructor
argument nothing in the configuration can set.
"""

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from verify_helpers import self_signed_localhost

from badges.fetcher import Fetcher, FetchError, FetchLimits, host_of, is_public_address, normalise_host

DID = {"@context": ["https://www.w3.org/ns/did/v1"], "id": "did:web:example"}
LIMITS = FetchLimits(connect_timeout=1.0, total_timeout=1.5, max_bytes=64 * 1024, max_redirects=2)


@dataclass
class Server:
    """A local server and what it saw."""

    port: int
    requests: list[tuple[str, str]] = field(default_factory=list)  #: (path, Host header)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str, scheme: str = "http", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/did+json", **headers) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if body is not None:
                self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body or b"")

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            server.requests.append((self.path, self.headers.get("Host", "")))
            path = self.path
            if path == "/did.json":
                self._send(200, json.dumps(DID).encode())
            elif path == "/ld":
                self._send(200, json.dumps(DID).encode(), "application/ld+json; charset=utf-8")
            elif path == "/redirect-same":
                self._send(302, b"", Location="/did.json")
            elif path == "/redirect-twice":
                self._send(301, b"", Location="/redirect-same")
            elif path == "/redirect-loop":
                self._send(302, b"", Location="/redirect-loop")
            elif path == "/redirect-other":
                self._send(302, b"", Location=f"http://localhost:{server.port}/did.json")
            elif path == "/redirect-https":
                self._send(302, b"", Location=f"https://127.0.0.1:{server.port}/did.json")
            elif path == "/html":
                self._send(200, b"<html>not json</html>", "text/html")
            elif path == "/broken-json":
                self._send(200, b'{"id": ', "application/json")
            elif path == "/deep-json":
                self._send(200, b"[" * 20000 + b"]" * 20000, "application/json")
            elif path == "/huge":
                self._send(200, b'{"x": "' + b"a" * (200 * 1024) + b'"}', "application/json")
            elif path == "/huge-unannounced":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")
                self.end_headers()
                for _ in range(400):
                    self.wfile.write(b"a" * 1024)
            elif path == "/slow":  # a byte every 0.2 s: each read is quick, the whole is not
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                for _ in range(100):
                    if server.stop.wait(0.2):
                        return
                    self.wfile.write(b" ")
                    self.wfile.flush()
            elif path == "/hang":
                server.stop.wait(10)
            else:
                self._send(404, b"{}", "application/json")

    return Handler


@pytest.fixture
def server() -> Iterator[Server]:
    """A plain-HTTP server on 127.0.0.1."""
    yield from _serve(None)


def _serve(context: ssl.SSLContext | None) -> Iterator[Server]:
    record = Server(port=0)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(record))
    httpd.daemon_threads = True
    if context is not None:
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    record.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield record
    finally:
        record.stop.set()
        httpd.shutdown()
        httpd.server_close()


def local_fetcher(hosts, **kwargs) -> Fetcher:
    """A fetcher for the local servers (test switch on)."""
    return Fetcher(hosts, limits=kwargs.pop("limits", LIMITS), allow_loopback_for_tests=True, **kwargs)


def reason_of(fetcher: Fetcher, url: str) -> str:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch_json(url)
    return caught.value.reason


# --- what the production fetcher refuses before any connection ------------------------------------


def test_production_fetcher_refuses_plain_http(server):
    fetcher = Fetcher([server.host])
    assert reason_of(fetcher, server.url("/did.json")) == "not_https"
    assert server.requests == []


def test_production_fetcher_refuses_loopback_addresses(server):
    fetcher = Fetcher([server.host])
    assert reason_of(fetcher, server.url("/did.json", "https")) == "private_address"
    assert server.requests == []


def test_a_host_name_that_resolves_to_127_0_0_1_is_refused(server):
    fetcher = Fetcher([f"localhost:{server.port}"])  # even when an admin put it on the list
    assert reason_of(fetcher, server.url("/did.json", "https", "localhost")) == "private_address"
    assert server.requests == []


@pytest.mark.parametrize("addresses", [
    ["10.1.2.3"], ["192.168.0.10"], ["172.16.5.4"], ["169.254.169.254"], ["100.64.0.1"], ["0.0.0.0"],
    ["224.0.0.1"], ["::1"], ["fe80::1"], ["fc00::5"], ["::ffff:127.0.0.1"], ["::ffff:10.0.0.1"],
    ["2002:7f00:1::"],  # 6to4 wrapping 127.0.0.1
    ["93.184.216.34", "10.0.0.1"],  # one private address among public ones is enough to refuse
])
def test_names_resolving_to_private_or_reserved_addresses_are_refused(addresses):
    fetcher = Fetcher(["issuer.example"], resolver=lambda host, port: addresses)
    # the autouse no_network fixture would fail the test on any connection attempt
    assert reason_of(fetcher, "https://issuer.example/did.json") == "private_address"


def test_hosts_not_on_the_list_are_never_resolved():
    looked_up = []
    fetcher = Fetcher(["issuer.example"], resolver=lambda host, port: looked_up.append(host) or ["93.184.216.34"])
    assert reason_of(fetcher, "https://other.example/did.json") == "host_not_allowed"
    assert reason_of(fetcher, "https://issuer.example:8443/did.json") == "host_not_allowed"  # the port counts
    assert reason_of(fetcher, "https://user@issuer.example/did.json") == "bad_url"
    assert reason_of(fetcher, "ftp://issuer.example/did.json") == "not_https"
    assert reason_of(fetcher, "https://issuer.example/ did.json") == "bad_url"
    assert looked_up == []


def test_a_name_that_does_not_resolve():
    def fail(host, port):
        raise socket.gaierror("no such host")

    assert reason_of(Fetcher(["nowhere.example"], resolver=fail), "https://nowhere.example/x") == "dns"


# --- limits on what a listed host may do ----------------------------------------------------------


def test_fetches_json_from_a_listed_host(server):
    fetcher = local_fetcher([server.host])
    assert fetcher.fetch_json(server.url("/did.json")) == DID
    assert fetcher.fetch_json(server.url("/ld")) == DID
    assert fetcher.fetch_json(server.url("/did.json")) == DID  # remembered: fetched once
    assert [path for path, _ in server.requests] == ["/did.json", "/ld"]


def test_connects_to_the_address_it_checked_with_the_name_in_the_host_header(server):
    resolved = []

    def resolver(host, port):
        resolved.append(host)
        return ["127.0.0.1"]

    fetcher = local_fetcher([f"rebind.test:{server.port}"], resolver=resolver)
    assert fetcher.fetch_json(f"http://rebind.test:{server.port}/did.json") == DID
    assert resolved == ["rebind.test"]  # resolved once, then the checked address was used
    assert server.requests == [("/did.json", f"rebind.test:{server.port}")]


def test_same_host_redirects_are_followed_a_couple_of_times(server):
    fetcher = local_fetcher([server.host])
    assert fetcher.fetch_json(server.url("/redirect-same")) == DID
    assert fetcher.fetch_json(server.url("/redirect-twice")) == DID


def test_redirect_loops_stop(server):
    assert reason_of(local_fetcher([server.host]), server.url("/redirect-loop")) == "redirect"


def test_a_redirect_to_another_host_is_refused(server):
    # localhost is on the list too: a redirect still must not leave the host that was asked
    fetcher = local_fetcher([server.host, f"localhost:{server.port}"])
    assert reason_of(fetcher, server.url("/redirect-other")) == "redirect"
    assert reason_of(fetcher, server.url("/redirect-https")) == "redirect"  # another scheme is another origin
    assert [path for path, _ in server.requests] == ["/redirect-other", "/redirect-https"]


def test_a_slow_server_hits_the_deadline(server):
    assert reason_of(local_fetcher([server.host]), server.url("/slow")) == "timeout"


def test_a_server_that_never_answers_hits_the_deadline(server):
    assert reason_of(local_fetcher([server.host]), server.url("/hang")) == "timeout"


@pytest.mark.parametrize("path", ["/huge", "/huge-unannounced"])
def test_oversized_answers_are_refused(server, path):
    assert reason_of(local_fetcher([server.host]), server.url(path)) == "too_large"


@pytest.mark.parametrize("path", ["/html", "/broken-json", "/deep-json"])
def test_answers_that_are_not_json_are_refused(server, path):
    assert reason_of(local_fetcher([server.host]), server.url(path)) == "not_json"


def test_error_statuses_are_reported_with_their_code(server):
    with pytest.raises(FetchError) as caught:
        local_fetcher([server.host]).fetch_json(server.url("/missing"))
    assert caught.value.reason == "http_status" and caught.value.status == 404


def test_a_closed_port_is_a_connection_failure():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert reason_of(local_fetcher([f"127.0.0.1:{port}"]), f"http://127.0.0.1:{port}/x") == "connect"


def test_one_verification_fetches_only_a_few_documents(server):
    fetcher = local_fetcher([server.host], limits=FetchLimits(max_fetches=2))
    fetcher.fetch_json(server.url("/did.json"))
    fetcher.fetch_json(server.url("/ld"))
    assert reason_of(fetcher, server.url("/redirect-same")) == "budget"


# --- HTTPS: the certificate is checked for the host name, not the address --------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for "localhost" and its key."""
    return self_signed_localhost(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server(tls_files) -> Iterator[Server]:
    """An HTTPS server on 127.0.0.1 with a certificate for "localhost"."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    yield from _serve(context)


def test_https_with_a_trusted_certificate_for_the_name(tls_server, tls_files):
    trusted = ssl.create_default_context(cafile=tls_files[0])
    fetcher = local_fetcher([f"localhost:{tls_server.port}"], ssl_context=trusted)
    assert fetcher.fetch_json(tls_server.url("/did.json", "https", "localhost")) == DID


def test_https_with_an_untrusted_certificate_is_refused(tls_server):
    fetcher = local_fetcher([f"localhost:{tls_server.port}"])  # the system's trust store
    assert reason_of(fetcher, tls_server.url("/did.json", "https", "localhost")) == "tls"


def test_https_certificate_must_name_the_host(tls_server, tls_files):
    trusted = ssl.create_default_context(cafile=tls_files[0])
    fetcher = local_fetcher([tls_server.host], ssl_context=trusted)  # by address: the certificate says localhost
    assert reason_of(fetcher, tls_server.url("/did.json", "https")) == "tls"


# --- host names and addresses --------------------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [
    ("Issuer.Example", "issuer.example"),
    ("issuer.example.", "issuer.example"),
    ("https://issuer.example/path", "issuer.example"),
    ("issuer.example:443", "issuer.example"),
    ("issuer.example:8443", "issuer.example:8443"),
    ("bücher.example", "xn--bcher-kva.example"),
    ("192.0.2.10", "192.0.2.10"),
])
def test_host_names_are_normalised(given, expected):
    assert normalise_host(given) == expected


@pytest.mark.parametrize("given", ["", "user@issuer.example", "issuer.example/path", "issuer example",
                                   "issuer.example:port", "-bad-.example", "a" * 300])
def test_things_that_are_not_host_names(given):
    with pytest.raises(ValueError):
        normalise_host(given)


def test_host_of_urls():
    assert host_of("https://Issuer.Example/x") == "issuer.example"
    assert host_of("https://issuer.example:8443/x") == "issuer.example:8443"
    assert host_of("not a url") is None
    assert host_of("https://[::1/") is None


def test_public_addresses():
    assert is_public_address("93.184.216.34")
    assert is_public_address("2606:2800:220:1:248:1893:25c8:1946")
    for address in ("127.0.0.1", "10.0.0.1", "::1", "::ffff:192.168.1.1", "not an address", "169.254.1.1"):
        assert not is_public_address(address)


def test_nothing_in_the_configuration_can_turn_on_the_test_switch(app, session):
    from badges import verifier

    app.config["allow_loopback_for_tests"] = True
    app.config["BADGES_ALLOW_LOOPBACK_FOR_TESTS"] = True
    fetcher = verifier.default_fetcher(session)
    assert reason_of(fetcher, "http://127.0.0.1:1/x") == "not_https"
