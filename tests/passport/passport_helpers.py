"""Helpers shared by the passport tests (fixtures live in conftest.py)."""

from badges.models import User


def sign_in(client, user: User) -> None:
    """Log ``user`` in through the session cookie (no password round trip)."""
    with client.session_transaction() as cookie:
        cookie["_user_id"] = user.public_id
        cookie["_fresh"] = True


def aligned(code: str) -> list[dict]:
    """Return one alignment to ``code``."""
    return [{"targetName": f"Requirement {code}", "targetCode": code,
             "targetUrl": f"https://eperusteet.opintopolku.fi/#/fi/ammatillinen/1/tutkinnonosat/{code}",
             "targetFramework": "Puuteollisuuden perustutkinto"}]
