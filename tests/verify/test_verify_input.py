"""Bad input never breaks the verifier: a clear message in the reader's language, never a 500.

Each hostile input goes through the service, the page (HTML, 4xx with the message) and the API
(400/422 with a stable code).
"""

import io
import json
import os

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart
from verify_helpers import baked_png, baked_svg, credential, png_image

from badges import verifier
from badges.core.baking import bake_png

VALID = json.dumps(credential())


def _zip_bomb_png() -> bytes:
    import zlib

    compressed = zlib.compress(b"{" + b" " * (20 * 1024 * 1024), 9)
    # an OB 2.0 zTXt chunk: keyword, NUL, method 0, compressed text
    import struct

    data = b"openbadges\x00\x00" + compressed
    chunk = struct.pack(">I", len(data)) + b"zTXt" + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(b"zTXt")))
    png = png_image()
    return png[:-12] + chunk + png[-12:]


HOSTILE: dict[str, tuple[bytes, str]] = {
    # name: (file contents, the code the reader is told)
    "empty file": (b"", "verify_empty"),
    "random bytes": (os.urandom(2048).replace(b"\x89PNG", b"xxxx"), "verify_not_utf8"),
    "truncated PNG": (baked_png(credential())[:300], "verify_bad_image"),
    "PNG with a bad CRC": (baked_png(credential())[:40] + b"\x00" + baked_png(credential())[41:], "verify_bad_image"),
    "PNG without a badge": (png_image(), "verify_no_credential"),
    "PNG zTXt bomb": (_zip_bomb_png(), "verify_too_large"),
    "PNG with JSON garbage": (bake_png(png_image(), "{not json"), "verify_bad_json"),
    "SVG with an entity": (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
                           "verify_unsafe_svg"),
    "SVG with an external entity": (b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                                    b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>', "verify_unsafe_svg"),
    "SVG with a script and no badge": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                                       "verify_no_credential"),
    "SVG not well-formed": (b'<svg xmlns="http://www.w3.org/2000/svg"><g></svg>', "verify_bad_image"),
    "non-UTF-8 JSON": ('{"name": "äö"}'.encode("latin-1"), "verify_not_utf8"),
    "JSON syntax error": (b'{"@context": [', "verify_bad_json"),
    "deeply nested JSON": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "verify_bad_json"),
    "huge number": (b'{"n": ' + b"9" * 10_000 + b"}", "verify_bad_json"),
    "JSON array": (b"[1, 2, 3]", "verify_not_badge"),
    "JSON that is no badge": (b'{"hello": "world"}', "verify_not_badge"),
    "JWT garbage": (b"eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.c2ln", "verify_bad_jwt"),
    "JWT with a non-object payload": (b"eyJhbGciOiJFZERTQSJ9.WzFd.c2ln", "verify_bad_jwt"),
    "plain text": (b"hello, is this a badge?", "verify_not_badge"),
    "huge JSON": (b'{"a": "' + b"x" * (verifier.MAX_TEXT_BYTES + 10) + b'"}', "verify_too_large"),
    "too large a file": (b"\x89PNG\r\n\x1a\n" + b"\x00" * (verifier.MAX_FILE_BYTES + 1), "verify_too_large"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_give_an_unreadable_report(verify, name):
    data, code = HOSTILE[name]
    report = verify(data=data)
    assert report.verdict == verifier.UNREADABLE and not report.verified
    assert report.problem.code == code, report.problem
    assert report.to_json()["checks"][0]["code"] == code


@pytest.mark.parametrize("name", ["truncated PNG", "SVG with an entity", "deeply nested JSON", "JWT garbage",
                                  "random bytes", "non-UTF-8 JSON", "JSON that is no badge"])
def test_the_page_explains_hostile_files_in_the_readers_language(client, name):
    data, _ = HOSTILE[name]
    for lang, phrase in (("en", "Please note"), ("fi", 'lang="fi"'), ("sv", 'lang="sv"')):
        response = client.post(f"/verify?lang={lang}", data={"badge_file": (io.BytesIO(data), "badge.png")},
                               content_type="multipart/form-data")
        assert response.status_code == 422, response.status_code
        html = response.get_data(as_text=True)
        assert 'class="error-summary" role="alert"' in html or "field-errors" in html
        assert "Traceback" not in html


def test_the_page_says_what_is_wrong(client):
    response = client.post("/verify?lang=en", data={"badge_file": (io.BytesIO(HOSTILE["truncated PNG"][0]), "x.png")},
                           content_type="multipart/form-data")
    assert "The image cannot be read" in response.get_data(as_text=True)
    response = client.post("/verify?lang=en", data={"pasted": "{broken"})
    assert response.status_code == 422
    assert "The text is not valid JSON" in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["truncated PNG", "SVG with an entity", "deeply nested JSON", "JWT garbage",
                                  "random bytes", "huge number", "PNG zTXt bomb"])
def test_the_api_answers_hostile_files_with_422_and_a_code(client, name):
    data, code = HOSTILE[name]
    response = client.post("/api/v1/verify", data={"file": (io.BytesIO(data), "badge.bin")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.get_json()["code"] == code
    assert response.get_json()["message"]


@pytest.mark.parametrize("text", ["", "   ", "{", "[]", "null", "eyJ.eyJ.x", "a.b.c", "{\"@context\": 5}",
                                  "http://", "https://elsewhere.example/credentials/x", "\x00\x01", "\ud800"])
def test_odd_pasted_text(verify, text):
    report = verify(text=text)
    assert not report.verified
    json.dumps(report.to_json())  # always serialisable


def test_one_badge_at_a_time(verify, client):
    assert verify(data=b"{}", text=VALID).problem.code == "verify_several"
    response = client.post("/verify?lang=en", data={"pasted": VALID, "badge_file": (io.BytesIO(b"{}"), "a.json")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "one badge at a time" in response.get_data(as_text=True)


def test_nothing_given(client):
    response = client.post("/verify?lang=en", data={})
    assert response.status_code == 400
    assert "Choose a badge file or paste the credential" in response.get_data(as_text=True)


def test_an_overlong_identity_is_refused(verify, client):
    assert verify(text=VALID, identity="x" * 1000).problem.code == "identity_too_long"
    response = client.post("/verify?lang=en", data={"pasted": VALID, "identity": "x" * 1000})
    assert response.status_code == 400


def test_a_large_upload_is_refused_without_a_500(client):
    big = b"{" + b" " * (verifier.MAX_FILE_BYTES + 10) + b"}"
    boundary, body = encode_multipart({"badge_file": FileStorage(io.BytesIO(big), "big.json")})
    response = client.post("/verify?lang=en", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "The file is too large" in response.get_data(as_text=True)


def test_an_svg_badge_with_a_script_is_read_but_never_shown(client):
    svg = baked_svg(credential()).replace(b"<rect", b"<script>alert(1)</script><rect")
    response = client.post("/verify?lang=en", data={"badge_file": (io.BytesIO(svg), "x.svg")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.get_data(as_text=True)


def test_markup_in_a_badge_is_escaped(client):
    from verify_helpers import sign, unsigned

    document = unsigned(name='<img src=x onerror="alert(1)">')
    document["issuer"]["url"] = "javascript:alert(1)"
    document["credentialSubject"]["achievement"]["alignment"][0]["targetUrl"] = "javascript:alert(2)"
    response = client.post("/verify?lang=en", data={"pasted": json.dumps(sign(document))})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<img src=x' not in html and "&lt;img src=x" in html
    assert "javascript:" not in html
