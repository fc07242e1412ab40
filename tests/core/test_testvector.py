"""The 1EdTech OB 3.0 eddsa-rdfc-2022 test vector, reproduced byte for byte."""

import json
from pathlib import Path

import pytest

from badges.core.dates import parse_datetime
from badges.core.keys import private_key_from_seed, public_key_from_multibase, public_key_multibase
from badges.core.signing import create_proof, verify_proof

#: The repository is ../main next to ../shared (see /work/shared/ob3/README.md).
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
VECTOR = SHARED / "ob3" / "1edtech-ldp-testvector.json"
SEED = bytes.fromhex("6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4")
MULTIKEY = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"

pytestmark = pytest.mark.skipif(not VECTOR.is_file(), reason="../shared is absent")


@pytest.fixture
def vector_text() -> str:
    """Return the test vector file as published."""
    return VECTOR.read_text(encoding="utf-8")


def test_testvector_key_matches_published_multikey():
    key = private_key_from_seed(SEED)
    assert public_key_multibase(key.public_key()) == MULTIKEY


def test_testvector_is_reproduced_byte_for_byte(vector_text, loader):
    vector = json.loads(vector_text)
    unsigned = {k: v for k, v in vector.items() if k != "proof"}
    signed = create_proof(
        unsigned,
        private_key_from_seed(SEED),
        verification_method=vector["proof"]["verificationMethod"],
        created=parse_datetime(vector["proof"]["created"]),
        loader=loader,
    )
    assert signed["proof"]["proofValue"] == vector["proof"]["proofValue"]
    assert signed == vector
    # The file lists the proof members in another order; with that order (and nothing else
    # taken from the file) our output serialises to exactly the published bytes.
    reordered = {**signed, "proof": {k: signed["proof"][k] for k in vector["proof"]}}
    assert json.dumps(reordered, indent=2, ensure_ascii=False) == vector_text.rstrip("\n")


def test_testvector_verifies(vector_text, loader):
    vector = json.loads(vector_text)
    assert verify_proof(vector, public_key_from_multibase(MULTIKEY), loader=loader)


def test_testvector_with_one_character_changed_in_name_is_rejected(vector_text, loader):
    vector = json.loads(vector_text)
    assert vector["name"] == "Teamwork Badge"
    vector["name"] = "Teamwork Badgf"
    assert not verify_proof(vector, public_key_from_multibase(MULTIKEY), loader=loader)
