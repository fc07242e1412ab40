"""Sharing in the browser: the client's shares, the share page, professionals, access checks."""

import html
import re
from datetime import timedelta

import pytest
from helpers import BASE_URL
from sharing_helpers import IPHONE, LINK, WINDOWS, now, share_form, sign_in, token_of
from sqlalchemy import func, select

from badges import create_app, services, sharing
from badges.models import Share, ShareAccess
from badges.web import sharing as sharing_views

EN = "?lang=en"


def _make(client, **fields):
    """Create a share through the form; return (share, link) after following to the result page."""
    response = client.post("/passport/shares/new", data=share_form(**fields))
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"] + EN).get_data(as_text=True)
    return _latest_share(), LINK.search(page).group(1)


def _latest_share():
    from badges.db import get_session

    db = get_session()
    db.expire_all()
    return db.scalars(select(Share).order_by(Share.id.desc())).first()


def _count(session, model):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


# --- who may come in ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/passport/shares", "/passport/shares/new", "/passport/shares/abc",
                                  "/passport/shares/abc/revoke", "/passport/shares/abc/created", "/network",
                                  "/network/shares/abc"])
def test_anonymous_people_are_sent_to_log_in(client, world, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_anonymous_cannot_post_a_share(client, world, session):
    response = client.post("/passport/shares/new", data=share_form())
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _count(session, Share) == 0


# --- creating -------------------------------------------------------------------------------------


def test_the_form_offers_own_valid_badges_qualifications_and_a_30_day_default(client, world):
    sign_in(client, world.maija)
    page = client.get("/passport/shares/new" + EN).get_data(as_text=True)
    assert world.wood.public_id in page and world.safety.public_id in page
    assert world.pekka_wood.public_id not in page  # another client's award is never offered
    assert "Wood industry" in page and "Osaamismerkit" in page
    default = sharing.default_expiry_day(now()).isoformat()
    latest = sharing.latest_expiry_day(now()).isoformat()
    assert f'value="{default}"' in page and f'max="{latest}"' in page
    assert 'name="include_evidence"' in page and "checked" not in page.split('name="include_evidence"')[1][:40]
    assert "pia@te.example.test" not in page  # no directory of professionals


def test_creating_shows_the_link_and_qr_code_once(client, world, session):
    sign_in(client, world.maija)
    response = client.post("/passport/shares/new", data=share_form())
    assert response.status_code == 302
    result = client.get(response.headers["Location"] + EN)
    page = result.get_data(as_text=True)
    assert result.headers["Cache-Control"] == "no-store"
    link = LINK.search(page).group(1)
    assert link.startswith(f"{BASE_URL}/s/") and len(token_of(link)) >= 43
    assert 'src="data:image/svg+xml' in page and 'alt="QR code of the share link' in page
    share = _latest_share()
    assert share.token_hash == sharing.hash_token(token_of(link))
    assert share.include_evidence is False and share.scope == "passport"
    assert share.recipient_label == "Employment services, Ms N" and share.purpose == "planning the next step"
    # Shown once: the next visit leads to the share, without the link.
    again = client.get(response.headers["Location"] + EN, follow_redirects=True).get_data(as_text=True)
    assert token_of(link) not in again and "shown only once" in again
    detail = client.get(f"/passport/shares/{share.public_id}{EN}").get_data(as_text=True)
    assert token_of(link) not in detail


def test_share_page_lifecycle_open_log_revoke_dead(client, app, world, session):
    sign_in(client, world.maija)
    share, link = _make(client)
    path = link.removeprefix(BASE_URL)

    visitor = app.test_client()
    response = visitor.get(path + EN, headers={"User-Agent": IPHONE})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert "Maija Meikäläinen" in page
    assert "Shared with Employment services, Ms N for planning the next step, until" in page
    assert "Puumateriaalien tunnistaminen" in page and "Turvallinen työskentely" in page
    assert "Pekka" not in page

    visitor.get(path, headers={"User-Agent": WINDOWS})
    session.expire_all()
    assert [(a.device, a.via) for a in share.accesses] == [("phone", "link"), ("computer", "link")]
    log = client.get(f"/passport/shares/{share.public_id}{EN}").get_data(as_text=True)
    assert "Phone" in log and "Computer" in log and "With the link" in log and "Opened 2 times" in log

    confirm = client.get(f"/passport/shares/{share.public_id}/revoke{EN}")
    assert confirm.status_code == 200 and "Yes, stop sharing" in confirm.get_data(as_text=True)
    assert _latest_share().revoked_at is None  # a GET changes nothing
    response = client.post(f"/passport/shares/{share.public_id}/revoke")
    assert response.status_code == 302
    assert _latest_share().revoked_at is not None
    detail = client.get(f"/passport/shares/{share.public_id}{EN}").get_data(as_text=True)
    assert "Revoked on" in detail and "Stopped on" in detail

    dead = visitor.get(path + EN, headers={"User-Agent": IPHONE})
    unknown = visitor.get("/s/" + "A" * 43 + EN, headers={"User-Agent": IPHONE})
    assert dead.status_code == unknown.status_code == 404
    # The pages differ only where the language links repeat the address the visitor typed.
    assert dead.get_data(as_text=True).replace(token_of(link), "A" * 43) == unknown.get_data(as_text=True)
    assert "This link is no longer valid" in dead.get_data(as_text=True)
    assert dead.headers["X-Robots-Tag"] == "noindex, nofollow" and dead.headers["Cache-Control"] == "no-store"
    assert "Maija" not in dead.get_data(as_text=True)
    assert _count(session, ShareAccess) == 2  # dead links log nothing


def test_an_expired_link_shows_the_same_page_as_an_unknown_one(client, app, world, monkeypatch):
    sign_in(client, world.maija)
    share, link = _make(client)
    visitor = app.test_client()
    unknown = visitor.get("/s/" + "B" * 43).get_data(as_text=True)
    monkeypatch.setattr(sharing_views, "utcnow", lambda: share.expires_at + timedelta(seconds=1))
    dead = visitor.get(link.removeprefix(BASE_URL))
    # The pages differ only where the language links repeat the address the visitor typed.
    assert dead.status_code == 404
    assert dead.get_data(as_text=True).replace(token_of(link), "B" * 43) == unknown
    sign_in(client, world.maija)
    detail = client.get(f"/passport/shares/{share.public_id}{EN}").get_data(as_text=True)
    assert "Ended on" in detail


def test_the_clients_own_visit_is_not_logged(client, world, session):
    sign_in(client, world.maija)
    _share, link = _make(client)
    assert client.get(link.removeprefix(BASE_URL)).status_code == 200
    assert _count(session, ShareAccess) == 0


def test_the_index_lists_every_share_with_status_recipient_purpose_and_scope(client, world, session):
    sign_in(client, world.maija)
    _make(client, recipient_label="Employer: Oy X", purpose="a summer job")
    second, _ = _make(client, scope="qualification", qualification="eperusteet:3932281", include_evidence="y")
    client.post(f"/passport/shares/{second.public_id}/revoke")
    page = client.get("/passport/shares" + EN).get_data(as_text=True)
    assert "Employer: Oy X" in page and "a summer job" in page and "Whole passport, without evidence" in page
    assert "Badges of the qualification Wood industry, with evidence" in page
    assert "Active until" in page and "Stopped on" in page


# --- form errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "message"), [
    ({"expires_on": "past"}, "The last day cannot be in the past."),
    ({"expires_on": "too-late"}, "A share can last at most one year."),
    ({"expires_on": "31.2.2026"}, "Give a date, for example 30.6.2026."),
    ({"purpose": ""}, "Write why you share."),
    ({"purpose": "x" * 501}, "Field cannot be longer than 500 characters."),
    ({"recipient_label": ""}, "Write with whom you share."),
    ({"recipient_label": "x" * 201}, "Field cannot be longer than 200 characters."),
    ({"scope": "badges"}, "Choose at least one badge."),
    ({"scope": "qualification"}, "Choose a qualification."),
    ({"scope": "qualification", "qualification": "eperusteet:999"}, "Choose a qualification."),
    ({"scope": "everything"}, "Not a valid choice."),
    ({"recipient_kind": "account", "professional_email": ""}, "Write the professional's e-mail address."),
    ({"recipient_kind": "account", "professional_email": "nobody@te.example.test"},
     "No professional account has this e-mail address."),
    ({"recipient_kind": "account", "professional_email": "pekka@example.test"},
     "No professional account has this e-mail address."),
])
def test_bad_input_gets_a_clear_message_and_saves_nothing(client, world, session, fields, message):
    today = sharing.finnish_today(now())
    dates = {"past": (today - timedelta(days=1)).isoformat(), "too-late": (today + timedelta(days=366)).isoformat()}
    if "expires_on" in fields:
        fields["expires_on"] = dates.get(fields["expires_on"], fields["expires_on"])
    sign_in(client, world.maija)
    response = client.post("/passport/shares/new" + EN, data=share_form(**fields))
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert _count(session, Share) == 0


def test_a_finnish_date_and_the_last_allowed_day_are_accepted(client, world):
    sign_in(client, world.maija)
    latest = sharing.latest_expiry_day(now())
    share, _ = _make(client, expires_on=latest.strftime("%d.%m.%Y"))
    assert share.expires_at.astimezone(sharing.HELSINKI).date() == latest


def test_a_tampered_award_id_of_another_client_is_refused(client, world, session):
    sign_in(client, world.maija)
    response = client.post("/passport/shares/new" + EN, data=share_form(
        scope="badges", awards=[world.wood.public_id, world.pekka_wood.public_id]))
    assert response.status_code == 400
    assert "A chosen badge is not available" in response.get_data(as_text=True)
    assert _count(session, Share) == 0


def test_the_service_refuses_a_tampered_award_even_past_the_form(client, world, session, monkeypatch):
    # Even if the form check were skipped, the service only accepts the client's own awards.
    monkeypatch.setattr(sharing_views.ShareForm, "validate_awards", lambda self, field: None)
    sign_in(client, world.maija)
    response = client.post("/passport/shares/new" + EN, data=share_form(
        scope="badges", awards=[world.pekka_wood.public_id]))
    assert response.status_code == 400
    assert "A chosen badge is not available" in response.get_data(as_text=True)
    assert _count(session, Share) == 0


# --- scopes on the page ---------------------------------------------------------------------------------


def test_chosen_badges_scope_shows_exactly_those(client, app, world):
    sign_in(client, world.maija)
    _share, link = _make(client, scope="badges", awards=[world.safety.public_id])
    page = app.test_client().get(link.removeprefix(BASE_URL)).get_data(as_text=True)
    assert "Turvallinen työskentely" in page and "Puumateriaalien tunnistaminen" not in page


def test_qualification_scope_shows_the_aligned_badges(client, app, world):
    sign_in(client, world.maija)
    _share, link = _make(client, scope="qualification", qualification="eperusteet:3932281")
    page = app.test_client().get(link.removeprefix(BASE_URL) + EN).get_data(as_text=True)
    assert "Puumateriaalien tunnistaminen" in page and "Turvallinen työskentely" not in page
    assert "linked to the qualification Wood industry" in page


def test_a_preselected_badge_from_the_passport(client, world):
    sign_in(client, world.maija)
    page = client.get(f"/passport/shares/new?badge={world.safety.public_id}").get_data(as_text=True)
    assert re.search(rf'value="{world.safety.public_id}"\s+checked', page)
    page = client.get(f"/passport/shares/new?badge={world.pekka_wood.public_id}").get_data(as_text=True)
    assert world.pekka_wood.public_id not in page


# --- status, downloads, evidence -----------------------------------------------------------------------------


def test_badges_show_live_status_and_download_links(client, app, session, site, world):
    sign_in(client, world.maija)
    _share, link = _make(client)
    visitor = app.test_client()
    page = visitor.get(link.removeprefix(BASE_URL) + EN).get_data(as_text=True)
    assert page.count("tag tag-valid") == 2
    assert f"/credentials/{world.wood.public_id}.json" in page and f"/credentials/{world.wood.public_id}.png" in page
    assert "How to check the badges without this service" in page
    assert "Osaa nimetä viisi puulajia" in page  # criteria
    assert "Linked to the national qualification requirement:" in page and "ammattitaitovaatimukset_414" in page
    assert 'alt="Sininen merkki"' in page

    services.revoke_award(session, site, world.wood, reason="väärä henkilö", now=now())
    session.commit()
    page = visitor.get(link.removeprefix(BASE_URL) + EN).get_data(as_text=True)
    assert "tag tag-revoked" in page and "The issuer revoked this badge on" in page
    assert "väärä henkilö" not in page  # the reason is the client's to know
    assert page.count("tag tag-valid") == 1


def test_the_page_makes_no_third_party_requests(client, app, world):
    sign_in(client, world.maija)
    _share, link = _make(client, include_evidence="y")
    page = app.test_client().get(link.removeprefix(BASE_URL)).get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith(("/", "data:", "?", "#")) for s in sources), sources
    assert "<script" not in page and "style=" not in page


def test_evidence_is_hidden_unless_included(client, app, world):
    sign_in(client, world.maija)
    _share, link = _make(client)
    visitor = app.test_client()
    page = visitor.get(link.removeprefix(BASE_URL)).get_data(as_text=True)
    assert "Tunnisti viisi puulajia." not in page
    assert visitor.get(link.removeprefix(BASE_URL) + f"/evidence/{world.photo.public_id}").status_code == 404


def test_included_evidence_is_shown_with_its_photo(client, app, world):
    sign_in(client, world.maija)
    _share, link = _make(client, include_evidence="y")
    visitor = app.test_client()
    path = link.removeprefix(BASE_URL)
    page = visitor.get(path + EN).get_data(as_text=True)
    assert "Tunnisti viisi puulajia." in page
    photo_url = f"{path}/evidence/{world.photo.public_id}"
    assert f'src="{photo_url}"' in page and 'alt="Evidence photo for the badge' in page
    photo = visitor.get(photo_url)
    assert photo.status_code == 200 and photo.mimetype.startswith("image/")
    assert photo.headers["Cache-Control"] == "no-store" and photo.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "Pekan havainto." not in page


def test_evidence_the_holder_hid_is_never_shown(client, app, world, session):
    world.wood.evidence_hidden = True
    session.commit()
    sign_in(client, world.maija)
    _share, link = _make(client, include_evidence="y")
    visitor = app.test_client()
    path = link.removeprefix(BASE_URL)
    assert "Tunnisti viisi puulajia." not in visitor.get(path).get_data(as_text=True)
    assert visitor.get(f"{path}/evidence/{world.photo.public_id}").status_code == 404


def test_photos_of_a_revoked_share_or_unknown_token_are_gone(client, app, world):
    sign_in(client, world.maija)
    share, link = _make(client, include_evidence="y")
    visitor = app.test_client()
    path = link.removeprefix(BASE_URL)
    assert visitor.get(f"{path}/evidence/{world.photo.public_id}").status_code == 200
    assert visitor.get(f"/s/{'C' * 43}/evidence/{world.photo.public_id}").status_code == 404
    client.post(f"/passport/shares/{share.public_id}/revoke")
    assert visitor.get(f"{path}/evidence/{world.photo.public_id}").status_code == 404


def test_the_client_can_preview_without_logging(client, world, session):
    sign_in(client, world.maija)
    share, _ = _make(client, include_evidence="y")
    page = client.get(f"/passport/shares/{share.public_id}/preview{EN}")
    assert page.status_code == 200 and "This is what Employment services, Ms N sees now" in page.get_data(as_text=True)
    assert page.headers["X-Robots-Tag"] == "noindex, nofollow"
    photo = client.get(f"/passport/shares/{share.public_id}/evidence/{world.photo.public_id}")
    assert photo.status_code == 200
    assert _count(session, ShareAccess) == 0


# --- another client's shares ------------------------------------------------------------------------------------


def test_a_client_cannot_see_or_revoke_another_clients_share(client, world, session):
    sign_in(client, world.pekka)
    theirs, _ = _make(client)
    sign_in(client, world.maija)
    for path in (f"/passport/shares/{theirs.public_id}", f"/passport/shares/{theirs.public_id}/revoke",
                 f"/passport/shares/{theirs.public_id}/created", f"/passport/shares/{theirs.public_id}/preview",
                 f"/passport/shares/{theirs.public_id}/evidence/{world.photo.public_id}"):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/passport/shares/{theirs.public_id}/revoke").status_code == 404
    assert _latest_share().revoked_at is None
    assert theirs.public_id not in client.get("/passport/shares").get_data(as_text=True)


def test_coaches_see_no_shares(client, world):
    sign_in(client, world.maija)
    share, _ = _make(client)
    sign_in(client, world.coach)
    assert client.get(f"/passport/shares/{share.public_id}").status_code == 404
    assert share.public_id not in client.get("/passport/shares").get_data(as_text=True)
    assert client.get("/network").status_code == 404


# --- professionals -------------------------------------------------------------------------------------------------


def test_registering_as_a_professional(client, world, session):
    response = client.post("/network/register" + EN, data={
        "display_name": "Ritva Kela", "email": "Ritva@Kela.example.test", "organisation": "Kela, Oulu",
        "password": "pitka-salasana-9", "confirm": "pitka-salasana-9",
    })
    assert response.status_code == 302 and response.headers["Location"].endswith("/network")
    ritva = services.find_user_by_email(session, "ritva@kela.example.test")
    assert ritva.is_professional and ritva.professional_organisation == "Kela, Oulu"
    page = client.get("/network" + EN).get_data(as_text=True)
    assert "Nothing is shared with you at the moment." in page


@pytest.mark.parametrize(("fields", "message"), [
    ({"email": "maija@example.test"}, "This e-mail address already has an account."),
    ({"email": "not-an-address"}, "Check the e-mail address"),
    ({"password": "short", "confirm": "short"}, "Use at least 10 characters."),
    ({"confirm": "something-else"}, "The passwords are not the same."),
    ({"organisation": ""}, "This field is required."),
])
def test_bad_registrations_are_refused(client, world, session, fields, message):
    data = {"display_name": "Ritva Kela", "email": "ritva@kela.example.test", "organisation": "Kela",
            "password": "pitka-salasana-9", "confirm": "pitka-salasana-9"}
    data.update(fields)
    response = client.post("/network/register" + EN, data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert services.find_user_by_email(session, "ritva@kela.example.test") is None


def test_sharing_with_a_professional_account(client, world, session, monkeypatch):
    sign_in(client, world.maija)
    response = client.post("/passport/shares/new", data=share_form(
        recipient_kind="account", recipient_label="", professional_email="PIA@te.example.test"))
    assert response.status_code == 302
    share = _latest_share()
    assert share.recipient_user_id == world.pia.id
    assert share.recipient_label == "Pia Ammattilainen, TE-palvelut Oulu"

    sign_in(client, world.pia)
    listing = client.get("/network" + EN)
    page = listing.get_data(as_text=True)
    assert listing.headers["Cache-Control"] == "no-store"
    assert "Maija Meikäläinen" in page and "planning the next step" in page
    opened = client.get(f"/network/shares/{share.public_id}{EN}", headers={"User-Agent": WINDOWS})
    assert opened.status_code == 200 and "Puumateriaalien tunnistaminen" in opened.get_data(as_text=True)
    assert opened.headers["X-Robots-Tag"] == "noindex, nofollow"
    session.expire_all()
    assert [(a.device, a.via) for a in share.accesses] == [("computer", "account")]

    sign_in(client, world.olli)  # another professional sees nothing
    assert "Maija" not in client.get("/network").get_data(as_text=True)
    assert client.get(f"/network/shares/{share.public_id}").status_code == 404

    sign_in(client, world.pekka)  # a client is not a professional
    assert client.get("/network").status_code == 404
    assert client.get(f"/network/shares/{share.public_id}").status_code == 404

    sign_in(client, world.pia)  # expiry: gone
    monkeypatch.setattr(sharing_views, "utcnow", lambda: share.expires_at + timedelta(minutes=1))
    assert "Maija" not in client.get("/network").get_data(as_text=True)
    assert client.get(f"/network/shares/{share.public_id}").status_code == 404
    monkeypatch.undo()

    sign_in(client, world.maija)  # revocation: gone
    client.post(f"/passport/shares/{share.public_id}/revoke")
    sign_in(client, world.pia)
    assert "Maija" not in client.get("/network").get_data(as_text=True)
    assert client.get(f"/network/shares/{share.public_id}").status_code == 404
    session.expire_all()
    assert len(share.accesses) == 1
    sign_in(client, world.maija)
    log = client.get(f"/passport/shares/{share.public_id}{EN}").get_data(as_text=True)
    assert "With the professional's account" in html.unescape(log)


def test_a_professional_sees_shared_photos_only_of_their_live_shares(client, world):
    sign_in(client, world.maija)
    client.post("/passport/shares/new", data=share_form(
        recipient_kind="account", professional_email="pia@te.example.test", include_evidence="y"))
    share = _latest_share()
    photo = f"/network/shares/{share.public_id}/evidence/{world.photo.public_id}"
    sign_in(client, world.pia)
    assert f'src="{photo}"' in client.get(f"/network/shares/{share.public_id}").get_data(as_text=True)
    assert client.get(photo).status_code == 200
    assert client.get(f"/evidence/{world.photo.public_id}").status_code == 404  # not the staff route
    sign_in(client, world.olli)
    assert client.get(photo).status_code == 404


def test_a_client_cannot_share_with_their_own_professional_account(client, world, session):
    world.maija.is_professional = True
    session.commit()
    sign_in(client, world.maija)
    response = client.post("/passport/shares/new" + EN, data=share_form(
        recipient_kind="account", professional_email="maija@example.test"))
    assert response.status_code == 400 and "You cannot share with yourself." in response.get_data(as_text=True)
    assert _count(session, Share) == 0


# --- CSRF ---------------------------------------------------------------------------------------------------------


def test_csrf_is_enforced_on_the_share_form(world, database_url, kek_text, session):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "BADGES_KEK": kek_text, "BADGES_BASE_URL": BASE_URL,
        "BADGES_DATABASE_URL": database_url, "WTF_CSRF_ENABLED": True,
    })
    try:
        client = app.test_client()
        sign_in(client, world.maija)
        with app.app_context():
            response = client.post("/passport/shares/new", data=share_form())
            assert response.status_code == 400
            page = client.get("/passport/shares/new").get_data(as_text=True)
            assert 'name="csrf_token"' in page
            assert client.post("/network/register", data={"display_name": "X"}).status_code == 400
    finally:
        app.extensions["badges.engine"].dispose()
    assert _count(session, Share) == 0
