"""Helpers shared by the endorsement tests."""

import json

from sqlalchemy import func, select

from badges import endorsements, services
from badges.models import Endorsement
from helpers import FIXED_NOW

COMMENT = "Merkki osoittaa tämän ammattitaitovaatimuksen. Otamme sen huomioon tunnustamisessa."


def endorse(session, site, world, *, codes=("ammattitaitovaatimukset_414",), comment=COMMENT, now=FIXED_NOW,
            achievement=None, endorser=None):
    """Let the school endorse ``world.badge`` (or ``achievement``) and commit."""
    endorsement = endorsements.create_endorsement(
        session, site, endorser=endorser or world.school, achievement=achievement or world.badge,
        comment=comment, codes=list(codes), actor=world.teacher, now=now,
    )
    session.commit()
    return endorsement


def count(session) -> int:
    """Return how many endorsements are stored."""
    return session.scalar(select(func.count()).select_from(Endorsement))


def documents(client, *slugs) -> dict:
    """Return {DID: DID document, status URL: status list} fetched through the app, for verifiers."""
    result = {}
    for slug in slugs:
        did_doc = client.get(f"/issuers/{slug}/did.json").get_json()
        result[did_doc["id"]] = did_doc
    return result


def with_status(client, docs: dict, credential: dict) -> dict:
    """Add the status list credential ``credential`` names to ``docs``."""
    url = credential["credentialStatus"]["statusListCredential"]
    docs[url] = json.loads(client.get(url.split("passi.example.test", 1)[1]).data)
    return docs


def issue(session, site, world, *, now=FIXED_NOW):
    """Issue ``world.badge`` to Maija and commit."""
    award = services.issue_award(session, site, version=world.badge.current, recipient=world.maija,
                                 issued_by=world.coach, now=now, evidence_note="Tunnisti viisi puulajia.")
    session.commit()
    return award


def sign_in(client, user) -> None:
    """Log ``user`` in through the login form (a fresh session each time)."""
    from helpers import login

    client.post("/logout")
    response = login(client, user.email)
    assert response.status_code == 302, response.get_data(as_text=True)


def text(response) -> str:
    """Return a response's body as text."""
    return response.get_data(as_text=True)
