"""HTTP caching of public documents and static files, and cheap rendering of long pages.

Public documents carry a strong ``ETag`` and a ``Cache-Control`` that says how long anyone (a
browser, a verifier, the reverse proxy) may reuse them; a conditional GET whose
``If-None-Match`` matches gets ``304 Not Modified`` without the body:

- documents that never change once made (a credential as signed, its baked images, a badge
  version's image): a week, ``immutable``;
- documents that change now and then (DID documents at a key rotation, issuer profiles,
  achievements as they gain endorsements): five minutes;
- status lists: one minute, so that a revocation reaches verifiers soon;
- static files (CSS, JS, images): ten minutes, then revalidated by their ETag (their names carry
  no version, so a long lifetime would keep old files after an upgrade).

Pages for a signed-in person never enter any cache: a response to a signed-in request that
says nothing itself gets ``Cache-Control: private, no-store``.

A passport page shows hundreds of badges, dates and links, and Jinja's cost per expression
(lookup, escape, markup object) is most of its time. So: ``dateformat`` is replaced by a
version that formats each local day once per process (the text depends only on the day, the
pattern and the language); ``isoday`` gives the local day for ``<time datetime>`` without
Babel; ``url_builder`` makes the links of one endpoint by joining strings instead of running
the URL map for each; ``badge_links`` makes each badge's link once however often a page lists
it; ``passport_cards`` makes a passport card as one escaped string join.
"""

from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from flask import Flask, Response, has_request_context, request, url_for
from flask_babel import format_date, get_locale, get_timezone
from flask_login import current_user
from markupsafe import Markup, escape

#: Seconds: documents that never change once made.
IMMUTABLE = 7 * 24 * 3600
#: Seconds: public documents that change now and then.
DOCUMENT = 300
#: Seconds: status lists (a revocation shows within this time).
STATUS_LIST = 60
#: Seconds: static files, unless ``SEND_FILE_MAX_AGE_DEFAULT`` says otherwise.
STATIC = 600
#: Stands for a public id while a URL pattern is built (32 hex digits, as public ids are).
_ID_MARK = "0" * 31 + "f"


def public(response: Response, *, max_age: int, immutable: bool = False) -> Response:
    """Let anyone cache ``response`` for ``max_age`` seconds, with a strong ETag; 304 when it matches."""
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    if immutable:
        response.cache_control.immutable = True
    response.add_etag()
    return response.make_conditional(request)


def private(response: Response) -> Response:
    """Keep ``response`` out of every cache (a person's own pages)."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _no_store_when_signed_in(response: Response) -> Response:
    if "Cache-Control" not in response.headers and current_user and current_user.is_authenticated:
        private(response)
    return response


# --- rendering long pages ---------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _day_text(day: date, pattern: str | None, locale: Locale) -> str:
    # ``locale`` is part of the key only: format_date reads the same from the request.
    return format_date(day, pattern, rebase=False)


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    # The same zone as Flask-Babel's pytz one, converted in C (pytz's is several times slower).
    return ZoneInfo(name)


def _reader_zone() -> tzinfo:
    """Return the reader's time zone, looked up once per request."""
    zone = getattr(request, "_badges_zone", None)
    if zone is None:
        zone = request._badges_zone = _zone(str(get_timezone()))  # type: ignore[attr-defined]
    return zone


def _local_day(value: date) -> date:
    """Return the reader's local day of ``value``, as Flask-Babel's ``to_user_timezone`` gives it."""
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(_reader_zone()).date()
    return value


def dateformat(value: Any, format: str | None = None, rebase: bool = True) -> str:  # noqa: A002 - Flask-Babel's name
    """Format the date of ``value`` as Flask-Babel's ``dateformat`` filter does, each day once per process."""
    if not isinstance(value, date) or not has_request_context():
        return format_date(value, format, rebase)
    day = _local_day(value) if rebase else value.date() if isinstance(value, datetime) else value
    # The language is read on every call: force_locale (e-mails in the recipient's language) changes it.
    return _day_text(day, format, get_locale())


def isoday(value: date) -> str:
    """Return the reader's local day of ``value`` as ``YYYY-MM-DD`` (for ``<time datetime=…>``)."""
    return _local_day(value).isoformat() if has_request_context() else format_date(value, "yyyy-MM-dd")


class UrlBuilder:
    """The URLs of one endpoint by public id: ``build(id)`` or ``build[id]`` equals ``url_for(endpoint, …)``.

    The URL map runs once; each URL is then joined from strings. Templates use the subscript
    form, which skips Jinja's per-call bookkeeping (a page of 300 badges makes 1,200 links).
    """

    __slots__ = ("endpoint", "head", "key", "tail", "values")

    def __init__(self, endpoint: str, key: str = "public_id", **values: Any) -> None:
        self.endpoint, self.key, self.values = endpoint, key, values
        url = url_for(endpoint, **{key: _ID_MARK}, **values)
        head, mark, tail = url.partition(_ID_MARK)
        self.head, self.tail = (head, tail) if mark else (None, None)

    def __getitem__(self, public_id: str) -> str:
        if self.head is not None and public_id.isalnum() and public_id.isascii():
            return self.head + public_id + self.tail
        return url_for(self.endpoint, **{self.key: public_id}, **self.values)

    __call__ = __getitem__


class BadgeLinks:
    """``links[award]``: the ``<a href lang>name</a>`` of an award, made once per page however often shown.

    ``texts`` maps award ids to texts with ``name`` and ``language`` (``passport.Texts``). A
    passport lists each badge up to three times (card, progress, timeline); the link is
    escaped and joined once.
    """

    __slots__ = ("made", "texts", "urls")

    def __init__(self, urls: UrlBuilder, texts: Mapping[int, Any]) -> None:
        self.urls, self.texts = urls, texts
        self.made: dict[int, Markup] = {}

    def __getitem__(self, award: Any) -> Markup:
        link = self.made.get(award.id)
        if link is None:
            text = self.texts[award.id]
            url, language, name = escape(self.urls[award.public_id]), escape(text.language), escape(text.name)
            link = self.made[award.id] = Markup(f'<a href="{url}" lang="{language}">{name}</a>')  # noqa: S704 - escaped  # nosec B704 - every part escaped on this line
        return link


class PassportCards:
    """``cards[award]``: the passport's card of an award as one piece of HTML.

    A passport can hold hundreds of badges; as a Jinja macro each card costs a dozen separate
    escapes and lookups (most of the page's time), here one string join. The markup is the
    card's (see ``CARD``); ``labels`` are the page's translated ``issuer``, ``issued``,
    ``valid_until`` and ``plain`` (plain-Finnish toggle) texts; dates are the reader's local
    days, formatted as the ``dateformat`` and ``isoday`` filters do.
    """

    CARD = (
        '<article class="badge-card passport-card">'
        '<img class="badge-card-image" src="{image}" alt="{alt}" width="96" height="96" loading="lazy">'
        '<div class="badge-card-body">'
        '<h3 class="badge-card-title" lang="{language}"><a href="{url}">{name}</a></h3>'
        '<dl class="badge-card-meta">'
        '<div><dt>{issuer_label}</dt><dd>{issuer}</dd></div>'
        '<div><dt>{issued_label}</dt><dd><time datetime="{issued_iso}">{issued}</time></dd></div>'
        "{valid_until}</dl>{plain}</div></article>"
    )
    VALID_UNTIL = '<div><dt>{label}</dt><dd><time datetime="{iso}">{text}</time></dd></div>'
    PLAIN = '<details class="plain-toggle"><summary lang="fi">{label}</summary><p lang="fi">{text}</p></details>'

    def __init__(self, badge_urls: UrlBuilder, image_urls: UrlBuilder, texts: Mapping[int, Any],
                 labels: Mapping[str, str]) -> None:
        self.badge_urls, self.image_urls, self.texts = badge_urls, image_urls, texts
        self.labels = {key: str(escape(value)) for key, value in labels.items()}
        self.zone, self.locale = _reader_zone(), get_locale()

    def _day(self, moment: datetime) -> tuple[str, str]:
        day = (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(self.zone).date()
        return day.isoformat(), str(escape(_day_text(day, "medium", self.locale)))

    def __getitem__(self, award: Any) -> Markup:
        text, version, labels = self.texts[award.id], award.achievement_version, self.labels
        issued_iso, issued = self._day(award.issued_at)
        valid_until = plain = ""
        if award.valid_until:
            iso, day = self._day(award.valid_until)
            valid_until = self.VALID_UNTIL.format(label=labels["valid_until"], iso=iso, text=day)
        if text.plain_description:
            plain = self.PLAIN.format(label=labels["plain"], text=escape(text.plain_description))
        # Every value is escaped here or above (labels, day texts); ISO days are digits and hyphens.
        return Markup(self.CARD.format(  # noqa: S704  # nosec B704 - every value escaped (see above)
            image=escape(self.image_urls[version.public_id]), alt=escape(version.image_alt),
            language=escape(text.language), url=escape(self.badge_urls[award.public_id]), name=escape(text.name),
            issuer_label=labels["issuer"], issuer=escape(award.organisation.name), issued_label=labels["issued"],
            issued_iso=issued_iso, issued=issued, valid_until=valid_until, plain=plain,
        ))


def url_builder(endpoint: str, key: str = "public_id", **values: Any) -> UrlBuilder:
    """Return the :class:`UrlBuilder` of ``endpoint`` (a template global)."""
    return UrlBuilder(endpoint, key, **values)


def init_app(app: Flask) -> None:
    """Set the static files' lifetime, the signed-in default and the page helpers."""
    max_age = app.config.get("SEND_FILE_MAX_AGE_DEFAULT")
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = STATIC if max_age in (None, "") else int(
        max_age.total_seconds() if hasattr(max_age, "total_seconds") else max_age
    )
    app.after_request(_no_store_when_signed_in)
    app.jinja_env.filters["dateformat"] = dateformat
    app.jinja_env.filters["isoday"] = isoday
    app.jinja_env.globals["url_builder"] = url_builder
    app.jinja_env.globals["badge_links"] = BadgeLinks
    app.jinja_env.globals["passport_cards"] = PassportCards
