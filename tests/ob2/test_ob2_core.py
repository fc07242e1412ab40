"""The pure OB 2.0 builders: recipients, badge classes, issuers and revocation lists."""

from datetime import UTC, datetime

from badges.core.credential import hash_identity
from badges.core.ob2 import (
    AssertionData,
    BadgeClassData,
    IssuerData,
    build_assertion,
    build_badge_class,
    build_issuer,
    recipient_from_identity,
    recipient_matches,
)
from ob2_helpers import check_assertion, check_badge_class, check_issuer, identity_verifies

HOST = "https://passi.example.test"


def test_an_email_identity_is_reused_as_it_is():
    identity = hash_identity("emailAddress", "Maija@Example.test", "suola").to_json()
    recipient = recipient_from_identity(identity, fallback_url=f"{HOST}/credentials/1")
    assert recipient == {"type": "email", "hashed": True, "salt": "suola", "identity": identity["identityHash"]}
    assert identity_verifies(recipient, "maija@example.test")
    assert recipient_matches(recipient, " Maija@example.test ")
    assert not recipient_matches(recipient, "matti@example.test")


def test_a_name_identity_becomes_a_hashed_url():
    identity = hash_identity("name", "Maija Meikäläinen", "suola").to_json()
    recipient = recipient_from_identity(identity, fallback_url=f"{HOST}/credentials/1")
    assert recipient["type"] == "url" and recipient["salt"] == "suola"
    assert identity_verifies(recipient, f"{HOST}/credentials/1")
    assert "Maija" not in str(recipient)


def test_a_malformed_identity_still_gives_a_hashed_recipient():
    recipient = recipient_from_identity({"identityType": "emailAddress", "hashed": "yes"}, fallback_url=f"{HOST}/c")
    assert recipient["type"] == "url" and recipient["identity"].startswith("sha256$")
    assert not recipient_matches({"type": "email"}, "x@example.test")


def test_builders_give_documents_that_pass_the_checker():
    assertion = build_assertion(AssertionData(
        id=f"{HOST}/ob2/assertions/a", badge=f"{HOST}/ob2/badges/b",
        recipient={"type": "email", "hashed": True, "salt": "s", "identity": "sha256$" + "a" * 64},
        issued_on=datetime(2026, 3, 2, 9, 30, tzinfo=UTC), expires=datetime(2027, 3, 2, tzinfo=UTC),
        evidence=[{"type": ["Evidence"], "narrative": "Havainto"}, {"type": ["Evidence"]}],
    ))
    assert check_assertion(assertion, served_at=f"{HOST}/ob2/assertions/a") == []
    assert assertion["evidence"] == [{"narrative": "Havainto"}]
    assert assertion["expires"] == "2027-03-02T00:00:00Z"
    badge = build_badge_class(BadgeClassData(
        id=f"{HOST}/ob2/badges/b", name="N", description="D", image=f"{HOST}/i.png", criteria_narrative="Osaa",
        criteria_url=f"{HOST}/achievements/b", issuer=f"{HOST}/ob2/issuers/x",
        alignments=[{"type": ["Alignment"], "targetName": "T", "targetUrl": "https://e.example/1",
                     "targetType": "ext:ePerusteet"}, {"targetName": "no url"}],
    ))
    assert check_badge_class(badge, served_at=f"{HOST}/ob2/badges/b") == []
    assert badge["alignment"] == [{"targetName": "T", "targetUrl": "https://e.example/1"}]
    issuer = build_issuer(IssuerData(id=f"{HOST}/ob2/issuers/x", name="X", url="https://x.example",
                                     email="x@example.test"))
    assert check_issuer(issuer, served_at=f"{HOST}/ob2/issuers/x") == []
    assert check_issuer(build_issuer(IssuerData(id=f"{HOST}/ob2/issuers/x", name="X", url="https://x.example")),
                        served_at=f"{HOST}/ob2/issuers/x") == ["Profile: an issuer needs an email"]
