"""Endorsements and awards that embed them verify in the independent JavaScript VC stack."""

import copy
import json
from datetime import timedelta

from badges import endorsements
from endorse_helpers import documents, endorse, issue, with_status
from helpers import FIXED_NOW


def test_endorsement_json_verifies_in_the_js_stack_and_its_withdrawal_shows(client, session, site, world,
                                                                             js_verify):
    endorsement = endorse(session, site, world)
    served = json.loads(client.get(f"/endorsements/{endorsement.public_id}.json").data)
    assert served == json.loads(endorsement.document)
    result = js_verify(served, with_status(client, documents(client, "opisto"), served))
    assert result["verified"], result["errors"]
    assert result["statusRevoked"] is False
    endorsements.withdraw_endorsement(session, site, endorsement, reason=None, actor=world.teacher,
                                      now=FIXED_NOW + timedelta(hours=1))
    session.commit()
    result = js_verify(served, with_status(client, documents(client, "opisto"), served))
    assert result["statusRevoked"] is True


def test_an_award_with_an_embedded_endorsement_verifies_in_the_js_stack(client, session, site, world, js_verify):
    endorse(session, site, world)
    award = issue(session, site, world)
    credential = json.loads(client.get(f"/credentials/{award.public_id}.json").data)
    embedded = credential["credentialSubject"]["achievement"]["endorsement"][0]
    docs = with_status(client, documents(client, "verstas", "opisto"), credential)
    docs = with_status(client, docs, embedded)
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["achievement"]["endorsement"][0]["credentialSubject"][
        "endorsementComment"] = "Merkki vastaa koko tutkintoa."
    award_result, endorsement_result, tampered_result = js_verify.batch(
        [(credential, docs), (embedded, docs), (tampered, docs)]
    )
    assert award_result["verified"], award_result["errors"]
    assert award_result["statusRevoked"] is False
    assert endorsement_result["verified"], endorsement_result["errors"]
    assert not tampered_result["verified"]
