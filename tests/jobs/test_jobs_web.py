"""The coach's job page with a queue: the job waits for a worker, the progress bar is accessible."""

import io
import re

from helpers import login
from jobs_helpers import check_awards, work_burst
from sqlalchemy import select

from badges.models import Job


def _upload(client, bulk):
    text = "client,badge\n" + "".join(f"{c.public_id},{bulk.badge.public_id}\n" for c in bulk.clients)
    return client.post("/org/verstas/bulk?lang=en", data={"file": (io.BytesIO(text.encode()), "a.csv", "text/csv")},
                       content_type="multipart/form-data")


def test_a_started_job_waits_for_a_worker_with_an_accessible_progress_bar(queue_app, client, session, bulk):
    assert login(client, "coach@example.test").status_code == 302
    job_url = _upload(client, bulk).headers["Location"]
    assert client.post(f"{job_url}/start").status_code == 302
    job = session.scalar(select(Job))
    session.refresh(job)
    assert job.status == "queued"  # the web process only queued it

    page = client.get(f"{job_url}?lang=en").get_data(as_text=True)
    assert "Waiting" in page and "0 of 4" in page
    label = re.search(r'<label for="job-progress"[^>]*>([^<]+)</label>', page)
    assert label and label.group(1).strip() == "Badges awarded so far"
    assert re.search(r'<progress id="job-progress" max="4" value="0" aria-describedby="job-count">0 of 4</progress>',
                     page)
    assert 'role="status" aria-live="polite" data-progress-announce' in page
    assert 'data-progress-status="queued"' in page and "js/progress.js" in page
    assert '<meta http-equiv="refresh"' in page  # inside <noscript>: without JavaScript the page reloads
    state = client.get(f"{job_url}.json?lang=en").get_json()
    assert state == {"id": job.public_id, "status": "queued", "done": 0, "total": 4, "finished": False,
                     "error": None, "text": "0 of 4"}

    work_burst(queue_app)
    session.expire_all()  # the requests of this test share its database session
    state = client.get(f"{job_url}.json?lang=en").get_json()
    assert state["status"] == "done" and state["done"] == 4 and state["finished"]
    page = client.get(f"{job_url}?lang=en").get_data(as_text=True)
    assert "4 badges were awarded" in page and "js/progress.js" not in page
    check_awards(session, job)


def test_another_organisations_staff_cannot_follow_the_job(queue_app, client, session, bulk, make_org, make_user):
    other = make_org("toinen", "Säätiö Toinen")
    make_user("other.coach@example.test", "Olli Muu", organisation=other, role="coach")
    session.commit()
    login(client, "coach@example.test")
    job_url = _upload(client, bulk).headers["Location"]
    outsider = queue_app.test_client()
    assert login(outsider, "other.coach@example.test").status_code == 302
    assert outsider.get(f"{job_url}.json").status_code == 404
    assert outsider.get(job_url).status_code == 404
    assert outsider.post(f"{job_url}/start").status_code == 404
    assert session.scalar(select(Job)).status == "draft"
