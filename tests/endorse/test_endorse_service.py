"""Endorsements as signed OB 3.0 EndorsementCredentials: made, embedded in later awards, withdrawn."""

import json
from datetime import timedelta

import pytest

from badges import endorsements, library, services
from badges.core.canonical import canonicalize
from badges.core.contexts import static_loader
from badges.core.credential import ENDORSEMENT_SCHEMA_URL
from badges.core.fastcanon import canonicalize_fast
from badges.endorsements import EndorsementError
from endorse_helpers import COMMENT, count, endorse, issue
from helpers import BASE_URL, FIXED_NOW


def test_endorsement_is_a_signed_endorsement_credential_of_the_badge(session, site, world):
    endorsement = endorse(session, site, world)
    document = json.loads(endorsement.document)
    assert document["@context"][:2] == ["https://www.w3.org/ns/credentials/v2",
                                         "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert document["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert document["id"] == f"{BASE_URL}/endorsements/{endorsement.public_id}"
    assert document["issuer"]["id"] == site.issuer_did("opisto")
    assert document["issuer"]["name"] == "Ammattiopisto Esimerkki"
    assert document["name"].startswith("Suositus: ")
    subject = document["credentialSubject"]
    assert subject["type"] == ["EndorsementSubject"]
    assert subject["id"] == site.achievement_url(world.badge.current.public_id)
    assert subject["endorsementComment"].startswith(COMMENT)
    assert "ammattitaitovaatimukset_414" in subject["endorsementComment"]
    assert document["credentialSchema"] == [{"id": ENDORSEMENT_SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}]
    status = document["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusListCredential"].startswith(f"{BASE_URL}/status/")
    assert endorsement.status_list_id is not None
    proof = document["proof"]
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"].startswith(site.issuer_did("opisto") + "#")
    assert endorsement.requirements == [{
        "unit": "tutkinnonosat_105444", "requirement": "ammattitaitovaatimukset_414",
        "name": endorsement.requirements[0]["name"], "url": endorsement.requirements[0]["url"],
        "framework": endorsement.requirements[0]["framework"],
    }]


def test_endorsement_verifies_in_our_verifier_and_shows_withdrawal(session, site, world):
    endorsement = endorse(session, site, world)
    result = services.verify_document(session, site, json.loads(endorsement.document), now=FIXED_NOW)
    assert result.verified, result.to_json()
    endorsements.withdraw_endorsement(session, site, endorsement, reason="Perusteet uudistuivat.",
                                      actor=world.teacher, now=FIXED_NOW + timedelta(days=1))
    session.commit()
    result = services.verify_document(session, site, json.loads(endorsement.document), now=FIXED_NOW)
    assert not result.verified
    assert result.revoked


def test_a_tampered_endorsement_does_not_verify(session, site, world):
    document = json.loads(endorse(session, site, world).document)
    document["credentialSubject"]["endorsementComment"] = "Merkki vastaa koko tutkintoa."
    assert not services.verify_document(session, site, document, now=FIXED_NOW).verified


def test_later_awards_embed_the_endorsements_in_force_and_still_verify(session, site, world):
    before = json.loads(issue(session, site, world).document)
    assert "endorsement" not in before["credentialSubject"]["achievement"]
    endorsement = endorse(session, site, world)
    award = issue(session, site, world)
    document = json.loads(award.document)
    embedded = document["credentialSubject"]["achievement"]["endorsement"]
    assert embedded == [json.loads(endorsement.document)]
    assert services.verify_document(session, site, document, now=FIXED_NOW).verified
    # the embedded endorsement is itself checkable, on its own
    assert services.verify_document(session, site, embedded[0], now=FIXED_NOW).verified


def test_withdrawn_endorsements_are_not_embedded_in_later_awards(session, site, world):
    endorsement = endorse(session, site, world)
    earlier = json.loads(issue(session, site, world).document)
    endorsements.withdraw_endorsement(session, site, endorsement, reason=None, actor=world.teacher, now=FIXED_NOW)
    session.commit()
    later = json.loads(issue(session, site, world).document)
    assert "endorsement" not in later["credentialSubject"]["achievement"]
    # an award made before the withdrawal keeps its signed copy; the status list tells the rest
    assert len(earlier["credentialSubject"]["achievement"]["endorsement"]) == 1
    assert services.verify_document(session, site, earlier, now=FIXED_NOW).verified


def test_the_achievement_document_lists_endorsements_in_force(session, site, world):
    endorsement = endorse(session, site, world)
    document = services.achievement_document(site, world.badge.current)
    assert [e["id"] for e in document["endorsement"]] == [f"{BASE_URL}/endorsements/{endorsement.public_id}"]
    canonicalize(document, static_loader())  # every term is defined (no undefined-term error)


def test_canonical_form_of_an_endorsed_award_is_the_general_paths(session, site, world):
    endorse(session, site, world)
    document = json.loads(issue(session, site, world).document)
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    loader = static_loader()
    assert canonicalize(unsigned, loader) == canonicalize(unsigned, loader, fast=False)


def test_awards_without_endorsements_keep_the_fast_canonicalization_path(session, site, world):
    document = json.loads(issue(session, site, world).document)
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    guarded = {**unsigned, "@context": [*unsigned["@context"], {"@vocab": "urn:osaamispassi:undefined-term#"}]}
    assert canonicalize_fast(guarded, static_loader()) is not None


@pytest.mark.parametrize(("change", "code"), [
    ({"comment": "  "}, "endorse_comment_missing"),
    ({"comment": "x" * 2001}, "endorse_comment_too_long"),
    ({"codes": ()}, "endorse_no_requirement"),
])
def test_bad_input_is_refused_and_nothing_is_stored(session, site, world, change, code):
    with pytest.raises(EndorsementError) as caught:
        endorse(session, site, world, **change)
    assert caught.value.code == code
    session.rollback()
    assert count(session) == 0


def test_unknown_requirement_codes_are_all_named(session, site, world):
    with pytest.raises(library.UnknownAlignmentError) as caught:
        endorse(session, site, world, codes=("ammattitaitovaatimukset_414", "eiole_1", "tutkinnonosat_0"))
    assert caught.value.codes == ("eiole_1", "tutkinnonosat_0")
    session.rollback()
    assert count(session) == 0


def test_a_whole_unit_can_be_endorsed(session, site, world):
    endorsement = endorse(session, site, world, codes=("tutkinnonosat_105444",))
    assert endorsement.requirements[0]["unit"] == "tutkinnonosat_105444"
    assert endorsement.requirements[0]["requirement"] is None


def test_only_an_education_provider_endorses(session, site, world):
    with pytest.raises(EndorsementError) as caught:
        endorse(session, site, world, endorser=world.other)
    assert caught.value.code == "endorse_not_provider"
    assert caught.value.status == 403


def test_an_organisation_does_not_endorse_its_own_badge(session, site, world, make_badge):
    own = make_badge(world.school, name="Oma merkki")
    with pytest.raises(EndorsementError) as caught:
        endorse(session, site, world, achievement=own)
    assert caught.value.code == "endorse_own_badge"


def test_a_retired_badge_cannot_be_endorsed(session, site, world):
    world.badge.retired_at = FIXED_NOW
    session.commit()
    with pytest.raises(EndorsementError) as caught:
        endorse(session, site, world)
    assert caught.value.code == "endorse_retired"


def test_one_endorsement_in_force_per_endorser_and_badge(session, site, world):
    first = endorse(session, site, world)
    with pytest.raises(EndorsementError) as caught:
        endorse(session, site, world)
    assert caught.value.code == "endorse_duplicate"
    session.rollback()
    endorsements.withdraw_endorsement(session, site, session.merge(first), reason=None, actor=world.teacher,
                                      now=FIXED_NOW)
    session.commit()
    endorse(session, site, world)  # a fresh endorsement after the withdrawal
    assert count(session) == 2


def test_withdrawing_twice_is_refused(session, site, world):
    endorsement = endorse(session, site, world)
    endorsements.withdraw_endorsement(session, site, endorsement, reason="", actor=world.teacher, now=FIXED_NOW)
    with pytest.raises(EndorsementError) as caught:
        endorsements.withdraw_endorsement(session, site, endorsement, reason="", actor=world.teacher,
                                          now=FIXED_NOW)
    assert caught.value.code == "endorse_already_withdrawn"


def test_the_endorsers_audit_log_records_both_steps(session, site, world):
    from sqlalchemy import select

    from badges.models import AuditEvent

    endorsement = endorse(session, site, world)
    endorsements.withdraw_endorsement(session, site, endorsement, reason=None, actor=world.teacher, now=FIXED_NOW)
    session.commit()
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.organisation_id == world.school.id,
                                                              AuditEvent.target == endorsement.public_id))
    assert sorted(actions) == ["endorsement.create", "endorsement.withdraw"]


def test_endorsable_badges_are_other_organisations_badges_in_use(session, site, world, make_badge):
    make_badge(world.school, name="Koulun oma merkki")
    retired = make_badge(world.org, name="Vanha merkki")
    retired.retired_at = FIXED_NOW
    session.commit()
    badges, total = endorsements.endorsable_badges(session, world.school)
    assert {b.public_id for b in badges} == {world.badge.public_id, world.other_badge.public_id}
    assert total == 2
    found, total = endorsements.endorsable_badges(session, world.school, query="vieras")
    assert [b.public_id for b in found] == [world.other_badge.public_id]
    found, _ = endorsements.endorsable_badges(session, world.school, query="verstas")  # by organisation
    assert [b.public_id for b in found] == [world.badge.public_id]
    found, _ = endorsements.endorsable_badges(session, world.school, query="100%_")
    assert found == []


def test_a_backdated_award_does_not_carry_an_endorsement_given_later(session, site, world):
    endorse(session, site, world)
    backdated = json.loads(issue(session, site, world, now=FIXED_NOW - timedelta(days=3)).document)
    assert "endorsement" not in backdated["credentialSubject"]["achievement"]


def test_one_transaction_sees_endorsements_made_and_withdrawn_in_it(session, site, world):
    def embedded() -> int:
        award = services.issue_award(session, site, version=world.badge.current, recipient=world.maija,
                                     now=FIXED_NOW)
        return len(json.loads(award.document)["credentialSubject"]["achievement"].get("endorsement", []))

    assert embedded() == 0
    endorsement = endorsements.create_endorsement(session, site, endorser=world.school, achievement=world.badge,
                                                  comment=COMMENT, codes=["ammattitaitovaatimukset_414"],
                                                  actor=None, now=FIXED_NOW)
    assert embedded() == 1
    endorsements.withdraw_endorsement(session, site, endorsement, reason=None, actor=None, now=FIXED_NOW)
    assert embedded() == 0
    session.rollback()
