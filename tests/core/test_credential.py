"""Building OpenBadgeCredentials and hashing recipient identities."""

import hashlib
from datetime import datetime, timedelta

import pytest

from badges.core.canonical import canonicalize
from badges.core.contexts import OB_EXTENSIONS, OB_V3, VC_V2
from badges.core.credential import (
    EPERUSTEET_TARGET_TYPE,
    OB_SCHEMA_URL,
    Evidence,
    Identity,
    Issuer,
    build_credential,
    hash_identity,
    identity_matches,
    normalise_identity,
)


def test_credential_has_the_contexts_in_order(make_credential_data):
    credential = build_credential(make_credential_data())
    # VC v2 first, then OB 3.0.3, then extensions.json for 1EdTechJsonSchemaValidator2019.
    assert credential["@context"] == [VC_V2, OB_V3, OB_EXTENSIONS]
    assert OB_V3.endswith("/context-3.0.3.json")
    assert credential["credentialSchema"] == [
        {"id": OB_SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}
    ]


def test_credential_shape(make_credential_data, demo):
    credential = build_credential(make_credential_data())
    assert credential["id"] == demo.credential_id
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["name"] == "Puutuotteiden valmistus"
    assert credential["validFrom"] == "2025-01-02T03:04:05Z"
    assert "validUntil" not in credential
    assert "issuanceDate" not in credential  # a VC 1.1 term; never in new credentials
    assert credential["issuer"] == {
        "id": demo.issuer_did,
        "type": ["Profile"],
        "name": "Demosäätiö – työpaja Verstas",
        "url": "https://demo-saatio.example.test",
        "email": "verstas@demo-saatio.example.test",
        "image": {
            "id": "https://passport.example.test/issuers/demo-saatio/logo.png",
            "type": "Image",
        },
    }
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert "id" not in subject
    assert subject["identifier"][0]["type"] == "IdentityObject"
    assert subject["identifier"][0]["hashed"] is True
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["criteria"]["narrative"].startswith("Osaa ")
    assert achievement["inLanguage"] == "fi"
    assert achievement["image"]["caption"] == "Merkki: höylä ja lankku"
    assert [a["targetCode"] for a in achievement["alignment"]] == [
        "tutkinnonosat_106003",
        "ammattitaitovaatimukset_413",
    ]
    assert all(a["targetType"] == EPERUSTEET_TARGET_TYPE for a in achievement["alignment"])
    assert credential["evidence"] == [
        {
            "type": ["Evidence"],
            "name": "Ohjaajan havainto",
            "narrative": "Valmisti linnunpöntön itsenäisesti piirustuksen mukaan.",
        }
    ]
    assert credential["credentialStatus"] == {
        "id": f"{demo.status_list_url}#{demo.status_index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(demo.status_index),
        "statusListCredential": demo.status_list_url,
    }


def test_credential_uses_only_defined_terms(make_credential_data, loader):
    data = make_credential_data(
        valid_until=datetime.fromisoformat("2030-01-01T00:00:00+02:00"),
        awarded_at=datetime.fromisoformat("2024-12-31T10:00:00+02:00"),
        subject_id="did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
        evidence=(
            Evidence(
                id="https://example.test/e/1", name="Kuva", description="Valokuva", genre="Kuva"
            ),
        ),
        issuer=Issuer(id="did:web:example.test", name="Säätiö", description="Työpaja"),
    )
    credential = build_credential(data)
    assert credential["validUntil"] == "2029-12-31T22:00:00Z"
    assert credential["awardedDate"] == "2024-12-31T08:00:00Z"
    assert credential["credentialSubject"]["id"].startswith("did:key:")
    canonicalize(credential, loader)  # raises UndefinedTermError on any undefined term


def test_optional_parts_are_left_out(make_credential_data):
    credential = build_credential(make_credential_data(evidence=(), status=None))
    assert "evidence" not in credential
    assert "credentialStatus" not in credential


def test_subject_needs_an_id_or_an_identifier(make_credential_data):
    with pytest.raises(ValueError, match="identifier"):
        build_credential(make_credential_data(identities=()))


@pytest.mark.parametrize("field", ["issued_at", "valid_until", "awarded_at"])
def test_naive_datetimes_are_refused(make_credential_data, field):
    with pytest.raises(ValueError, match="timezone"):
        build_credential(make_credential_data(**{field: datetime(2025, 1, 2, 3, 4, 5)}))  # noqa: DTZ001


def test_identity_hash_follows_the_spec_example():
    # OB 3.0 IdentityObject: identityHash = "sha256$" + hex(sha256(identity + salt)).
    identity = hash_identity("emailAddress", "a@example.com", "Kosher")
    expected = hashlib.sha256(b"a@example.comKosher").hexdigest()
    assert identity.identity_hash == "sha256$" + expected
    assert identity.to_json() == {
        "type": "IdentityObject",
        "identityType": "emailAddress",
        "hashed": True,
        "identityHash": "sha256$" + expected,
        "salt": "Kosher",
    }


def test_email_is_trimmed_and_lower_cased():
    assert (
        normalise_identity("emailAddress", "  Maija.Meikalainen@Example.FI ")
        == "maija.meikalainen@example.fi"
    )
    assert hash_identity("emailAddress", "A@Example.com", "s") == hash_identity(
        "emailAddress", "a@example.com", "s"
    )


def test_name_normalisation_matches_typing_variants():
    recorded = hash_identity("name", "maija meikäläinen", "suola")
    for typed in ("Maija  Meikäläinen", " MAIJA MEIKÄLÄINEN ", "Maija\tMeika\u0308la\u0308inen"):
        assert hash_identity("name", typed, "suola") == recorded, typed
    assert hash_identity("name", "Maija Meikäläine", "suola") != recorded


def test_identity_matches_hashed_identifiers():
    identity = hash_identity("emailAddress", "maija@example.fi", "suola").to_json()
    assert identity_matches(identity, "MAIJA@example.fi ")
    assert not identity_matches(identity, "matti@example.fi")
    assert not identity_matches({**identity, "salt": "toinen"}, "maija@example.fi")


def test_identity_matches_unhashed_identifiers_after_normalising_both():
    identity = {
        "type": "IdentityObject",
        "identityType": "name",
        "hashed": False,
        "identityHash": "Maija Meikäläinen",
    }
    assert identity_matches(identity, "maija  meikäläinen")
    assert not identity_matches(identity, "Matti Meikäläinen")


def test_identity_matches_legacy_md5():
    digest = hashlib.md5(b"a@example.comKosher", usedforsecurity=False).hexdigest()
    identity = {
        "identityType": "emailAddress",
        "hashed": True,
        "identityHash": f"md5${digest.upper()}",
        "salt": "Kosher",
    }
    assert identity_matches(identity, "a@example.com")


@pytest.mark.parametrize(
    "identity",
    [
        {},
        {"identityHash": 5, "hashed": True},
        {"identityHash": "sha1$abc", "hashed": True, "identityType": "emailAddress"},
        {"identityHash": "sha256$ä€", "hashed": True, "identityType": "emailAddress"},  # non-ASCII
        {"identityHash": "a@example.com", "hashed": "false", "identityType": "emailAddress"},
        {"identityHash": "a@example.com", "identityType": "emailAddress"},  # hashed is required
        {"identityHash": "sha256$x", "hashed": True, "salt": ["x"]},
    ],
)
def test_identity_matches_is_false_for_odd_identifiers(identity):
    assert identity_matches(identity, "a@example.com") is False


def test_identity_is_a_plain_value():
    identity = Identity(identity_type="name", identity_hash="sha256$00", salt="s")
    assert identity == Identity("name", "sha256$00", "s")


def test_build_credential_accepts_aware_non_utc_times(make_credential_data):
    helsinki = datetime.fromisoformat("2025-01-02T05:04:05+02:00")
    credential = build_credential(
        make_credential_data(issued_at=helsinki, valid_until=helsinki + timedelta(days=1))
    )
    assert credential["validFrom"] == "2025-01-02T03:04:05Z"
    assert credential["validUntil"] == "2025-01-03T03:04:05Z"
