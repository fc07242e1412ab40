"""Concurrent awards never share a status index (separate sessions, one database)."""

import threading

from helpers import FIXED_NOW
from sqlalchemy import select

from badges import awarding
from badges.models import Award

THREADS = 4
PER_THREAD = 25


def test_concurrent_awards_get_distinct_status_slots(app, session, world, site):
    maker = app.extensions["badges.sessionmaker"]
    version_id = world.badge.current.id
    client_ids = [c.id for c in world.clients]
    org_id = world.org.id
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work(worker: int) -> None:
        from badges.models import AchievementVersion, Organisation, User

        try:
            start.wait()
            for n in range(PER_THREAD):
                with maker() as own:
                    organisation = own.get(Organisation, org_id)
                    awarding.award_one(
                        own, site, organisation, version=own.get(AchievementVersion, version_id),
                        recipient=own.get(User, client_ids[n % len(client_ids)]), key=f"t{worker}:{n}",
                        now=FIXED_NOW,
                    )
                    own.commit()
        except BaseException as error:  # reported below, with the worker's number
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:3]
    session.expire_all()
    slots = session.execute(select(Award.status_list_id, Award.status_index)).all()
    assert len(slots) == THREADS * PER_THREAD
    assert len(set(slots)) == len(slots)
