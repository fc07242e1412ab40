"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (W3C vc-di-eddsa)."""

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from badges.core.canonical import canonicalize
from badges.core.contexts import DocumentLoader
from badges.core.dates import xsd_datetime
from badges.core.errors import KeyFormatError, MalformedCredentialError
from badges.core.keys import multibase_decode, multibase_encode, verify_signature

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"


def proof_configuration(
    document: Mapping[str, Any], *, verification_method: str, created: str, purpose: str
) -> dict[str, Any]:
    """Return the proof options that are hashed with the document (no proofValue)."""
    return {
        "@context": document["@context"],
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": purpose,
    }


@lru_cache(maxsize=1024)
def _config_hash(config_json: str, loader: DocumentLoader) -> bytes:
    """Hash a proof configuration once: a batch signed with one ``created`` time and key
    shares it, and so do the many credentials verified against one issuer key."""
    return hashlib.sha256(canonicalize(json.loads(config_json), loader).encode("utf-8")).digest()


def hash_data(document: Mapping[str, Any], config: Mapping[str, Any], loader: DocumentLoader) -> bytes:
    """Return SHA-256(canon(proof config)) ‖ SHA-256(canon(document)).

    vc-di-eddsa §3.3.4 (Hashing): the proof configuration hash comes first.
    """
    config_hash = _config_hash(json.dumps(config, sort_keys=True, ensure_ascii=False), loader)
    document_hash = hashlib.sha256(canonicalize(document, loader).encode("utf-8")).digest()
    return config_hash + document_hash


def create_proof(
    unsigned: Mapping[str, Any],
    key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: datetime,
    loader: DocumentLoader,
    purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Return a copy of ``unsigned`` with an eddsa-rdfc-2022 ``DataIntegrityProof``."""
    if "proof" in unsigned:
        raise MalformedCredentialError("the document already has a proof")
    config = proof_configuration(
        unsigned, verification_method=verification_method, created=xsd_datetime(created), purpose=purpose
    )
    signature = key.sign(hash_data(unsigned, config, loader))
    proof = {k: v for k, v in config.items() if k != "@context"}
    proof["proofValue"] = multibase_encode(signature)
    return {**unsigned, "proof": proof}


def split_proof(document: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (document without proof, the single proof); reject anything else."""
    if not isinstance(document, Mapping):
        raise MalformedCredentialError("the document is not a JSON object")
    proof = document.get("proof")
    if isinstance(proof, list):
        if len(proof) != 1:
            raise MalformedCredentialError("expected exactly one proof")
        proof = proof[0]
    if not isinstance(proof, Mapping):
        raise MalformedCredentialError("the document has no proof")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    return unsecured, dict(proof)


def verify_proof(
    document: Mapping[str, Any], public_key: Ed25519PublicKey, *, loader: DocumentLoader
) -> bool:
    """Return True when the document's eddsa-rdfc-2022 proof is valid for ``public_key``.

    Malformed proofs are simply invalid (False); undefined terms and unknown contexts raise,
    so that the caller can say *why* a document cannot be checked.
    """
    unsecured, proof = split_proof(document)
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return False
    value = proof.get("proofValue")
    created, method, purpose = proof.get("created"), proof.get("verificationMethod"), proof.get("proofPurpose")
    if not all(isinstance(v, str) for v in (value, created, method, purpose)):
        return False
    # vc-di-eddsa §3.3.2: the proof config carries the document's @context; any other proof
    # member would change the hash, so rebuild it from exactly the members we accept.
    extra = set(proof) - {"type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "proofValue", "@context"}
    if extra:
        return False
    try:
        signature = multibase_decode(value)
    except KeyFormatError:
        return False
    if len(signature) != 64:
        return False
    config = proof_configuration(unsecured, verification_method=method, created=created, purpose=purpose)
    return verify_signature(public_key, signature, hash_data(unsecured, config, loader))
