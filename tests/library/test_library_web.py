"""Library pages: who may see and change what, the badge form, uploads, preview and CSRF."""

import io
import re

import pytest
from helpers import BASE_URL, REPO_ROOT
from library_helpers import (
    ADMIN,
    ADMIN_B,
    CLIENT,
    COACH,
    COACH_B,
    Lib,
    db,
    form_data,
    huge_png_header,
    png_bytes,
)
from PIL import Image
from sqlalchemy import select

from badges import create_app, library
from badges.models import Achievement, AchievementVersion, AuditEvent
from badges.web import csrf

ADOPT = "/org/{org}/badges/catalogue/tyopaja-perustaidot/perus-palaute/adopt"
ADMIN_ONLY = [
    ("post", ADOPT),
    ("get", "/org/{org}/badges/new"),
    ("post", "/org/{org}/badges/new"),
    ("get", "/org/{org}/badges/preview.png?name=X"),
    ("get", "/org/{org}/badges/{badge}/edit"),
    ("post", "/org/{org}/badges/{badge}/edit"),
    ("post", "/org/{org}/badges/{badge}/retire"),
    ("post", "/org/{org}/badges/{badge}/unretire"),
]
STAFF = [
    ("get", "/org/{org}/badges/"),
    ("get", "/org/{org}/badges/catalogue"),
    ("get", "/org/{org}/badges/{badge}"),
]


def url(template: str, lib: Lib, **extra: str) -> str:
    return template.format(org=lib.org, badge=lib.badge, **extra)


def versions(app, public_id: str) -> list[AchievementVersion]:
    with db(app) as session:
        badge = session.scalar(select(Achievement).where(Achievement.public_id == public_id))
        return list(badge.versions)


def badge_count(app) -> int:
    with db(app) as session:
        return len(session.scalars(select(Achievement)).all())


# --- roles and ownership ---------------------------------------------------------------------


def test_admin_of_the_organisation_gets_in(as_user, lib):
    client = as_user(ADMIN)
    for method, path in ADMIN_ONLY + STAFF:
        response = getattr(client, method)(url(path, lib), data={})
        assert response.status_code in (200, 302, 400), (method, path)


def test_coach_may_look_but_not_change_anything(app, as_user, lib):
    client = as_user(COACH)
    for method, path in STAFF:
        assert getattr(client, method)(url(path, lib)).status_code == 200, path
    for method, path in ADMIN_ONLY:
        assert getattr(client, method)(url(path, lib), data=form_data()).status_code == 404, (
            method,
            path,
        )
    assert badge_count(app) == 2
    assert len(versions(app, lib.badge)) == 1
    with db(app) as session:
        assert (
            session.scalar(select(Achievement.retired_at).where(Achievement.public_id == lib.badge))
            is None
        )


@pytest.mark.parametrize("email", [ADMIN_B, COACH_B, CLIENT])
def test_other_organisations_and_clients_get_404(app, as_user, lib, email):
    client = as_user(email)
    for method, path in ADMIN_ONLY + STAFF:
        assert getattr(client, method)(url(path, lib), data=form_data()).status_code == 404, (
            method,
            path,
        )
    assert badge_count(app) == 2
    assert len(versions(app, lib.badge)) == 1


def test_admin_of_b_cannot_reach_a_badge_of_a_through_b(as_user, lib):
    response = as_user(ADMIN_B).get(f"/org/{lib.other}/badges/{lib.badge}")
    assert response.status_code == 404
    assert as_user(ADMIN).get(f"/org/{lib.org}/badges/{lib.badge_b}").status_code == 404


def test_anonymous_visitors_are_sent_to_login(as_user, lib):
    response = as_user(None).get(f"/org/{lib.org}/badges/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_coach_sees_no_buttons_that_change_things(as_user, lib):
    page = as_user(COACH).get(f"/org/{lib.org}/badges/catalogue").get_data(as_text=True)
    assert "Turvallinen työskentely puutyöpajassa" in page
    assert "/adopt" not in page
    detail = as_user(COACH).get(f"/org/{lib.org}/badges/{lib.badge}").get_data(as_text=True)
    assert "/edit" not in detail
    assert "/retire" not in detail


# --- library, catalogue, adopting ------------------------------------------------------------


def test_library_lists_current_and_retired_badges_with_counts(app, admin, lib):
    admin.post(f"/org/{lib.org}/badges/{lib.badge}/retire")
    page = admin.get(f"/org/{lib.org}/badges/?lang=en").get_data(as_text=True)
    current, retired = page.split("Retired badges", 1)
    assert "Puulajien tunnistaminen" in retired
    assert "Puulajien tunnistaminen" not in current
    assert re.search(
        r"Puulajien tunnistaminen</a>.*?<td>1</td>\s*<td>0</td>\s*<td>1</td>", retired, re.S
    )
    assert "Nurmikon leikkaaminen" not in page


def test_adopt_from_the_catalogue_and_see_it_marked(app, admin, lib):
    response = admin.post(url(ADOPT, lib))
    assert response.status_code == 302
    with db(app) as session:
        badge = session.scalar(select(Achievement).where(Achievement.catalogue_ref.is_not(None)))
        assert badge.catalogue_ref == "tyopaja-perustaidot/perus-palaute@2026.1"
        assert response.headers["Location"].endswith(f"/badges/{badge.public_id}")
    page = admin.get(f"/org/{lib.org}/badges/catalogue?lang=en").get_data(as_text=True)
    assert page.count("In your library") == 1
    assert "catalogue/tyopaja-perustaidot/perus-palaute/adopt" not in page
    # English interface: definitions show their English names.
    assert "Working safely in the wood shop" in page


def test_adopting_twice_shows_a_clear_message(app, admin, lib):
    admin.post(url(ADOPT, lib))
    response = admin.post(url(ADOPT, lib) + "?lang=en", follow_redirects=True)
    assert "adopted this badge already" in response.get_data(as_text=True)
    assert badge_count(app) == 3


def test_catalogue_files_with_errors_are_left_out_and_named_to_admins(
    admin, as_user, lib, tmp_path, monkeypatch
):
    (tmp_path / "rikki.json").write_text("{", encoding="utf-8")
    (tmp_path / "ok.json").write_bytes((REPO_ROOT / "criteria" / "demo-tyopaja.json").read_bytes())
    monkeypatch.setattr(library, "CRITERIA_DIR", tmp_path)
    page = admin.get(f"/org/{lib.org}/badges/catalogue?lang=en").get_data(as_text=True)
    assert (
        "1 catalogue file has errors and is not shown:" in page
        and "<code>rikki.json</code>" in page
    )
    assert "Workshop basics (demo)" in page
    assert "Using green-area machines" not in page  # the starter catalogue is not in that folder
    assert "rikki.json" not in as_user(COACH).get(f"/org/{lib.org}/badges/catalogue").get_data(
        as_text=True
    )


def test_adopting_an_unknown_definition_is_404(admin, lib):
    assert (
        admin.post(f"/org/{lib.org}/badges/catalogue/tyopaja-perustaidot/nothing/adopt").status_code
        == 404
    )


# --- creating ---------------------------------------------------------------------------------


def test_create_saves_the_badge_with_resolved_alignments(app, admin, lib):
    response = admin.post(
        f"/org/{lib.org}/badges/new",
        data=form_data(alignments="osaamismerkit_1016\nammattitaitovaatimukset_416"),
    )
    assert response.status_code == 302
    with db(app) as session:
        version = session.scalar(
            select(AchievementVersion).where(AchievementVersion.name == "Lumityöt")
        )
        assert version.achievement.organisation.slug == lib.org
        assert [a["targetCode"] for a in version.alignments] == [
            "osaamismerkit_1016",
            "ammattitaitovaatimukset_416",
        ]
        assert version.evidence_guidance == "Valokuva aurattusta pihasta."
        assert session.scalars(select(AuditEvent.action)).all()[-1] == "badge.create"


def test_preview_shows_the_card_and_saves_nothing(app, admin, lib):
    response = admin.post(f"/org/{lib.org}/badges/new", data=form_data(action="preview"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "data-preview-name>Lumityöt</h3>" in page
    assert f"/org/{lib.org}/badges/preview.png?name=Lumity%C3%B6t&amp;colour=%230b5394" in page
    assert badge_count(app) == 2


def test_preview_image_is_a_png_of_the_name_and_colour(admin, lib):
    response = admin.get(f"/org/{lib.org}/badges/preview.png?name=Lumityöt&colour=%231d6b3a")
    assert response.mimetype == "image/png"
    assert Image.open(io.BytesIO(response.data)).size == (256, 256)
    assert (
        admin.get(f"/org/{lib.org}/badges/preview.png?name={'x' * 5000}&colour=evil").status_code
        == 200
    )


@pytest.mark.parametrize("missing", ["name_fi", "description_fi", "criteria_fi", "image_alt_fi"])
def test_primary_texts_and_alt_text_are_required(app, admin, lib, missing):
    response = admin.post(f"/org/{lib.org}/badges/new?lang=en", data=form_data(**{missing: "  "}))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This field is required." in page
    assert f'id="{missing}-errors"' in page
    assert badge_count(app) == 2


def test_a_started_translation_must_be_complete(app, admin, lib):
    response = admin.post(
        f"/org/{lib.org}/badges/new?lang=en", data=form_data(name_sv="Snöröjning")
    )
    assert response.status_code == 400
    assert 'id="criteria_sv-errors"' in response.get_data(as_text=True)
    assert badge_count(app) == 2


def test_unknown_alignment_codes_are_shown_next_to_the_field(app, admin, lib):
    response = admin.post(
        f"/org/{lib.org}/badges/new?lang=en",
        data=form_data(alignments="osaamismerkit_1016, keksitty_42"),
    )
    assert response.status_code == 400
    assert "Not found in the imported frameworks: keksitty_42." in response.get_data(as_text=True)
    assert badge_count(app) == 2


def test_wording_warnings_need_an_explicit_confirmation(app, admin, lib):
    data = form_data(description_fi="Osaa lumityöt, vaikka hänellä on masennus.")
    first = admin.post(f"/org/{lib.org}/badges/new?lang=en", data=data)
    page = first.get_data(as_text=True)
    assert first.status_code == 400
    assert 'id="description_fi-wording"' in page
    assert "“masennus”" in page
    assert "I have checked the wording" in page
    assert badge_count(app) == 2
    confirmed = admin.post(f"/org/{lib.org}/badges/new", data={**data, "wording_confirmed": "y"})
    assert confirmed.status_code == 302
    assert badge_count(app) == 3


def test_a_preview_shows_wording_warnings_without_blocking(admin, lib):
    response = admin.post(
        f"/org/{lib.org}/badges/new", data=form_data(criteria_fi="Ei osaa lukea.", action="preview")
    )
    assert response.status_code == 200
    assert 'id="criteria_fi-wording"' in response.get_data(as_text=True)


# --- uploads ----------------------------------------------------------------------------------

BAD_UPLOADS = [
    (b"this is not an image at all", "The file is not a readable image."),
    (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "SVG files are not accepted. Use a PNG or JPEG image.",
    ),
    (huge_png_header(), "The image is too large in pixels. Use a smaller image."),
    (png_bytes((300, 300))[:200], "The file is not a readable image."),
]


@pytest.mark.parametrize(
    ("content", "message"), BAD_UPLOADS, ids=["not-image", "svg-script", "huge", "truncated"]
)
def test_bad_uploads_get_a_translated_error_and_nothing_is_saved(app, admin, lib, content, message):
    data = {**form_data(), "image": (io.BytesIO(content), "badge.png")}
    response = admin.post(
        f"/org/{lib.org}/badges/new?lang=en", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert badge_count(app) == 2
    finnish = admin.post(
        f"/org/{lib.org}/badges/new?lang=fi",
        data={**form_data(), "image": (io.BytesIO(content), "badge.png")},
        content_type="multipart/form-data",
    )
    assert message not in finnish.get_data(as_text=True)  # shown in Finnish instead


def test_a_good_upload_is_re_encoded_and_kept_through_a_preview(app, admin, lib):
    original = io.BytesIO()
    image = Image.new("RGB", (400, 400), "#1d6b3a")
    exif = Image.Exif()
    exif[0x010F] = "Secret camera maker"
    image.save(original, format="JPEG", exif=exif)
    preview = admin.post(
        f"/org/{lib.org}/badges/new",
        data={
            **form_data(action="preview"),
            "image": (io.BytesIO(original.getvalue()), "photo.jpg"),
        },
        content_type="multipart/form-data",
    )
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert 'src="data:image/png;base64,' in page
    kept = re.search(r'name="image_kept" type="hidden" value="([^"]+)"', page).group(1)
    saved = admin.post(f"/org/{lib.org}/badges/new", data={**form_data(), "image_kept": kept})
    assert saved.status_code == 302
    with db(app) as session:
        version = session.scalar(
            select(AchievementVersion).where(AchievementVersion.name == "Lumityöt")
        )
        stored = Image.open(io.BytesIO(version.image_png))
        assert stored.format == "PNG"
        assert stored.size == (400, 400)
        assert b"Secret camera maker" not in version.image_png


def test_a_kept_upload_can_be_exchanged_for_a_generated_image(app, admin, lib):
    preview = admin.post(
        f"/org/{lib.org}/badges/new",
        data={**form_data(action="preview"), "image": (io.BytesIO(png_bytes()), "a.png")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert 'data-fixed-image="upload"' in preview
    assert 'name="discard_image"' in preview
    kept = re.search(r'name="image_kept" type="hidden" value="([^"]+)"', preview).group(1)
    admin.post(
        f"/org/{lib.org}/badges/new", data={**form_data(), "image_kept": kept, "discard_image": "y"}
    )
    with db(app) as session:
        version = session.scalar(
            select(AchievementVersion).where(AchievementVersion.name == "Lumityöt")
        )
        assert Image.open(io.BytesIO(version.image_png)).size == (256, 256)  # the generated one


def test_a_tampered_kept_image_is_checked_again(app, admin, lib):
    import base64

    tampered = base64.b64encode(b"<svg><script>alert(1)</script></svg>").decode()
    response = admin.post(
        f"/org/{lib.org}/badges/new?lang=en", data={**form_data(), "image_kept": tampered}
    )
    assert response.status_code == 400
    assert "SVG files are not accepted" in response.get_data(as_text=True)
    response = admin.post(
        f"/org/{lib.org}/badges/new?lang=en", data={**form_data(), "image_kept": "not base64!"}
    )
    assert response.status_code == 400
    assert "The file is empty." in response.get_data(as_text=True)
    assert badge_count(app) == 2


# --- editing and retiring ---------------------------------------------------------------------


def test_edit_form_is_prefilled_and_saving_makes_version_two(app, admin, lib):
    page = admin.get(f"/org/{lib.org}/badges/{lib.badge}/edit").get_data(as_text=True)
    assert 'value="Puulajien tunnistaminen"' in page
    assert "Keep the current image" in admin.get(
        f"/org/{lib.org}/badges/{lib.badge}/edit?lang=en"
    ).get_data(as_text=True)
    response = admin.post(
        f"/org/{lib.org}/badges/{lib.badge}/edit",
        data=form_data(name_fi="Puulajien tunnistaminen 2", colour="", alignments=""),
    )
    assert response.status_code == 302
    first, second = versions(app, lib.badge)
    assert second.number == 2
    assert second.name == "Puulajien tunnistaminen 2"
    assert second.image_png == first.image_png  # no new image, no colour: the image is kept
    detail = admin.get(f"/org/{lib.org}/badges/{lib.badge}").get_data(as_text=True)
    assert re.search(
        r">1</a></td>\s*<td lang=\"fi\">Puulajien tunnistaminen</td>.*?<td>1</td>", detail, re.S
    )


def test_retire_and_unretire_through_the_page(app, admin, lib):
    assert admin.post(f"/org/{lib.org}/badges/{lib.badge}/retire").status_code == 302
    with db(app) as session:
        assert session.scalar(
            select(Achievement.retired_at).where(Achievement.public_id == lib.badge)
        )
    page = admin.get(f"/org/{lib.org}/badges/{lib.badge}?lang=en").get_data(as_text=True)
    assert "Bring back into use" in page
    admin.post(f"/org/{lib.org}/badges/{lib.badge}/unretire")
    with db(app) as session:
        assert (
            session.scalar(select(Achievement.retired_at).where(Achievement.public_id == lib.badge))
            is None
        )
        assert session.scalars(select(AuditEvent.action)).all()[-2:] == [
            "badge.retire",
            "badge.unretire",
        ]


# --- pages are safe and accessible ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/org/{org}/badges/",
        "/org/{org}/badges/catalogue",
        "/org/{org}/badges/new",
        "/org/{org}/badges/{badge}",
        "/org/{org}/badges/{badge}/edit",
    ],
)
def test_pages_have_no_inline_script_or_style(admin, lib, path):
    page = admin.get(url(path, lib)).get_data(as_text=True)
    assert "style=" not in page
    assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", page))
    assert page.count("<h1") == 1


def test_csrf_is_enforced_when_enabled(lib, app, tmp_path, kek_text, monkeypatch):
    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(tmp_path / "instance"))
    strict = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "BADGES_KEK": kek_text,
            "BADGES_BASE_URL": BASE_URL,
            "BADGES_DATABASE_URL": app.config["BADGES_DATABASE_URL"],
            "WTF_CSRF_ENABLED": True,
        }
    )
    try:
        _csrf_checks(app, strict, lib)
    finally:
        strict.extensions[
            "badges.engine"
        ].dispose()  # release its connections before the schema goes


def _csrf_checks(app, strict, lib):
    client = strict.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    assert (
        client.post(
            "/login",
            data={"email": ADMIN, "password": "correct horse battery staple", "csrf_token": token},
        ).status_code
        == 302
    )
    assert client.post(f"/org/{lib.org}/badges/new", data=form_data()).status_code == 400
    assert client.post(url(ADOPT, lib)).status_code == 400
    assert client.post(f"/org/{lib.org}/badges/{lib.badge}/retire").status_code == 400
    assert badge_count(app) == 2
    page = client.get(f"/org/{lib.org}/badges/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert (
        client.post(
            f"/org/{lib.org}/badges/new", data={**form_data(), "csrf_token": token}
        ).status_code
        == 302
    )
    assert badge_count(app) == 3
    assert csrf  # the app-wide CSRFProtect is what refused the requests above
