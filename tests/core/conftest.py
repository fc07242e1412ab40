"""Fixtures for the pure core tests: a fixed key, a fixed clock, the offline loader, no network."""

import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from badges.core.contexts import DID_V1, MULTIKEY_V1, DocumentLoader, static_loader
from badges.core.credential import (
    Achievement,
    Alignment,
    CredentialData,
    Evidence,
    Issuer,
    StatusEntry,
    hash_identity,
)
from badges.core.keys import private_key_from_seed, public_key_multibase
from badges.core.signing import create_proof
from badges.core.statuslist import build_status_list_credential, new_bitstring, set_bit
from badges.core.verification import KeyResolver, StatusResolver, resolver_from_documents

#: Golden files live here; ``UPDATE_GOLDEN=1 pytest`` rewrites them.
DATA_DIR = Path(__file__).resolve().parents[1] / "data"

#: The signing time of every fixture credential; verification happens a little later.
FIXED_NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
#: RFC 8032 §7.1 test 1 secret key: a well-known seed, so the key is never mistaken for a real one.
ISSUER_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
OTHER_SEED = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")

ISSUER_DID = "did:web:passport.example.test:issuers:demo-saatio"
ISSUER_VM = f"{ISSUER_DID}#key-1"
OTHER_DID = "did:web:passport.example.test:issuers:toinen-saatio"
OTHER_VM = f"{OTHER_DID}#key-1"
HOST = "https://passport.example.test"
STATUS_LIST_URL = f"{HOST}/issuers/demo-saatio/status/1"
STATUS_INDEX = 94_567
CREDENTIAL_ID = "urn:uuid:5b3c7a4e-2f0d-4c1a-9e8b-7d6f5a4b3c2d"
RECIPIENT_EMAIL = "Maija.Meikalainen@Example.FI"
RECIPIENT_NAME = "Maija Meikäläinen"
EPERUSTEET = "https://eperusteet.opintopolku.fi/#/fi/ammatillinen/3932281"


@dataclass(frozen=True)
class Demo:
    """The fixed identifiers of the fixture world, for tests to refer to."""

    issuer_did: str = ISSUER_DID
    issuer_vm: str = ISSUER_VM
    other_did: str = OTHER_DID
    other_vm: str = OTHER_VM
    credential_id: str = CREDENTIAL_ID
    status_list_url: str = STATUS_LIST_URL
    status_index: int = STATUS_INDEX
    email: str = RECIPIENT_EMAIL
    name: str = RECIPIENT_NAME
    now: datetime = FIXED_NOW


@pytest.fixture
def demo() -> Demo:
    """Return the fixed identifiers (issuer DID, key ids, status list URL, recipient)."""
    return Demo()


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Fail the test if anything tries to open a connection or resolve a host name.

    The attempt is recorded as well as refused: pyld wraps loader exceptions, so a raised
    error alone could be swallowed and turned into an ordinary JSON-LD error. Overrides the
    looser (loopback-allowing) fixture of tests/conftest.py; yields the list of attempts.
    """
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args[1:] if args else kwargs)
        raise OSError("network access is disabled in the core tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts
    assert not attempts, f"the code under test tried to use the network: {attempts}"


@pytest.fixture
def loader() -> DocumentLoader:
    """Return the process-wide offline loader over the vendored contexts."""
    return static_loader()


@pytest.fixture
def fixed_now() -> datetime:
    """Return the fixed signing time."""
    return FIXED_NOW


@pytest.fixture
def issuer_key() -> Ed25519PrivateKey:
    """Return the demo issuer's signing key (fixed seed, so signatures are byte-stable)."""
    return private_key_from_seed(ISSUER_SEED)


@pytest.fixture
def other_key() -> Ed25519PrivateKey:
    """Return a second issuer's key."""
    return private_key_from_seed(OTHER_SEED)


def controller_document(
    public_key: Ed25519PublicKey | list[Ed25519PublicKey],
    did: str,
    *,
    fragments: tuple[str, ...] = ("key-1",),
    assertion: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Return a DID document publishing ``public_key`` (or several) as Multikeys.

    ``fragments`` name the keys in order; ``assertion`` lists the fragments under
    ``assertionMethod`` (all of them by default).
    """
    keys = public_key if isinstance(public_key, list) else [public_key]
    methods = [
        {
            "id": f"{did}#{fragment}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": public_key_multibase(key),
        }
        for key, fragment in zip(keys, fragments, strict=True)
    ]
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [f"{did}#{f}" for f in (fragments if assertion is None else assertion)],
    }


@pytest.fixture(name="controller_document")
def controller_document_fixture() -> Callable[..., dict[str, Any]]:
    """Return the :func:`controller_document` builder."""
    return controller_document


@pytest.fixture
def make_credential_data() -> Callable[..., CredentialData]:
    """Return a factory for a realistic award; keyword arguments replace fields."""

    def _make(**fields: Any) -> CredentialData:
        issuer = Issuer(
            id=ISSUER_DID,
            name="Demosäätiö – työpaja Verstas",
            url="https://demo-saatio.example.test",
            email="verstas@demo-saatio.example.test",
            image=f"{HOST}/issuers/demo-saatio/logo.png",
        )
        achievement = Achievement(
            id=f"{HOST}/issuers/demo-saatio/badges/puutuotteiden-valmistus/v1",
            name="Puutuotteiden valmistus",
            description="Osaa valmistaa yksinkertaisia puutuotteita piirustuksen mukaan.",
            criteria_narrative=(
                "Osaa valita materiaalit ja työvälineet, työskentelee turvallisesti ja "
                "viimeistelee työn laadukkaasti. Näytetty aidossa työssä työpajalla."
            ),
            image=f"{HOST}/static/img/badges/puutuote.png",
            image_caption="Merkki: höylä ja lankku",
            in_language="fi",
            alignments=(
                Alignment(
                    target_name="Puutuotevalmistuksessa toimiminen",
                    target_url=f"{EPERUSTEET}/tutkinnonosat/3944378",
                    target_framework="Puuteollisuuden perustutkinto",
                    target_code="tutkinnonosat_106003",
                ),
                Alignment(
                    target_name="Opiskelija osaa valmistaa puutuotteita ohjeiden mukaan",
                    target_url=f"{EPERUSTEET}/tutkinnonosat/3944378#ammattitaitovaatimukset_413",
                    target_framework="Puuteollisuuden perustutkinto",
                    target_code="ammattitaitovaatimukset_413",
                    target_description="Ammattitaitovaatimus",
                ),
            ),
            version="1",
        )
        data = {
            "credential_id": CREDENTIAL_ID,
            "issuer": issuer,
            "achievement": achievement,
            "identities": (hash_identity("emailAddress", RECIPIENT_EMAIL, "suola-1234"),),
            "issued_at": FIXED_NOW,
            "evidence": (
                Evidence(
                    name="Ohjaajan havainto",
                    narrative="Valmisti linnunpöntön itsenäisesti piirustuksen mukaan.",
                ),
            ),
            "status": StatusEntry(list_url=STATUS_LIST_URL, index=STATUS_INDEX),
        }
        data.update(fields)
        return CredentialData(**data)

    return _make


@pytest.fixture
def sign(issuer_key: Ed25519PrivateKey, loader: DocumentLoader) -> Callable[..., dict[str, Any]]:
    """Return ``sign(document, key=issuer_key, vm=ISSUER_VM, created=FIXED_NOW)``."""

    def _sign(
        document: dict[str, Any],
        key: Ed25519PrivateKey = issuer_key,
        vm: str = ISSUER_VM,
        created: datetime = FIXED_NOW,
    ) -> dict[str, Any]:
        return create_proof(document, key, verification_method=vm, created=created, loader=loader)

    return _sign


@pytest.fixture
def make_status_list(sign: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Return a factory for a signed status list with the given indexes set."""

    def _make(
        revoked: tuple[int, ...] = (), *, list_url: str = STATUS_LIST_URL, **sign_args: Any
    ) -> dict[str, Any]:
        bits = new_bitstring()
        for index in revoked:
            set_bit(bits, index)
        unsigned = build_status_list_credential(
            list_url=list_url, issuer=ISSUER_DID, bits=bits, valid_from=FIXED_NOW
        )
        return sign(unsigned, **sign_args)

    return _make


@pytest.fixture
def issuer_documents(issuer_key: Ed25519PrivateKey, other_key: Ed25519PrivateKey) -> dict[str, Any]:
    """Return the DID documents of the demo issuer and of another issuer."""
    return {
        ISSUER_DID: controller_document(issuer_key.public_key(), ISSUER_DID),
        OTHER_DID: controller_document(other_key.public_key(), OTHER_DID),
    }


@pytest.fixture
def resolve_key(issuer_documents: dict[str, Any]) -> KeyResolver:
    """Return an offline key resolver over both issuers' DID documents."""
    return resolver_from_documents(issuer_documents)


@pytest.fixture
def status_lists(make_status_list: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Return the published status lists by URL (mutable: tests replace them)."""
    return {STATUS_LIST_URL: make_status_list()}


@pytest.fixture
def resolve_status(status_lists: dict[str, Any]) -> StatusResolver:
    """Return a status resolver over ``status_lists``."""
    return status_lists.get


@pytest.fixture
def verify_time() -> datetime:
    """Return the time at which fixture credentials are verified (a month after issue)."""
    return FIXED_NOW + timedelta(days=30)


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """Return ``check(name, text)``: compare ``text`` with ``tests/data/<name>``.

    With ``UPDATE_GOLDEN=1`` in the environment the file is (re)written instead, so an
    intended change is one command and shows up in review as a diff of the golden file.
    """

    def check(name: str, text: str) -> None:
        path = DATA_DIR / name
        if os.environ.get("UPDATE_GOLDEN") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"{path} is missing; run the tests with UPDATE_GOLDEN=1 to create it")
        expected = path.read_text(encoding="utf-8")
        assert text == expected, (
            f"output differs from {path}; if intended, rerun with UPDATE_GOLDEN=1"
        )

    return check
