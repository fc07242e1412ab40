"""Ed25519 key encodings: Multikey, did:key, seeds."""

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from badges.core.errors import KeyFormatError
from badges.core.keys import (
    MAX_MULTIBASE_CHARS,
    VerificationMethod,
    did_key,
    did_key_verification_method,
    multibase_decode,
    multibase_encode,
    private_key_from_seed,
    private_key_seed,
    public_key_from_did_key,
    public_key_from_multibase,
    public_key_multibase,
    verify_signature,
)

#: RFC 8032 §7.1 test 1: this seed has this public key.
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


def raw(public_key) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_seed_gives_the_rfc8032_public_key(issuer_key):
    assert raw(issuer_key.public_key()).hex() == RFC8032_PUBLIC


def test_seed_round_trip(issuer_key):
    assert private_key_seed(
        private_key_from_seed(private_key_seed(issuer_key))
    ) == private_key_seed(issuer_key)


def test_seed_of_wrong_length_is_refused():
    with pytest.raises(KeyFormatError):
        private_key_from_seed(b"\x00" * 31)


def test_multikey_round_trip(issuer_key):
    encoded = public_key_multibase(issuer_key.public_key())
    assert encoded.startswith("z6Mk")
    assert raw(public_key_from_multibase(encoded)) == raw(issuer_key.public_key())


def test_multibase_round_trip_keeps_leading_zero_bytes():
    data = b"\x00\x00\x01\xff"
    assert multibase_decode(multibase_encode(data)) == data


def test_did_key_round_trip(issuer_key):
    did = did_key(issuer_key.public_key())
    assert did == "did:key:" + public_key_multibase(issuer_key.public_key())
    method = did_key_verification_method(did)
    assert method == f"{did}#{did.removeprefix('did:key:')}"
    for identifier in (did, method):
        assert raw(public_key_from_did_key(identifier)) == raw(issuer_key.public_key())


@pytest.mark.parametrize(
    "value",
    [
        "",
        "6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",  # no multibase prefix
        "u7QE",  # base64url multibase, not base58btc
        "z6Mk0OIl",  # 0, O, I and l are not in the base58 alphabet
        "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi\n",  # trailing white space
        "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwiä",
        "z" + "2" * (MAX_MULTIBASE_CHARS + 1),  # base58 decoding is quadratic: never started
        None,
        42,
    ],
)
def test_bad_multibase_is_refused(value):
    with pytest.raises(KeyFormatError):
        multibase_decode(value)


@pytest.mark.parametrize(
    "value",
    [
        multibase_encode(b"\xed\x01" + b"\x01" * 31),  # key too short
        multibase_encode(b"\xed\x01" + b"\x01" * 33),  # key too long
        multibase_encode(b"\xe7\x01" + b"\x02" * 33),  # secp256k1 multicodec, not Ed25519
        multibase_encode(b"\x01" * 34),
        "zzzz",
    ],
)
def test_non_ed25519_multikey_is_refused(value):
    with pytest.raises(KeyFormatError):
        public_key_from_multibase(value)


@pytest.mark.parametrize(
    "did",
    [
        "did:web:example.test",
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",  # secp256k1
        "did:key:z6Mk",
        "did:key:z6Mk0",
        "",
    ],
)
def test_unsupported_did_key_is_refused(did):
    with pytest.raises(KeyFormatError):
        public_key_from_did_key(did)


def test_verify_signature(issuer_key, other_key):
    signature = issuer_key.sign(b"message")
    assert verify_signature(issuer_key.public_key(), signature, b"message")
    assert not verify_signature(issuer_key.public_key(), signature, b"messagf")
    assert not verify_signature(other_key.public_key(), signature, b"message")
    assert not verify_signature(issuer_key.public_key(), signature[:-1], b"message")


def test_verification_method_json(issuer_key, demo):
    method = VerificationMethod(
        id=demo.issuer_vm, controller=demo.issuer_did, public_key=issuer_key.public_key()
    )
    assert method.to_json() == {
        "id": demo.issuer_vm,
        "type": "Multikey",
        "controller": demo.issuer_did,
        "publicKeyMultibase": public_key_multibase(issuer_key.public_key()),
    }
