"""Downloads: the ZIP bundle verifies offline with ``badges verify``; the PDF fetches nothing."""

import io
import json
import re
import zipfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from passport_helpers import sign_in

from badges import passport
from badges.cli import main


def _bundle(client, world) -> zipfile.ZipFile:
    sign_in(client, world.maija)
    response = client.get("/passport/bundle.zip?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_the_bundle_holds_every_credential_three_ways_and_the_documents_to_check_them(client, world):
    archive = _bundle(client, world)
    names = set(archive.namelist())
    for award, folder in ((world.one, "badges"), (world.two, "badges"), (world.revoked, "withdrawn"),
                          (world.expired, "expired"), (world.badge_of_osaamismerkki, "badges")):
        stem = passport.bundle_name(award, passport_now())
        assert stem.startswith(folder + "/")
        assert {f"{stem}.json", f"{stem}.png", f"{stem}.svg"} <= names
        assert archive.read(f"{stem}.json").decode() == award.document  # exactly as signed
    assert not any(world.pekkas.public_id[:8] in name for name in names)  # nothing of another person
    assert f"issuers/{world.org.slug}/did.json" in names
    assert f"status/{world.one.status_list.public_id}.json" in names
    assert f"images/{world.one.achievement_version.public_id}.png" in names
    readme = archive.read("README.txt").decode()
    assert "badges verify" in readme and "Open Badges 3.0" in readme
    assert f"https://passi.example.test/status/{world.one.status_list.public_id}" in readme


def passport_now():
    """Return the web layer's clock."""
    from badges.web import utcnow

    return utcnow()


def test_the_readme_is_in_the_holders_language(client, world):
    sign_in(client, world.maija)
    fi = zipfile.ZipFile(io.BytesIO(client.get("/passport/bundle.zip?lang=fi").data)).read("README.txt").decode()
    en = zipfile.ZipFile(io.BytesIO(client.get("/passport/bundle.zip?lang=en").data)).read("README.txt").decode()
    assert "How anyone can check a badge" in en
    assert fi.startswith("Osaamispassi")


def test_bundled_credentials_verify_offline_with_the_cli(client, world, tmp_path: Path):
    archive = _bundle(client, world)
    folder = tmp_path / "bundle"
    archive.extractall(folder)
    empty = tmp_path / "no-installation"
    empty.mkdir()
    docs = [*sorted((folder / "issuers").glob("*/did.json")), *sorted((folder / "status").glob("*.json"))]
    doc_args = [arg for doc in docs for arg in ("--doc", str(doc))]
    runner = CliRunner()
    checked = 0
    for path in sorted(folder.glob("*/*.*")):
        if path.parent.name not in ("badges", "withdrawn", "expired"):
            continue
        result = runner.invoke(main, ["verify", str(path), *doc_args, "--json"],
                               env={"BADGES_INSTANCE_PATH": str(empty)}, catch_exceptions=False)
        report = json.loads(result.output[result.output.index("{"):])
        checks = {c["name"]: c["outcome"] for c in report["checks"]}
        if path.parent.name == "badges":
            assert result.exit_code == 0, (path.name, result.output)
            assert report["verified"] is True
        elif path.parent.name == "withdrawn":
            assert result.exit_code == 1, result.output
            assert report["verified"] is False
            assert "revoked" in json.dumps(report).lower()
        else:
            assert result.exit_code == 1, result.output  # past validUntil
        assert any(outcome == "passed" for outcome in checks.values())
        checked += 1
    assert checked == 15


def test_a_bundle_of_300_badges_is_built(session, site, world, make_badge):
    from badges import services
    from helpers import FIXED_NOW

    badge = make_badge(world.org, "Toistuva taito")
    for _ in range(300):
        services.issue_award(session, site, version=badge.current, recipient=world.pekka, now=FIXED_NOW)
    session.flush()
    out = passport.bundle_file(session, site, world.pekka, now=FIXED_NOW, readme="x")
    with zipfile.ZipFile(out) as archive:
        assert len([n for n in archive.namelist() if n.endswith(".json") and "/" in n
                    and n.split("/")[0] in ("badges", "withdrawn")]) == 301
        assert archive.testzip() is None
    out.close()


def test_the_bundle_refuses_beyond_its_cap(session, site, world, monkeypatch):
    monkeypatch.setattr(passport, "MAX_BUNDLE_AWARDS", 2)
    with pytest.raises(passport.PassportError) as raised:
        passport.bundle_file(session, site, world.maija, now=passport_now(), readme="x")
    assert raised.value.code == "bundle_too_large"


# --- PDF ------------------------------------------------------------------------------------------


def _pdf_objects(pdf: bytes) -> bytes:
    """Return the PDF's bytes with every Flate stream inflated (WeasyPrint compresses object streams)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompressobj().decompress(pdf[match.end():]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def _page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", _pdf_objects(pdf)))


@pytest.fixture
def fetched(monkeypatch):
    """Record every URL WeasyPrint asked for, and which of them were refused."""
    asked: list[str] = []
    refused: list[str] = []
    real = passport.data_only_fetcher

    def spying_factory():
        fetcher = real(refused)
        inner = fetcher.fetch if hasattr(fetcher, "fetch") else fetcher

        def fetch(url, *args, **kwargs):
            asked.append(url)
            return inner(url, *args, **kwargs)

        if hasattr(fetcher, "fetch"):
            fetcher.fetch = fetch
            return fetcher
        return fetch

    real_html_to_pdf = passport.html_to_pdf
    monkeypatch.setattr(passport, "html_to_pdf", lambda html: real_html_to_pdf(html, fetcher_factory=spying_factory))
    return asked, refused


def test_the_pdf_is_an_a4_document_of_the_valid_badges_and_fetches_nothing(client, world, fetched):
    sign_in(client, world.maija)
    response = client.get("/passport/passport.pdf?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    asked, refused = fetched
    assert refused == []
    assert asked and all(url.startswith("data:") for url in asked)  # badge images, inline
    pages = _page_count(response.data)
    assert 1 <= pages <= 3
    assert b"/MediaBox [0 0 595" in _pdf_objects(response.data)  # A4 width in points


def test_the_pdf_html_has_each_valid_badge_with_a_qr_code_to_its_verification_page(app, client, world):
    from badges.web import passport as passport_views

    import flask_babel
    from flask_login import login_user

    from badges.web.auth import LoginUser

    with app.test_request_context("/passport/passport.pdf?lang=en"):
        login_user(LoginUser(world.maija))
        flask_babel.refresh()  # the fixture's app context cached another request's language
        html = passport_views.passport_html()
    for award in (world.one, world.two, world.badge_of_osaamismerkki):
        assert f"https://passi.example.test/credentials/{award.public_id}" in html
    assert html.count("<svg") == 3  # one QR code per valid badge
    assert "Liimaus" not in html and "Trukki" not in html  # withdrawn and expired are not printed
    assert "Measuring" in html and "Työpaja Verstas" in html
    assert "Vaatimus 1" in html
    assert "counter(pages)" in html
    assert not re.search(r'(src|href)="(?!data:)', html)


def test_a_pdf_with_an_external_reference_has_it_refused():
    refused: list[str] = []
    pdf = passport.html_to_pdf('<p>x</p><img src="https://example.com/tracker.png" alt="">'
                               '<link rel="stylesheet" href="http://example.com/x.css">',
                               fetcher_factory=lambda: passport.data_only_fetcher(refused))
    assert pdf.startswith(b"%PDF")
    assert sorted(refused) == ["http://example.com/x.css", "https://example.com/tracker.png"]


def test_a_passport_with_many_badges_prints_on_several_pages(client, session, site, world, make_badge):
    from badges import services
    from helpers import FIXED_NOW

    badge = make_badge(world.org, "Monta kertaa")
    for _ in range(12):
        services.issue_award(session, site, version=badge.current, recipient=world.pekka, now=FIXED_NOW)
    session.commit()
    sign_in(client, world.pekka)
    response = client.get("/passport/passport.pdf")
    assert response.status_code == 200
    assert _page_count(response.data) >= 2


def test_rendering_a_pdf_leaves_pillow_strict_about_truncated_images():
    from PIL import ImageFile

    passport.html_to_pdf("<p>x</p>")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # upload checks must keep refusing truncated files
