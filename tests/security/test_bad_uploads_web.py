"""Malformed uploads through the web: every upload form answers with a clear message, never a 500,
and stores nothing (decompression bombs, truncated files, SVG with scripts, XXE, billion laughs)."""

import io
import struct
import zlib

import pytest
from helpers import FIXED_NOW
from security_helpers import HOSTILE_SVGS, db, image_bytes, png_claiming, text
from sqlalchemy import func, select

from badges import services
from badges.models import AchievementVersion, BadgeApplication, EvidenceFile, Organisation, User


def _png_with_text_bomb() -> bytes:
    """A valid PNG carrying a zTXt chunk that inflates to 50 MB."""
    body = b"Comment\x00\x00" + zlib.compress(b"A" * 50_000_000, 9)
    chunk = struct.pack(">I", len(body)) + b"zTXt" + body + struct.pack(">I", zlib.crc32(b"zTXt" + body))
    png = image_bytes("PNG")
    return png[:-12] + chunk + png[-12:]


BAD_FILES = {
    "bomb": png_claiming(100_000, 100_000),
    "wide": png_claiming(20_000, 10),
    "truncated_png": image_bytes("PNG", (64, 64), noise=True)[:2000],
    "truncated_jpeg": image_bytes("JPEG", (64, 64), noise=True)[:1500],
    "text_bomb": _png_with_text_bomb(),
    "garbage": bytes(range(256)) * 8,
    "pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
    **{f"svg_{name}": svg.encode() for name, svg in HOSTILE_SVGS.items()},
}
#: What the person reads for a refused image (any of the image messages, in English).
IMAGE_MESSAGES = (
    "The file is empty.", "SVG files are not accepted.", "Only PNG, JPEG, WebP and GIF images are accepted.",
    "The image is too large in pixels.", "The file is not a readable image.", "Choose an image file.",
)


@pytest.fixture
def uploaders(app, browser, people):  # noqa: ANN201
    """Test clients signed in as the admin, the coach and the client; a badge the client can apply for."""
    with db(app) as session:
        organisation = session.scalar(select(Organisation))
        badge = services.create_achievement(session, organisation, name="Trukin päivittäinen tarkastus",
                                            description="Osaa.", criteria="Osaa tarkastaa trukin.",
                                            image_alt="Merkki", now=FIXED_NOW)
        session.commit()
        badge_id = badge.public_id

    def signed_in(public_id: str):  # noqa: ANN202
        client = browser()
        with client.session_transaction() as cookie:
            cookie["_user_id"] = public_id
        return client

    return {"admin": signed_in(people.admin), "coach": signed_in(people.coach),
            "client": signed_in(people.client), "badge": badge_id}


def _stored(app) -> dict[str, object]:  # noqa: ANN001
    with db(app) as session:
        return {
            "photos": session.scalar(select(func.count()).select_from(EvidenceFile)),
            "versions": session.scalar(select(func.count()).select_from(AchievementVersion)),
            "applications": session.scalar(select(func.count()).select_from(BadgeApplication)),
            "logo": session.scalar(select(Organisation.logo_png)),
        }


def _file(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    suffix = "svg" if name.startswith("svg") else "png"
    return io.BytesIO(data), f"upload-{name}.{suffix}"


def _done(response):  # noqa: ANN001, ANN202
    """Read the answer and close it (which also closes the spooled upload files of the request)."""
    response.get_data()
    response.close()
    return response


def _posts(uploaders, people, data: bytes, name: str):  # noqa: ANN001, ANN202
    """Yield (form, response) for every upload form, each given ``data``."""
    org = people.org
    yield "logo", _done(uploaders["admin"].post(f"/org/{org}/settings/logo", data={"logo": _file(data, name)}))
    yield "badge image", _done(uploaders["admin"].post(f"/org/{org}/badges/new", data={
        "action": "preview", "name_fi": "Merkki", "image": _file(data, name),
    }))
    yield "award photo", _done(uploaders["coach"].post(f"/org/{org}/award", data={
        "badge": uploaders["badge"], "clients": [people.client], "note": "Hyvin tehty.",
        "photo": _file(data, name),
    }))
    yield "application photo", _done(uploaders["client"].post("/passport/applications/new", data={
        "badge": uploaders["badge"], "statement": "Tarkastin trukin aamulla.", "photo": _file(data, name),
    }))


def test_every_upload_form_refuses_every_bad_file_clearly_and_stores_nothing(app, uploaders, people):
    before = _stored(app)
    for name, data in sorted(BAD_FILES.items()):
        for form, response in _posts(uploaders, people, data, name):
            assert 400 <= response.status_code < 500, f"{name} → {form}: {response.status_code}"
            page = text(response)
            assert any(message in page for message in IMAGE_MESSAGES), f"{name} → {form}: no clear message"
            assert "Traceback" not in page
        assert _stored(app) == before, name


def test_an_empty_file_is_refused_or_taken_as_no_photo(app, uploaders, people):
    """An empty file field is what a browser sends when nothing was chosen: never stored as an image."""
    for form, response in _posts(uploaders, people, b"", "empty"):
        assert response.status_code in (302, 400), form
        if response.status_code == 400 and form != "badge image":
            assert "The file is empty." in text(response) or "Choose an image file." in text(response), form
    stored = _stored(app)
    assert stored["photos"] == 0 and stored["logo"] is None


def test_a_good_photo_goes_through_every_form(app, uploaders, people):
    """The control: the same forms do accept a real image (so the refusals above mean something)."""
    photo = image_bytes("JPEG", (64, 48))
    responses = dict(_posts(uploaders, people, photo, "good"))
    statuses = {form: response.status_code for form, response in responses.items()}
    # The badge form lacks its texts (400), but it took the image: no image message.
    assert statuses == {"logo": 302, "badge image": 400, "award photo": 200, "application photo": 302}
    assert not any(message in text(responses["badge image"]) for message in IMAGE_MESSAGES)
    stored = _stored(app)
    assert stored["logo"] is not None and stored["photos"] == 2 and stored["applications"] == 1


def test_an_upload_over_the_size_limit_is_refused_with_413(app, uploaders, people):
    boundary = "b0undary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="logo"; filename="huge.png"\r\n'
            "Content-Type: image/png\r\n\r\n").encode() + b"\x89PNG" + b"\x00" * app.config["MAX_CONTENT_LENGTH"]
    # Raw bytes: the test client would otherwise spool its own copy of the body to a temporary file.
    response = _done(uploaders["admin"].post(f"/org/{people.org}/settings/logo", data=body,
                                             content_type=f"multipart/form-data; boundary={boundary}"))
    assert response.status_code == 413 and "The file is too large." in text(response)
    assert _stored(app)["logo"] is None


def _verify_routes(app) -> list[str]:  # noqa: ANN001
    return [rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("verify.")]


def test_the_verify_page_and_api_refuse_bad_files_without_a_500(app, browser, people):
    routes = _verify_routes(app)
    if "/verify" not in routes:
        pytest.skip("no /verify page in this build")
    client = browser()
    for name, data in sorted(BAD_FILES.items()):
        page = _done(client.post("/verify", data={"badge_file": _file(data, name)}))
        assert 400 <= page.status_code < 500 and "Traceback" not in text(page), name
        if "/api/v1/verify" in routes:
            api = _done(client.post("/api/v1/verify", data={"file": _file(data, name)}))
            assert 400 <= api.status_code < 500, name
            assert isinstance(api.get_json(), dict), name
    deep = '{"a":' + "[" * 100_000 + "]" * 100_000 + "}"
    page = _done(client.post("/verify", data={"pasted": deep}))
    assert 400 <= page.status_code < 500
    if "/api/v1/verify" in routes:
        api = _done(client.post("/api/v1/verify", data=deep, content_type="application/json"))
        assert 400 <= api.status_code < 500


def test_user_rows_are_untouched_by_refused_uploads(app, uploaders, people):
    for _ in _posts(uploaders, people, BAD_FILES["svg_xxe"], "svg_xxe"):
        pass
    with db(app) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 4
