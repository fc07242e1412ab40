"""Bulk award of N credentials end to end, as a coach's CSV or group award runs it.

Run in its own process by ``run.py`` (one per database) so that its peak memory is its own:

    python bench/bulk.py --database sqlite --count 10000

The rows go through the job path of the app (``awarding.create_job`` as a draft, then
``awarding.start_job`` and ``jobs.run_job``): every award is built, signed, stored with its
status-list index and audit event, committed row by row with the job's progress. Baking needs no
work here: the PNG and SVG are spliced per download (see ``bake_png_us`` in the results).
Prints one JSON object.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import common


def main(argv: list[str] | None = None) -> int:
    """Measure one bulk award and print the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=1000, help="distinct recipients (rows cycle through them)")
    parser.add_argument("--badges", type=int, default=10, help="distinct badges (rows cycle through them)")
    args = parser.parse_args(argv)
    with common.temp_folder() as tmp, common.database(args.database, Path(tmp)) as url:
        print(json.dumps(measure(url, Path(tmp), count=args.count, clients=args.clients, badges=args.badges)))
    return 0


def measure(url: str, folder: Path, *, count: int, clients: int, badges: int) -> dict:
    """Seed an organisation, then award ``count`` badges through one job; return the numbers."""
    from sqlalchemy import func, select

    from badges import awarding, jobs
    from badges.db import get_session
    from badges.models import Award, Job

    started = time.perf_counter()
    app = common.make_app(url, folder / "instance")
    with app.app_context():
        session = get_session()
        organisation, coach = common.organisation_with_staff(session, common.site_of(app))
        versions = [b.current for b in common.make_badges(session, organisation, badges)]
        people = common.make_clients(session, organisation, min(clients, count))
        rows = [
            {
                "line": index + 2, "client": people[index % len(people)].public_id,
                "version": versions[index % len(versions)].public_id,
                "note": f"Havainto {index}: teki työn huolellisesti ja turvallisesti.", "observed": None,
                "photo": None,
            }
            for index in range(count)
        ]
        session.commit()
        setup_s = time.perf_counter() - started

        begin = time.perf_counter()
        job = awarding.create_job(session, organisation, rows=rows, created_by=coach, now=common.NOW,
                                  source="bench", status=awarding.DRAFT)
        problems = awarding.start_job(session, organisation, job, actor=coach, now=common.NOW)
        if problems:
            raise SystemExit(f"the job was refused: {problems[:3]}")
        session.commit()
        public_id = job.public_id
        status = jobs.run_job(app, public_id)
        wall = time.perf_counter() - begin

        session.expire_all()
        job = session.scalar(select(Job).where(Job.public_id == public_id))
        issued = session.scalar(select(func.count()).select_from(Award))
        slots = session.scalar(select(func.count(func.distinct(Award.status_list_id * 1_000_000 + Award.status_index))))
        unverified = session.scalar(select(func.count()).select_from(Award).where(Award.verified_at.is_(None)))
    app.extensions["badges.engine"].dispose()
    if status != "done" or issued != count or slots != count:
        raise SystemExit(f"bulk award incomplete: status={status} issued={issued} slots={slots} error={job.error}")
    return {
        "count": count, "wall_s": wall, "awards_per_s": count / wall, "setup_s": setup_s,
        "peak_rss_mb": common.peak_rss_mb(), "job_status": status, "unverified": unverified,
    }


if __name__ == "__main__":
    sys.exit(main())
