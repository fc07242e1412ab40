"""The shortcuts of long pages say exactly what Flask-Babel and url_for say."""

from datetime import UTC, date, datetime

import flask_babel
from flask import url_for

from badges.web import caching

MOMENTS = [
    datetime(2026, 3, 28, 21, 59, tzinfo=UTC),  # the last evening before summer time, 23:59 in Helsinki
    datetime(2026, 3, 28, 22, 0, tzinfo=UTC),  # already the 29th in Helsinki
    datetime(2026, 10, 24, 21, 30, tzinfo=UTC),  # the 25th in Helsinki, the night summer time ends
    datetime(2026, 12, 31, 23, 30),  # naive: read as UTC, as Flask-Babel does
    date(2026, 6, 1),
]


def test_dates_are_the_same_as_flask_babel_gives(app):
    for language in ("fi", "sv", "en"):
        with app.test_request_context(f"/?lang={language}"):
            for pattern in ("medium", "yyyy-MM-dd", "LLLL yyyy", None):
                for moment in MOMENTS:
                    for _ in range(2):  # the second time comes from the memo
                        assert caching.dateformat(moment, pattern) == flask_babel.format_date(moment, pattern)


def test_iso_days_are_the_local_days(app):
    with app.test_request_context("/"):
        for moment in MOMENTS:
            assert caching.isoday(moment) == flask_babel.format_date(moment, "yyyy-MM-dd")


def test_a_forced_language_is_respected(app):
    moment = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    with app.test_request_context("/?lang=en"):
        english = caching.dateformat(moment, "medium")
        with flask_babel.force_locale("fi"):
            assert caching.dateformat(moment, "medium") == flask_babel.format_date(moment, "medium") != english
        assert caching.dateformat(moment, "medium") == english


def test_built_links_are_the_links_url_for_builds(app):
    with app.test_request_context("/"):
        for endpoint in ("passport.badge", "public.achievement_image", "public.credential_json"):
            build = caching.url_builder(endpoint)
            for public_id in ("0123456789abcdef0123456789abcdef", "a" * 32, "ab/c d"):
                assert build(public_id) == build[public_id] == url_for(endpoint, public_id=public_id)


def test_a_passport_card_escapes_what_people_typed_and_dates_like_the_filters(app):
    from types import SimpleNamespace

    moment = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)
    version = SimpleNamespace(public_id="f" * 32, image_alt='Merkki "<img>"')
    award = SimpleNamespace(
        id=1, public_id="a" * 32, issued_at=moment, valid_until=moment, achievement_version=version,
        organisation=SimpleNamespace(name="Paja & <Co>"),
    )
    texts = {1: SimpleNamespace(name="<script>alert(1)</script>", language="fi", plain_description="Helppo <b>")}
    with app.test_request_context("/?lang=fi"):
        cards = caching.PassportCards(
            caching.url_builder("passport.badge"), caching.url_builder("public.achievement_image"), texts,
            {"issuer": "Myöntäjä", "issued": "Myönnetty", "valid_until": "Voimassa", "plain": "Selkokielellä"},
        )
        card = str(cards[award])
        assert "<script>" not in card and "&lt;script&gt;alert(1)&lt;/script&gt;" in card
        assert "Paja &amp; &lt;Co&gt;" in card and 'alt="Merkki &#34;&lt;img&gt;&#34;"' in card
        assert "Helppo &lt;b&gt;" in card
        assert f'href="{url_for("passport.badge", public_id="a" * 32)}"' in card
        day = caching.dateformat(moment, "medium")
        assert card.count(f'<time datetime="{caching.isoday(moment)}">{day}</time>') == 2
