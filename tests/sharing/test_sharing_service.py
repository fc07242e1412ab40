"""Sharing services: tokens, expiry, scopes, status, evidence, access log, professionals."""

import base64
import hashlib
from datetime import timedelta

import pytest
from helpers import FIXED_NOW
from sqlalchemy import select, text

from badges import services, sharing
from badges.models import Award, Share, ShareAccess
from badges.sharing import SharingError

NEW_PASSWORD = "pitka-salasana-1"  # noqa: S105 - test password


def _share(session, world, *, now=FIXED_NOW, **fields):
    values = {"client": world.maija, "scope": "passport", "purpose": "planning the next step",
              "recipient_label": "Employment services, Ms N", "now": now}
    values.update(fields)
    share, token = sharing.create_share(session, **values)
    session.commit()
    return share, token


# --- tokens -------------------------------------------------------------------------------------


def test_token_has_at_least_128_random_bits_and_only_its_hash_is_stored(session, world):
    share, token = _share(session, world)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) * 8 >= 256 > 128
    assert share.token_hash == hashlib.sha256(token.encode()).hexdigest()
    rows = session.execute(text("SELECT * FROM share")).all()
    assert rows and all(token not in str(value) for row in rows for value in row)


def test_tokens_are_unique_per_share(session, world):
    tokens = {_share(session, world)[1] for _ in range(20)}
    assert len(tokens) == 20


def test_resolve_compares_hashes_in_constant_time(session, world, monkeypatch):
    share, token = _share(session, world)
    calls = []
    real = sharing.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(sharing.hmac, "compare_digest", spy)
    assert sharing.resolve_token(session, token, now=FIXED_NOW) is share
    assert calls == [(share.token_hash, share.token_hash)]


@pytest.mark.parametrize("guess", ["", "x", "A" * 43, "../../etc/passwd", "a" * 5000, "ääää", "abc def"])
def test_unknown_or_malformed_tokens_resolve_to_nothing(session, world, guess):
    _share(session, world)
    assert sharing.resolve_token(session, guess, now=FIXED_NOW) is None


def test_the_hash_itself_is_not_a_token(session, world):
    share, _token = _share(session, world)
    assert sharing.resolve_token(session, share.token_hash, now=FIXED_NOW) is None


# --- expiry ---------------------------------------------------------------------------------------


def test_default_expiry_is_30_days_to_the_end_of_the_finnish_day(session, world):
    share, _ = _share(session, world)
    today = sharing.finnish_today(FIXED_NOW)
    assert share.expires_at.astimezone(sharing.HELSINKI).date() == today + timedelta(days=30)
    assert share.expires_at.astimezone(sharing.HELSINKI).time().hour == 23
    assert sharing.default_expiry_day(FIXED_NOW) == today + timedelta(days=30)


def test_a_share_lives_until_its_last_day_ends_then_the_link_is_dead(session, world):
    share, token = _share(session, world, expires_on=sharing.finnish_today(FIXED_NOW) + timedelta(days=2))
    end = share.expires_at
    assert sharing.resolve_token(session, token, now=end - timedelta(seconds=1)) is share
    assert sharing.share_status(share, end - timedelta(seconds=1)) == "active"
    assert sharing.resolve_token(session, token, now=end) is None
    assert sharing.share_status(share, end) == "expired"


def test_a_share_made_in_the_past_has_expired_by_now(session, world):
    long_ago = FIXED_NOW - timedelta(days=40)
    share, token = _share(session, world, now=long_ago)
    assert sharing.resolve_token(session, token, now=long_ago + timedelta(days=1)) is share
    assert sharing.resolve_token(session, token, now=FIXED_NOW) is None


def test_one_year_is_the_maximum(session, world):
    today = sharing.finnish_today(FIXED_NOW)
    share, _ = _share(session, world, expires_on=today + timedelta(days=365))
    assert share.expires_at.astimezone(sharing.HELSINKI).date() == today + timedelta(days=365)
    with pytest.raises(SharingError) as refused:
        _share(session, world, expires_on=today + timedelta(days=366))
    assert refused.value.code == "share_expiry_too_late"


def test_a_past_last_day_is_refused_and_today_is_allowed(session, world):
    today = sharing.finnish_today(FIXED_NOW)
    with pytest.raises(SharingError) as refused:
        _share(session, world, expires_on=today - timedelta(days=1))
    assert refused.value.code == "share_expiry_past"
    share, token = _share(session, world, expires_on=today)
    assert sharing.resolve_token(session, token, now=FIXED_NOW) is share


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "code"), [
    ({"scope": "everything"}, "share_scope"),
    ({"recipient_label": "   "}, "share_recipient_missing"),
    ({"recipient_label": "x" * 201}, "share_recipient_too_long"),
    ({"purpose": ""}, "share_purpose_missing"),
    ({"purpose": "y" * 501}, "share_purpose_too_long"),
    ({"scope": "badges", "award_ids": []}, "share_no_badges"),
    ({"scope": "qualification"}, "share_no_qualification"),
])
def test_bad_input_is_refused_and_nothing_is_saved(session, world, fields, code):
    with pytest.raises(SharingError) as refused:
        _share(session, world, **fields)
    assert refused.value.code == code
    session.rollback()
    assert session.scalars(select(Share)).all() == []


def test_limits_are_inclusive(session, world):
    share, _ = _share(session, world, recipient_label="x" * 200, purpose="y" * 500)
    assert len(share.recipient_label) == 200 and len(share.purpose) == 500


# --- scopes ---------------------------------------------------------------------------------------


def _ids(awards):
    return {a.public_id for a in awards}


def test_passport_scope_shows_all_the_clients_badges_and_never_anothers(session, world):
    share, _ = _share(session, world)
    shown = _ids(sharing.awards_in_share(session, share, now=FIXED_NOW))
    assert shown == {world.wood.public_id, world.safety.public_id}


def test_passport_scope_includes_badges_awarded_after_the_share(session, site, world, make_badge):
    share, _ = _share(session, world)
    later = services.issue_award(session, site, version=make_badge(world.org, "Uusi merkki").current,
                                 recipient=world.maija, now=FIXED_NOW + timedelta(days=1))
    assert later.public_id in _ids(sharing.awards_in_share(session, share, now=FIXED_NOW + timedelta(days=2)))


def test_qualification_scope_shows_only_aligned_badges(session, world):
    share, _ = _share(session, world, scope="qualification", qualification=world.qualification)
    assert _ids(sharing.awards_in_share(session, share, now=FIXED_NOW)) == {world.wood.public_id}
    share, _ = _share(session, world, scope="qualification", qualification=world.badges_of_osaamismerkit)
    assert _ids(sharing.awards_in_share(session, share, now=FIXED_NOW)) == {world.safety.public_id}


def test_qualifications_offered_are_those_the_clients_badges_align_to(session, world, make_user):
    offered = sharing.qualifications_for_client(session, world.maija, now=FIXED_NOW)
    assert {q.id for q in offered} == {world.qualification.id, world.badges_of_osaamismerkit.id}
    assert [q.id for q in sharing.qualifications_for_client(session, world.pekka, now=FIXED_NOW)] == [
        world.qualification.id]
    assert sharing.qualifications_for_client(session, make_user("nobody@example.test"), now=FIXED_NOW) == []


def test_badges_scope_shows_exactly_the_chosen(session, world):
    share, _ = _share(session, world, scope="badges", award_ids=[world.safety.public_id])
    assert _ids(sharing.awards_in_share(session, share, now=FIXED_NOW)) == {world.safety.public_id}


def test_another_clients_award_cannot_be_chosen(session, world):
    with pytest.raises(SharingError) as refused:
        _share(session, world, scope="badges", award_ids=[world.wood.public_id, world.pekka_wood.public_id])
    assert refused.value.code == "share_unknown_badge"
    session.rollback()
    assert session.scalars(select(Share)).all() == []


@pytest.mark.parametrize("made_up", ["0" * 32, "", "not-an-id"])
def test_made_up_award_ids_are_refused(session, world, made_up):
    with pytest.raises(SharingError):
        _share(session, world, scope="badges", award_ids=[made_up])


def test_a_revoked_badge_cannot_be_chosen_for_a_new_share(session, site, world):
    services.revoke_award(session, site, world.safety, reason="virhe", now=FIXED_NOW)
    with pytest.raises(SharingError) as refused:
        _share(session, world, scope="badges", award_ids=[world.safety.public_id])
    assert refused.value.code == "share_unknown_badge"


def test_a_badge_revoked_after_sharing_stays_in_the_share_as_revoked(session, site, world):
    chosen, _ = _share(session, world, scope="badges", award_ids=[world.wood.public_id])
    whole, _ = _share(session, world)
    later = FIXED_NOW + timedelta(hours=1)
    services.revoke_award(session, site, world.wood, reason="virhe", now=later)
    session.commit()
    for share in (chosen, whole):
        contents = {item.award.public_id: item for item in sharing.share_contents(session, site, share, now=later)}
        assert contents[world.wood.public_id].status.state == "revoked"


def test_a_badge_revoked_before_a_whole_passport_share_is_not_shown(session, site, world):
    services.revoke_award(session, site, world.safety, reason="virhe", now=FIXED_NOW - timedelta(days=1))
    share, _ = _share(session, world)
    assert _ids(sharing.awards_in_share(session, share, now=FIXED_NOW)) == {world.wood.public_id}


# --- live status -----------------------------------------------------------------------------------


def test_status_is_valid_revoked_or_expired(session, site, world, make_badge):
    assert sharing.badge_status(session, site, world.wood, now=FIXED_NOW).state == "valid"
    lapsing = services.issue_award(session, site, version=make_badge(world.org, "Ensiapu", valid_days=10).current,
                                   recipient=world.maija, now=FIXED_NOW)
    assert sharing.badge_status(session, site, lapsing, now=FIXED_NOW + timedelta(days=9)).state == "valid"
    expired = sharing.badge_status(session, site, lapsing, now=FIXED_NOW + timedelta(days=11))
    assert expired.state == "expired" and expired.valid_until == lapsing.valid_until
    services.revoke_award(session, site, world.wood, reason="virhe", now=FIXED_NOW)
    revoked = sharing.badge_status(session, site, world.wood, now=FIXED_NOW)
    assert revoked.state == "revoked" and revoked.revoked_at == FIXED_NOW


def _counting_verifier(monkeypatch):
    calls = []
    real = services.verify_document

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sharing.services, "verify_document", counting)
    return calls


def test_a_new_award_is_shown_as_verified_without_checking_the_proof_again(session, site, world, monkeypatch):
    calls = _counting_verifier(monkeypatch)
    assert world.wood.verified_at == FIXED_NOW  # recorded when it was signed
    for _ in range(3):
        assert sharing.badge_status(session, site, world.wood, now=FIXED_NOW).state == "valid"
    assert calls == []


def test_an_older_award_is_checked_once_then_recorded_and_the_status_bit_every_time(session, site, world,
                                                                                    monkeypatch):
    world.wood.verified_at = None  # issued before awards recorded their proof check
    session.commit()
    calls = _counting_verifier(monkeypatch)
    later = FIXED_NOW + timedelta(days=1)
    for _ in range(3):
        assert sharing.badge_status(session, site, world.wood, now=later).state == "valid"
    assert len(calls) == 1
    session.commit()
    session.expire_all()
    assert session.get(Award, world.wood.id).verified_at == later
    services.revoke_award(session, site, world.wood, reason="virhe", now=later)
    assert sharing.badge_status(session, site, world.wood, now=later).state == "revoked"
    assert len(calls) == 1


def test_a_tampered_older_document_is_not_verified_and_not_recorded(session, site, world, monkeypatch):
    world.wood.verified_at = None
    world.wood.document = world.wood.document.replace("Puumateriaalien", "Puumateriaalien ja metallien")
    calls = _counting_verifier(monkeypatch)
    for _ in range(2):
        assert sharing.badge_status(session, site, world.wood, now=FIXED_NOW).state == "unverified"
    assert world.wood.verified_at is None
    assert len(calls) == 2  # a failed check is never taken as a pass: it runs again


# --- evidence ----------------------------------------------------------------------------------------


def test_evidence_is_shown_only_when_included_and_not_hidden(session, site, world):
    without, _ = _share(session, world)
    assert sharing.evidence_items(site, without, world.wood) == ()
    with_evidence, _ = _share(session, world, include_evidence=True)
    items = sharing.evidence_items(site, with_evidence, world.wood)
    assert [i.narrative for i in items if i.narrative] == ["Tunnisti viisi puulajia."]
    assert [i.photo_id for i in items if i.photo_id] == [world.photo.public_id]
    world.wood.evidence_hidden = True
    assert sharing.evidence_items(site, with_evidence, world.wood) == ()


def test_a_shared_photo_must_belong_to_a_badge_in_the_share(session, site, world):
    with_evidence, _ = _share(session, world, include_evidence=True)
    assert sharing.shared_photo(session, site, with_evidence, world.photo.public_id, now=FIXED_NOW) == world.photo
    only_safety, _ = _share(session, world, scope="badges", award_ids=[world.safety.public_id], include_evidence=True)
    assert sharing.shared_photo(session, site, only_safety, world.photo.public_id, now=FIXED_NOW) is None
    without, _ = _share(session, world)
    assert sharing.shared_photo(session, site, without, world.photo.public_id, now=FIXED_NOW) is None
    sharing.revoke_share(session, with_evidence, now=FIXED_NOW)
    assert sharing.shared_photo(session, site, with_evidence, world.photo.public_id, now=FIXED_NOW) is None


# --- access log ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("agent", "kind"), [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1", "phone"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36", "phone"),
    ("Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 Chrome/124.0 Safari/537.36", "tablet"),
    ("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "tablet"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36", "computer"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15", "computer"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "computer"),
    ("Googlebot/2.1 (+http://www.google.com/bot.html)", "other"),
    ("curl/8.5.0", "other"),
    ("", "other"),
    (None, "other"),
])
def test_device_kind_is_coarse(agent, kind):
    assert sharing.device_kind(agent) == kind


def test_access_keeps_only_time_device_and_way(session, world):
    share, _ = _share(session, world)
    sharing.record_access(session, share, device="phone", via="link", now=FIXED_NOW)
    sharing.record_access(session, share, device="fridge", via="telepathy", now=FIXED_NOW)
    session.commit()
    assert [(a.device, a.via) for a in share.accesses] == [("phone", "link"), ("other", "link")]
    assert set(ShareAccess.__table__.columns.keys()) == {"id", "share_id", "at", "device", "via"}


def test_revoking_is_immediate_and_idempotent(session, world):
    share, token = _share(session, world)
    sharing.revoke_share(session, share, now=FIXED_NOW)
    sharing.revoke_share(session, share, now=FIXED_NOW + timedelta(hours=1))
    assert share.revoked_at == FIXED_NOW
    assert sharing.resolve_token(session, token, now=FIXED_NOW) is None
    assert sharing.share_status(share, FIXED_NOW) == "revoked"


def test_clients_see_only_their_own_shares(session, world):
    mine, _ = _share(session, world)
    theirs, _ = _share(session, world, client=world.pekka)
    assert sharing.shares_for_client(session, world.maija) == [mine]
    assert sharing.client_share(session, world.maija, theirs.public_id) is None
    assert sharing.client_share(session, world.pekka, theirs.public_id) is theirs


# --- professionals ---------------------------------------------------------------------------------------


def test_sharing_with_a_professional_account(session, world):
    share, _ = _share(session, world, recipient_label=None, recipient_user=world.pia)
    assert share.recipient_label == "Pia Ammattilainen, TE-palvelut Oulu"
    assert sharing.shares_for_professional(session, world.pia, now=FIXED_NOW) == [share]
    assert sharing.professional_share(session, world.pia, share.public_id, now=FIXED_NOW) is share
    assert sharing.shares_for_professional(session, world.olli, now=FIXED_NOW) == []
    assert sharing.professional_share(session, world.olli, share.public_id, now=FIXED_NOW) is None
    after = share.expires_at + timedelta(seconds=1)
    assert sharing.shares_for_professional(session, world.pia, now=after) == []
    assert sharing.professional_share(session, world.pia, share.public_id, now=after) is None


def test_only_professional_accounts_can_receive_and_only_by_exact_address(session, world):
    assert sharing.find_professional(session, "PIA@te.example.test ") == world.pia
    assert sharing.find_professional(session, "pia@te.example") is None
    assert sharing.find_professional(session, "pekka@example.test") is None  # a client, not a professional
    with pytest.raises(SharingError) as refused:
        _share(session, world, recipient_label=None, recipient_user=world.pekka)
    assert refused.value.code == "share_no_professional"


def test_registering_a_professional_checks_the_address_and_the_password(session, world):
    pirjo = sharing.register_professional(session, display_name=" Pirjo  Sosiaali ", email="Pirjo@Kunta.example.test",
                                          organisation="Sosiaalitoimi", password=NEW_PASSWORD, now=FIXED_NOW)
    assert (pirjo.display_name, pirjo.email, pirjo.is_professional, pirjo.professional_organisation) == (
        "Pirjo Sosiaali", "pirjo@kunta.example.test", True, "Sosiaalitoimi")
    assert services.check_password(pirjo, NEW_PASSWORD)
    with pytest.raises(SharingError) as taken:
        sharing.register_professional(session, display_name="X", email="Maija@example.test", organisation="Kela",
                                      password=NEW_PASSWORD, now=FIXED_NOW)
    assert taken.value.code == "professional_email_taken"
    with pytest.raises(SharingError) as bad:
        sharing.register_professional(session, display_name="X", email="not an address", organisation="Kela",
                                      password=NEW_PASSWORD, now=FIXED_NOW)
    assert bad.value.code == "share_bad_email"
    with pytest.raises(services.InvalidInputError):
        sharing.register_professional(session, display_name="X", email="x@kela.example.test", organisation="Kela",
                                      password=NEW_PASSWORD[:5], now=FIXED_NOW)
    with pytest.raises(SharingError) as no_org:
        sharing.register_professional(session, display_name="X", email="x@kela.example.test", organisation=" ",
                                      password=NEW_PASSWORD, now=FIXED_NOW)
    assert no_org.value.code == "professional_organisation"
