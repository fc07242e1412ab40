"""Export every public document as static files, laid out by URL path.

If the service ever ends, the folder can be put on any static web host at the same origin
and every badge stays verifiable: DID documents, profiles, achievements, credentials and
status lists are served from the files exactly as the app served them.
"""

import shutil
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from badges.db import PROJECT_ROOT
from badges.models import AchievementVersion, Award, Organisation, StatusList
from badges.services import Site

README = """Osaamispassi static export
==========================

Serve this folder at {origin} (the origin written into every credential and DID).
Each URL path maps to a file:

  /issuers/<slug>/did.json        DID document (serve as application/did+json)
  /issuers/<slug>                 index.html for people, index.json (OB 3.0 Profile, JSON-LD)
  /achievements/<id>              index.html, index.json (Achievement, JSON-LD), image.png
  /credentials/<id>               index.html; <id>.json (application/vc+ld+json), <id>.png, <id>.svg
  /status/<id>                    the signed status list (serve as application/vc+ld+json)

Revocations made after this export are not in it: the status lists are frozen as they were.
"""


def _write(out: Path, path: str, data: bytes) -> None:
    target = (out / path.lstrip("/")).resolve()
    if out.resolve() not in target.parents:
        raise ValueError(f"refusing to write outside the export folder: {path}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def export_site(session: Session, site: Site, out: Path) -> int:
    """Write the static copy into ``out``; return the number of files written."""
    out.mkdir(parents=True, exist_ok=True)
    client = current_app.test_client()
    files: list[tuple[str, str, str]] = []  # (url, accept, file path)

    for slug in session.scalars(select(Organisation.slug)):
        files += [
            (f"/issuers/{slug}", "text/html", f"/issuers/{slug}/index.html"),
            (f"/issuers/{slug}", "application/ld+json", f"/issuers/{slug}/index.json"),
            (f"/issuers/{slug}/did.json", "application/did+json", f"/issuers/{slug}/did.json"),
        ]
    for public_id in session.scalars(select(AchievementVersion.public_id)):
        files += [
            (f"/achievements/{public_id}", "text/html", f"/achievements/{public_id}/index.html"),
            (f"/achievements/{public_id}", "application/ld+json", f"/achievements/{public_id}/index.json"),
            (f"/achievements/{public_id}/image.png", "image/png", f"/achievements/{public_id}/image.png"),
        ]
    for public_id in session.scalars(select(Award.public_id)):
        files += [
            (f"/credentials/{public_id}", "text/html", f"/credentials/{public_id}/index.html"),
            *[(f"/credentials/{public_id}.{ext}", "*/*", f"/credentials/{public_id}.{ext}") for ext in ("json", "png", "svg")],
        ]
    for public_id in session.scalars(select(StatusList.public_id)):
        files.append((f"/status/{public_id}", "application/vc+ld+json", f"/status/{public_id}"))

    for url, accept, path in files:
        response = client.get(url, headers={"Accept": accept})
        if response.status_code != 200:
            raise RuntimeError(f"export failed: {url} answered {response.status_code}")
        _write(out, path, response.get_data())
    shutil.copytree(PROJECT_ROOT / "static", out / "static", dirs_exist_ok=True)
    _write(out, "/README.txt", README.format(origin=site.base_url).encode("utf-8"))
    return len(files) + 1
