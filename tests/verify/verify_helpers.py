"""Credentials of other issuers for the verification tests: did:key and did:web, signed here.

Everything is built with the pure core (fixed seeds, fixed dates), so the tests need no
network: documents another issuer would publish are served by :class:`FakeFetcher`, or by
the local HTTP servers of the fetcher tests.
"""

import copy
import io
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from badges.core.baking import bake_png, bake_svg
from badges.core.contexts import DID_V1, MULTIKEY_V1, static_loader
from badges.core.credential import (
    Achievement,
    Alignment,
    CredentialData,
    Issuer,
    StatusEntry,
    build_credential,
    hash_identity,
)
from badges.core.jwt import sign_jwt
from badges.core.keys import (
    did_key,
    did_key_verification_method,
    private_key_from_seed,
    public_key_multibase,
)
from badges.core.signing import create_proof
from badges.core.statuslist import build_status_list_credential, new_bitstring, set_bit
from badges.fetcher import FetchError, host_of

#: Fixed seeds: issuer A, issuer B and an impostor.
KEY_A = private_key_from_seed(bytes.fromhex("11" * 32))
KEY_B = private_key_from_seed(bytes.fromhex("22" * 32))
KEY_EVIL = private_key_from_seed(bytes.fromhex("33" * 32))
DID_A = did_key(KEY_A.public_key())
DID_B = did_key(KEY_B.public_key())
VM_A = did_key_verification_method(DID_A)
VM_B = did_key_verification_method(DID_B)

#: A foreign issuer that publishes its keys with did:web.
WEB_HOST = "badges.partner.example"
WEB_DID = f"did:web:{WEB_HOST}:issuers:kumppani"
WEB_VM = f"{WEB_DID}#key-1"
WEB_DID_URL = f"https://{WEB_HOST}/issuers/kumppani/did.json"
STATUS_HOST = "status.partner.example"
STATUS_URL = f"https://{STATUS_HOST}/lists/1"
STATUS_INDEX = 4242

ISSUED = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
EMAIL = "Aino.Asiakas@Example.FI"
SALT = "c0ffee00"
EPERUSTEET = "https://eperusteet.opintopolku.fi/#/fi/ammatillinen/3932281/tutkinnonosat/3944378"


def did_document(did: str, key, fragment: str = "key-1") -> dict[str, Any]:  # noqa: ANN001 - Ed25519PrivateKey
    """Return a DID document publishing ``key`` under ``did#fragment`` for assertions."""
    method = f"{did}#{fragment}"
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": [{
            "id": method, "type": "Multikey", "controller": did,
            "publicKeyMultibase": public_key_multibase(key.public_key()),
        }],
        "assertionMethod": [method],
    }


def unsigned(
    issuer: str = DID_A, *, valid_from: datetime = ISSUED, valid_until: datetime | None = None,
    status: StatusEntry | None = None, name: str = "Trukin turvallinen käyttö",
) -> dict[str, Any]:
    """Return an unsigned OB 3.0 credential of another issuer, aligned to an ePerusteet requirement."""
    return build_credential(CredentialData(
        credential_id="urn:uuid:0b0e7a2c-5d1f-4c8e-9a7b-3f2e1d0c9b8a",
        issuer=Issuer(id=issuer, name="Kumppanisäätiö", url="https://kumppani.example"),
        achievement=Achievement(
            id="https://kumppani.example/badges/trukki",
            name=name,
            description="Osaa käyttää trukkia turvallisesti varastossa.",
            criteria_narrative="Osaa tehdä trukin päivittäisen tarkastuksen ja ajaa kuorman turvallisesti.",
            alignments=(Alignment(
                target_name="Opiskelija käyttää puuteollisuuden materiaaleja ja jatkojalosteita.",
                target_url=EPERUSTEET, target_code="ammattitaitovaatimukset_414",
                target_framework="Puuteollisuuden perustutkinto",
            ),),
        ),
        identities=(hash_identity("emailAddress", EMAIL, SALT),),
        issued_at=valid_from,
        valid_until=valid_until,
        status=status,
    ))


def sign(document: Mapping[str, Any], key=KEY_A, vm: str = VM_A) -> dict[str, Any]:  # noqa: ANN001
    """Sign with eddsa-rdfc-2022 (the offline loader)."""
    return create_proof(document, key, verification_method=vm, created=ISSUED, loader=static_loader())


def credential(**kwargs: Any) -> dict[str, Any]:
    """A valid did:key credential of issuer A (keyword arguments go to :func:`unsigned`)."""
    return sign(unsigned(**kwargs))


def status_list(issuer: str, key, vm: str, *, revoked: Iterable[int] = (), url: str = STATUS_URL) -> dict[str, Any]:  # noqa: ANN001
    """Return a signed BitstringStatusListCredential with ``revoked`` indexes set."""
    bits = new_bitstring()
    for index in revoked:
        set_bit(bits, index)
    document = build_status_list_credential(list_url=url, issuer=issuer, bits=bits, valid_from=ISSUED)
    return sign(document, key, vm)


#: The status entry every status-list case uses.
STATUS_ENTRY = StatusEntry(list_url=STATUS_URL, index=STATUS_INDEX)


def jwt_of(document: Mapping[str, Any], key=KEY_A, kid: str = VM_A) -> str:  # noqa: ANN001
    """Return the unsigned credential as a VC-JWT."""
    return sign_jwt({k: v for k, v in document.items() if k != "proof"}, key, kid=kid)


def png_image() -> bytes:
    """A small PNG to bake into."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 90, 160)).save(out, format="PNG")
    return out.getvalue()


SVG_IMAGE = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>'


def baked_png(document: Mapping[str, Any] | str, *, keyword: str = "openbadgecredential") -> bytes:
    """Return a PNG with ``document`` (JSON or a JWT) baked in."""
    text = document if isinstance(document, str) else json.dumps(document, ensure_ascii=False)
    return bake_png(png_image(), text, keyword=keyword)


def baked_svg(document: Mapping[str, Any]) -> bytes:
    """Return an SVG with ``document`` baked in."""
    return bake_svg(SVG_IMAGE, json.dumps(document, ensure_ascii=False)).encode("utf-8")


def tampered(document: Mapping[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """Return a deep copy of ``document`` with the member at ``path`` replaced."""
    copy_ = copy.deepcopy(dict(document))
    node = copy_
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy_


class FakeFetcher:
    """A fetcher test double: serves ``documents`` by URL for the ``allowed`` hosts only."""

    def __init__(self, documents: Mapping[str, Any] | None = None, allowed: Iterable[str] = ()) -> None:
        self.documents = dict(documents or {})
        self.allowed = set(allowed)
        self.requested: list[str] = []

    def is_allowed(self, url: str) -> bool:
        """Allowed when the URL's host is on the list."""
        return host_of(url) in self.allowed

    def fetch_json(self, url: str) -> Any:
        """Return a copy of the document, or fail like a 404."""
        assert self.is_allowed(url), f"the verifier fetched from a host not on the list: {url}"
        self.requested.append(url)
        if url not in self.documents:
            raise FetchError("http_status", f"{host_of(url)} answered HTTP 404", status=404)
        return copy.deepcopy(self.documents[url])


def sign_unguarded(document: Mapping[str, Any], key=KEY_A, vm: str = VM_A) -> dict[str, Any]:  # noqa: ANN001
    """Sign like another issuer's software might: plain pyld, without our undefined-term guard."""
    import hashlib

    from pyld import jsonld

    from badges.core.dates import xsd_datetime
    from badges.core.keys import multibase_encode
    from badges.core.signing import proof_configuration

    config = proof_configuration(document, verification_method=vm, created=xsd_datetime(ISSUED),
                                 purpose="assertionMethod")
    options = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": static_loader()}

    def digest(doc: Mapping[str, Any]) -> bytes:
        return hashlib.sha256(jsonld.normalize(dict(doc), options).encode()).digest()

    proof = {k: v for k, v in config.items() if k != "@context"}
    proof["proofValue"] = multibase_encode(key.sign(digest(config) + digest(document)))
    return {**document, "proof": proof}


def legacy(ob_context: str, **kwargs: Any) -> dict[str, Any]:
    """Return an unsigned VC 1.1-era credential (issuanceDate, expirationDate) with ``ob_context``."""
    from badges.core.contexts import DATA_INTEGRITY_V2, VC_V1

    document = unsigned(**kwargs)
    document.pop("credentialSchema", None)  # 1EdTechJsonSchemaValidator2019 needs the 3.0.3 extensions
    document["credentialSubject"]["achievement"].pop("inLanguage", None)  # not in the 3.0.0 context
    document["@context"] = [VC_V1, ob_context, DATA_INTEGRITY_V2]
    document["issuanceDate"] = document.pop("validFrom")
    if "validUntil" in document:
        document["expirationDate"] = document.pop("validUntil")
    return document


def self_signed_localhost(folder) -> tuple[str, str]:  # noqa: ANN001 - Path
    """Write a self-signed certificate for "localhost" and its key; return their paths."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(folder / "cert.pem"), str(folder / "key.pem")


class DocumentServer:
    """An HTTPS server on 127.0.0.1 (certificate for "localhost") serving JSON documents by path."""

    def __init__(self, cert: str, key: str) -> None:
        import ssl
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.documents: dict[str, Any] = {}
        self.requested: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requested.append(self.path)
                document = server.documents.get(self.path)
                body = json.dumps(document if document is not None else {}).encode()
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving."""
        self._httpd.shutdown()
        self._httpd.server_close()
