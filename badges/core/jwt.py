"""VC-JWT (compact JWS) for Open Badges 3.0: EdDSA signing and verification.

OB 3.0 §8.2: the JWT payload is the credential itself (members at the top level) plus the
registered claims ``iss``, ``jti``, ``nbf`` (and ``sub``/``exp`` when they apply).
"""

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from badges.core.dates import parse_datetime
from badges.core.errors import MalformedCredentialError
from badges.core.keys import verify_signature

#: A credential-sized token; anything far larger is not a badge.
MAX_TOKEN_BYTES = 1024 * 1024


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedCredentialError("the JWT is not base64url") from None


def sign_jwt(credential: Mapping[str, Any], key: Ed25519PrivateKey, *, kid: str) -> str:
    """Return the credential as a compact JWS signed with EdDSA (Ed25519)."""
    claims: dict[str, Any] = dict(credential)
    issuer = credential.get("issuer")
    claims["iss"] = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    claims["jti"] = credential.get("id")
    valid_from = parse_datetime(credential.get("validFrom"))
    if valid_from:
        claims["nbf"] = int(valid_from.timestamp())
    valid_until = parse_datetime(credential.get("validUntil"))
    if valid_until:
        claims["exp"] = int(valid_until.timestamp())
    subject = credential.get("credentialSubject")
    if isinstance(subject, Mapping) and subject.get("id"):
        claims["sub"] = subject["id"]
    header = {"alg": "EdDSA", "typ": "JWT", "kid": kid}
    signing_input = (
        _b64encode(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64encode(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    )
    return signing_input + "." + _b64encode(key.sign(signing_input.encode("ascii")))


def parse_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Return (header, payload, signing input, signature) of a compact JWS."""
    token = token.strip()
    if len(token) > MAX_TOKEN_BYTES:
        raise MalformedCredentialError("the JWT is too large")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise MalformedCredentialError("a compact JWT has three dot-separated parts")
    try:
        header = json.loads(_b64decode(parts[0]))
        payload = json.loads(_b64decode(parts[1]))
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly deep nesting
        raise MalformedCredentialError("the JWT header or payload is not JSON") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise MalformedCredentialError("the JWT header and payload must be JSON objects")
    if isinstance(payload.get("vc"), dict):  # VC 1.1-era JWTs wrap the credential in "vc"
        payload = {**payload["vc"], **{k: v for k, v in payload.items() if k != "vc"}}
    return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), _b64decode(parts[2])


def verify_jwt_signature(header: Mapping[str, Any], signing_input: bytes, signature: bytes, key: Ed25519PublicKey) -> bool:
    """Return True for a valid EdDSA signature; other algorithms are not accepted here."""
    return header.get("alg") == "EdDSA" and len(signature) == 64 and verify_signature(key, signature, signing_input)
