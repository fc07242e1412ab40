"""Deleting an account also deletes the person's API tokens and stored API answers."""

from sqlalchemy import func, select

from badges import api_tokens, passport
from badges.models import ApiToken, IdempotentRequest
from badges.web import utcnow


def test_erasing_a_person_deletes_their_tokens_and_stored_answers(api, session, world, make_token):
    maija_token = make_token(world.maija)
    coach = api.as_(make_token(world.coach))
    awarded = coach.post("/awards", json={"badge": world.badge2.public_id, "client": world.maija.public_id},
                         headers={"Idempotency-Key": "erase-1"})
    assert awarded.status_code == 201
    api_tokens.store_answer(session, world.maija, "k", "0" * 64, status=201, body='{"note": "Maija"}', now=utcnow())
    session.commit()

    passport.erase_personal_data(session, world.maija, now=utcnow())
    session.commit()

    assert session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == world.maija.id)) == 0
    assert session.scalar(select(func.count(IdempotentRequest.id)).where(
        IdempotentRequest.user_id == world.maija.id)) == 0
    assert api.as_(maija_token).get("/me").status_code == 401
    # The coach's own stored answer stays: it holds opaque ids only, never the client's name.
    (stored,) = session.scalars(select(IdempotentRequest.response).where(
        IdempotentRequest.user_id == world.coach.id)).all()
    assert "Maija" not in stored and world.maija.public_id in stored
    assert coach.get("/me").status_code == 200
