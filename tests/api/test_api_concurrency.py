"""Two identical requests at the same moment (one Idempotency-Key) award once and answer alike."""

import threading

import pytest
from sqlalchemy import func, select

from badges import api_tokens
from badges.models import Award, IdempotentRequest


@pytest.fixture
def both_pass_the_first_look(monkeypatch):
    """Hold each request after it looked for a stored answer until the other one did too.

    Both then go on to award, which is the race the unique constraints must settle.
    """
    barrier = threading.Barrier(2, timeout=30)
    real = api_tokens.stored_answer
    calls = {"n": 0}
    lock = threading.Lock()

    def stored_answer(*args, **kwargs):
        found = real(*args, **kwargs)
        with lock:
            calls["n"] += 1
            first_look = calls["n"] <= 2
        if first_look:
            barrier.wait()
        return found

    monkeypatch.setattr(api_tokens, "stored_answer", stored_answer)
    return calls


def test_concurrent_duplicates_award_once(app, contract, session, world, make_token, both_pass_the_first_look):
    from api_helpers import ApiClient

    token = make_token(world.coach)
    body = {"badge": world.badge2.public_id, "client": world.matti.public_id, "narrative": "Samaan aikaan."}
    before = session.scalar(select(func.count(Award.id)))
    answers: list = [None, None]
    errors: list[BaseException] = []

    def send(slot: int) -> None:
        try:
            client = ApiClient(app.test_client(), contract, token)
            answers[slot] = client.post("/awards", json=body, headers={"Idempotency-Key": "together"})
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert both_pass_the_first_look["n"] >= 2  # both really raced past the first look
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json == answers[1].json
    assert sorted(a.headers.get("Idempotent-Replayed", "") for a in answers) == ["", "true"]
    session.expire_all()
    assert session.scalar(select(func.count(Award.id))) == before + 1
    assert session.scalar(select(func.count(IdempotentRequest.id))) == 1
