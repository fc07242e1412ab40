"""Public documents are cacheable by how often they change; a person's own pages never are."""

import pytest
from helpers import FIXED_NOW, login
from perf_helpers import make_share

from badges import services


def _cacheable(client, url: str, headers: dict | None = None):
    """GET ``url``; check the ETag round trip (304 without a body); return the first response."""
    first = client.get(url, headers=headers or {})
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.data
    again = client.get(url, headers={**(headers or {}), "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    other = client.get(url, headers={**(headers or {}), "If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == first.data
    return first


@pytest.fixture
def award(session, site, holder):
    """One of Maija's awards."""
    return holder.award(session, site, 1)[0]


@pytest.mark.parametrize("suffix", [".json", ".png", ".svg"])
def test_a_credential_never_changes_so_it_is_cached_for_a_week(client, award, suffix):
    response = _cacheable(client, f"/credentials/{award.public_id}{suffix}")
    control = response.cache_control
    assert control.public and control.max_age == 7 * 24 * 3600 and control.immutable
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_badge_image_is_cached_for_a_week(client, award):
    response = _cacheable(client, f"/achievements/{award.achievement_version.public_id}/image.png")
    assert response.cache_control.max_age == 7 * 24 * 3600 and response.cache_control.immutable


@pytest.mark.parametrize("path", ["/issuers/verstas/did.json", "/issuers/verstas", "/achievements/{version}"])
def test_documents_that_change_now_and_then_are_cached_for_five_minutes(client, award, path):
    url = path.format(version=award.achievement_version.public_id)
    response = _cacheable(client, url, {"Accept": "application/ld+json"})
    control = response.cache_control
    assert control.public and control.max_age == 300 and not control.immutable
    assert "Accept" in response.headers["Vary"]  # the same URL serves a page to browsers


def test_the_status_list_is_cached_briefly_and_a_revocation_changes_its_etag(client, session, site, award):
    url = f"/status/{award.status_list.public_id}"
    before = _cacheable(client, url)
    assert before.cache_control.public and before.cache_control.max_age == 60
    services.revoke_award(session, site, award, reason="Väärä henkilö", now=FIXED_NOW)
    session.commit()
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]


def test_static_files_are_revalidated_by_their_etag(client):
    response = client.get("/static/css/app.css")
    response.close()  # a file response: close it, as a server does
    assert response.status_code == 200 and response.cache_control.max_age == 600
    again = client.get("/static/css/app.css", headers={"If-None-Match": response.headers["ETag"]})
    again.close()
    assert again.status_code == 304


def test_the_passport_and_a_share_are_never_stored(client, session, site, holder, award):
    login(client, "maija@example.test")
    for url in ("/passport", f"/passport/badges/{award.public_id}", "/passport/shares"):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response.headers["Cache-Control"], url
        assert "ETag" not in response.headers
    _, token = make_share(session, holder.maija, [award])
    client.post("/logout")
    shared = client.get(f"/s/{token}")
    assert shared.status_code == 200 and "no-store" in shared.headers["Cache-Control"]


def test_unknown_documents_are_not_cached_as_found(client):
    missing = client.get("/credentials/" + "0" * 32 + ".json")
    assert missing.status_code == 404 and "ETag" not in missing.headers
