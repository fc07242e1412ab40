"""The issuer profile, its logo, and the signing keys, as an administrator manages them."""

import io
import json

import pytest
from people_helpers import ADMIN, db, text
from PIL import Image
from sqlalchemy import select

from badges.models import AuditEvent, Organisation


def _png(size=(300, 200), mode="RGBA", **options) -> bytes:  # noqa: ANN001, ANN003
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30, 255) if mode == "RGBA" else 0).save(out, format="PNG", **options)
    return out.getvalue()


def _organisation(app, slug: str) -> Organisation:
    with db(app) as session:
        return session.scalar(select(Organisation).where(Organisation.slug == slug))


PROFILE = {
    "name": "Työpaja Verstas ry", "url": "https://verstas.example.fi/", "email": "Info@Verstas.example.fi",
    "description": "Puu- ja metallitöitä.", "language": "sv", "kind": "foundation",
}


def test_admin_edits_the_public_profile(app, as_user, world):
    admin = as_user(ADMIN)
    form = admin.get(f"/org/{world.org}/settings")
    assert form.status_code == 200 and 'value="Työpaja Verstas"' in text(form)
    response = admin.post(f"/org/{world.org}/settings", data=PROFILE)
    assert response.status_code == 302
    organisation = _organisation(app, world.org)
    assert (organisation.name, organisation.url, organisation.email) == (
        "Työpaja Verstas ry", "https://verstas.example.fi/", "info@verstas.example.fi")
    assert (organisation.language, organisation.kind) == ("sv", "foundation")
    public = as_user(None).get(f"/issuers/{world.org}", headers={"Accept": "application/ld+json"})
    assert json.loads(public.data)["name"] == "Työpaja Verstas ry"
    with db(app) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "org.update")).one()
        assert set(event.details["fields"]) == {"name", "url", "email", "description", "language", "kind"}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("url", "http://verstas.example.fi/", "https://"),
    ("url", "javascript:alert(1)", "https://"),
    ("url", "https://", "https://"),
    ("email", "not an address", "Check the e-mail address"),
    ("name", "", "This field is required"),
    ("kind", "government", "Not a valid choice"),
    ("language", "de", "Not a valid choice"),
    ("description", "x" * 2001, "2000"),
])
def test_bad_profile_values_are_refused_and_nothing_changes(app, as_user, world, field, value, message):
    response = as_user(ADMIN).post(f"/org/{world.org}/settings", data={**PROFILE, field: value})
    assert response.status_code == 400
    assert message in text(response)
    assert _organisation(app, world.org).name == "Työpaja Verstas"


def test_logo_is_re_encoded_and_served_publicly(app, as_user, world):
    exif = Image.Exif()
    exif[0x010E] = "secret description"
    upload = io.BytesIO()
    Image.new("RGB", (2000, 1000), "blue").save(upload, format="JPEG", exif=exif)
    admin = as_user(ADMIN)
    response = admin.post(f"/org/{world.org}/settings/logo",
                          data={"logo": (io.BytesIO(upload.getvalue()), "logo.jpg")})
    assert response.status_code == 302
    served = as_user(None).get(f"/org/{world.org}/logo.png")
    assert served.status_code == 200 and served.mimetype == "image/png"
    image = Image.open(io.BytesIO(served.data))
    assert image.format == "PNG" and max(image.size) <= 512
    assert b"secret description" not in served.data
    assert f"/org/{world.org}/logo.png" in text(admin.get(f"/org/{world.org}/settings"))

    removed = admin.post(f"/org/{world.org}/settings/logo/remove")
    assert removed.status_code == 302
    assert as_user(None).get(f"/org/{world.org}/logo.png").status_code == 404
    with db(app) as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "org.update")))
        assert [event.details["fields"] for event in events] == [["logo"], ["logo"]]


def _bomb() -> bytes:
    return _png(size=(20_000, 20_000), mode="1")  # tiny file, 400 megapixels decoded


@pytest.mark.parametrize(("data", "message"), [
    (b"just some text, not an image", "The file is not a readable image."),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
     "SVG files are not accepted. Use a PNG or JPEG image."),
    (_png()[:150], "The file is not a readable image."),
    (_bomb(), "The image is too large in pixels. Use a smaller image."),
    (b"", "The file is empty."),
], ids=["text", "svg", "truncated", "bomb", "empty"])
def test_bad_logo_uploads_are_refused_with_a_clear_message_and_nothing_saved(app, as_user, world, data, message):
    response = as_user(ADMIN).post(f"/org/{world.org}/settings/logo", data={"logo": (io.BytesIO(data), "logo.png")})
    assert response.status_code == 400
    assert message in text(response)
    assert _organisation(app, world.org).logo_png is None


def test_logo_form_without_a_file_asks_for_one(app, as_user, world):
    response = as_user(ADMIN).post(f"/org/{world.org}/settings/logo", data={})
    assert response.status_code == 400 and "Choose an image file." in text(response)


def test_logo_error_is_shown_in_the_users_language(as_user, world):
    response = as_user(ADMIN, lang="fi").post(
        f"/org/{world.org}/settings/logo", data={"logo": (io.BytesIO(b"<svg></svg>"), "logo.svg")},
    )
    assert "SVG-tiedostot eivät käy" in text(response)


def test_keys_page_shows_the_did_and_rotation_needs_confirmation(app, as_user, world):
    admin = as_user(ADMIN)
    page = text(admin.get(f"/org/{world.org}/keys"))
    assert f"did:web:passi.example.test:issuers:{world.org}" in page
    with db(app) as session:
        organisation = session.scalar(select(Organisation).where(Organisation.slug == world.org))
        first_key = organisation.keys[0].public_key_multibase
    assert first_key in page and "Active" in page

    unconfirmed = admin.post(f"/org/{world.org}/keys", data={})
    assert unconfirmed.status_code == 400 and "Tick the box to confirm" in text(unconfirmed)
    assert len(_did_methods(as_user(None), world.org)) == 1

    confirmed = admin.post(f"/org/{world.org}/keys", data={"confirm": "y"})
    assert confirmed.status_code == 302
    methods = _did_methods(as_user(None), world.org)
    assert len(methods) == 2
    assert any(method.endswith(first_key) for method in methods)  # the retired key still verifies old badges
    page = text(admin.get(f"/org/{world.org}/keys"))
    assert "Retired" in page and "Active" in page
    with db(app) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "key.rotate")).one()
        assert event.actor_id is not None


def _did_methods(client, slug: str) -> list[str]:  # noqa: ANN001
    document = json.loads(client.get(f"/issuers/{slug}/did.json").data)
    return [method["id"] for method in document["verificationMethod"]]
