"""``badges frameworks import`` and ``fetch``: mixed folders, clear failures, a polite cached fetch.

The fetch tests talk to a local HTTP server on 127.0.0.1 serving ../shared/data/eperusteet (and
this folder's fixtures), never to the internet.
"""

import contextlib
import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from frameworks_helpers import DATA, EPERUSTEET, OSAAMISMERKIT_EXTERNAL, shared_file
from sqlalchemy import select

from badges import create_app, frameworks
from badges.cli import main
from badges.db import get_session
from badges.models import Qualification, Requirement

API = "/eperusteet-service/api/external"
SLOW_ID, HUGE_ID, HUGE_DECLARED_ID, NOT_JSON_ID = 777, 888, 889, 555


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instance folder set up by ``badges init`` (SQLite)."""
    folder = tmp_path / "instance"
    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(folder))
    monkeypatch.setenv("BADGES_BASE_URL", "https://passi.example.test")
    for name in ("BADGES_SECRET_KEY", "BADGES_KEK", "DATABASE_URL", "BADGES_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert run("init").exit_code == 0
    return folder


def run(*args: str):
    """Invoke ``badges`` and return the click result."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def stored_qualifications() -> dict[str, int]:
    """Return {source_id: number of units} of what the instance's database holds."""
    app = create_app()
    with app.app_context():
        session = get_session()
        result = {q.source_id: len(q.units) for q in session.scalars(select(Qualification))}
    app.extensions["badges.engine"].dispose()
    return result


# --- import -------------------------------------------------------------------------------------------


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    """A folder with two framework files, a scale code list, a CSV, and two broken files."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(DATA / "peruste_2019.json", folder / "a_peruste_2019.json")
    shutil.copy(DATA / "tutkinnonosa_html_list.json", folder / "b_unit.json")
    (folder / "c_scale.json").write_text(json.dumps([
        {"koodiUri": "arviointiasteikkoammatillinent1k3_1", "koodiArvo": "1", "versio": 1,
         "metadata": [{"kieli": "FI", "nimi": "tyydyttävä", "lyhytNimi": "T1"}]},
    ]), encoding="utf-8")
    (folder / "d_index.csv").write_text("peruste_id,koodiUri\n", encoding="utf-8")
    (folder / "e_broken.json").write_text('{"id": 1,\n "tutkinnonOsat": [', encoding="utf-8")
    (folder / "f_wrong.json").write_text(json.dumps(
        {"id": 5, "tutkinnonOsat": [{"id": 1, "koodiUri": "tutkinnonosat_1", "nimi": 5}]}), encoding="utf-8")
    return folder


def test_import_folder_reports_each_file_and_fails_only_for_broken_framework_files(instance, mixed_folder):
    result = run("frameworks", "import", str(mixed_folder))
    assert result.exit_code == 1
    out = result.output
    assert "a_peruste_2019.json: imported Testiperuste 2019 (OPH-0000-2019) [9000001, peruste, 2 units]" in out
    assert "b_unit.json: imported Yksittäiset tutkinnon osat" in out
    assert "c_scale.json: skipped, not a framework file: an assessment scale code list" in out
    assert "d_index.csv" not in out  # a folder means its .json files
    assert "e_broken.json: FAILED at line 2 column 20: not valid JSON" in result.stderr
    assert "f_wrong.json: FAILED at tutkinnonOsat[0].nimi: expected an object, found a number" in result.stderr
    assert stored_qualifications() == {"9000001": 2, "tutkinnonosat": 1}, "good files kept, broken ones left out"


def test_import_folder_of_good_and_other_files_succeeds_and_reimport_reports_no_changes(instance, mixed_folder):
    for name in ("e_broken.json", "f_wrong.json"):
        (mixed_folder / name).unlink()
    assert run("frameworks", "import", str(mixed_folder)).exit_code == 0
    again = run("frameworks", "import", str(mixed_folder / "a_peruste_2019.json"))
    assert again.exit_code == 0
    assert "a_peruste_2019.json: updated Testiperuste 2019" in again.output
    assert "no changes" in again.output


def test_import_of_a_csv_file_is_skipped_not_failed(instance, mixed_folder):
    result = run("frameworks", "import", str(mixed_folder / "d_index.csv"))
    assert result.exit_code == 0
    assert "skipped, not a framework file: not a JSON file (.csv)" in result.output


def test_import_of_every_shared_file(instance):
    if not EPERUSTEET.is_dir():
        pytest.skip("../shared is absent")
    result = run("frameworks", "import", str(EPERUSTEET), str(EPERUSTEET / "tutkinnon_osat_index.csv"))
    assert result.exit_code == 0, result.output
    assert result.output.count(": imported ") == 6
    assert result.output.count(": updated ") == 1
    assert result.output.count("skipped, not a framework file") == 6
    assert stored_qualifications() == {
        "osaamismerkit": 32, "1718932": 2, "1721199": 4, "2910079": 3, "3932281": 4, "tutkinnonosat": 1}


def test_import_of_a_missing_path_is_a_usage_error(instance, tmp_path):
    result = CliRunner().invoke(main, ["frameworks", "import", str(tmp_path / "nothing.json")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


# --- fetch against a local server --------------------------------------------------------------------


@dataclass
class LocalEperusteet:
    """The local stand-in of the ePerusteet API and what it was asked."""

    base_url: str
    hits: list[tuple[float, str, str]] = field(default_factory=list)

    def paths(self) -> list[str]:
        """Return the requested paths in order."""
        return [path for _, path, _ in self.hits]


def _peruste_file(peruste_id: str) -> Path | None:
    if peruste_id == "9000001":
        return DATA / "peruste_2019.json"
    found = sorted(EPERUSTEET.glob(f"peruste_{peruste_id}_*.json")) if EPERUSTEET.is_dir() else []
    return found[0] if found else None


@pytest.fixture
def eperusteet() -> Iterator[LocalEperusteet]:
    """Serve ../shared/data/eperusteet as the ePerusteet API on 127.0.0.1 in a thread."""
    state = LocalEperusteet(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            state.hits.append((time.monotonic(), self.path, self.headers.get("User-Agent", "")))
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._answer()  # the client may give up (timeouts, size cap): expected here

        def _answer(self) -> None:
            path = self.path
            if path == f"{API}/osaamismerkit" and (EPERUSTEET / OSAAMISMERKIT_EXTERNAL).is_file():
                return self._send(200, (EPERUSTEET / OSAAMISMERKIT_EXTERNAL).read_bytes())
            if not path.startswith(f"{API}/peruste/"):
                return self._send(404, b'{"syy": "not found"}')
            peruste_id = path.rsplit("/", 1)[-1]
            if peruste_id == str(SLOW_ID):
                time.sleep(1.0)
                return self._send(200, b"{}")
            if peruste_id in (str(HUGE_ID), str(HUGE_DECLARED_ID)):
                body = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
                return self._send(200, body, declare_length=peruste_id == str(HUGE_DECLARED_ID))
            if peruste_id == str(NOT_JSON_ID):
                return self._send(200, b"<html>Huoltokatko</html>")
            file = _peruste_file(peruste_id)
            if file is None:
                return self._send(404, b'{"syy": "Perustetta ei ole olemassa"}')
            return self._send(200, file.read_bytes())

        def _send(self, status: int, body: bytes, *, declare_length: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if declare_length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/eperusteet-service"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def fetch(server: LocalEperusteet, cache: Path, *args: str):
    """Run ``badges frameworks fetch`` against the local server."""
    return run("frameworks", "fetch", "--base-url", server.base_url, "--cache", str(cache), *args)


def test_fetch_spaces_requests_half_a_second_apart_and_then_uses_the_cache(instance, eperusteet, tmp_path):
    shared_file(OSAAMISMERKIT_EXTERNAL)
    cache = tmp_path / "cache"
    ids = ("3932281", "1721199", "2910079")
    result = fetch(eperusteet, cache, *(a for i in ids for a in ("--peruste", i)), "--osaamismerkit")
    assert result.exit_code == 0, result.output
    assert eperusteet.paths() == [f"{API}/peruste/{i}" for i in ids] + [f"{API}/osaamismerkit"]
    times = [t for t, _, _ in eperusteet.hits]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert all(gap >= 0.5 - 0.02 for gap in gaps), gaps  # at most 2 requests a second
    assert all("Osaamispassi" in agent for _, _, agent in eperusteet.hits)
    assert "peruste 3932281: imported Puuteollisuuden perustutkinto (OPH-2455-2017)" in result.output
    assert sorted(p.name for p in cache.iterdir()) == [
        "osaamismerkit.json", "peruste-1721199.json", "peruste-2910079.json", "peruste-3932281.json"]
    assert stored_qualifications() == {"3932281": 4, "1721199": 4, "2910079": 3, "osaamismerkit": 3}

    again = fetch(eperusteet, cache, *(a for i in ids for a in ("--peruste", i)), "--osaamismerkit")
    assert again.exit_code == 0
    assert len(eperusteet.hits) == 4, "the second run makes no request"
    assert again.output.count("using the cached copy") == 4
    assert "0 request(s)" in again.output

    refreshed = fetch(eperusteet, cache, "--peruste", "3932281", "--refresh")
    assert refreshed.exit_code == 0
    assert len(eperusteet.hits) == 5


def test_fetch_caches_in_the_instance_folder_by_default(instance, eperusteet):
    result = run("frameworks", "fetch", "--base-url", eperusteet.base_url, "--peruste", "9000001")
    assert result.exit_code == 0, result.output
    assert (instance / "eperusteet-cache" / "peruste-9000001.json").is_file()
    assert "peruste 9000001: imported Testiperuste 2019" in result.output
    assert run("frameworks", "fetch", "--base-url", eperusteet.base_url, "--peruste", "9000001").exit_code == 0
    assert len(eperusteet.hits) == 1


def test_fetch_reports_404_clearly_and_keeps_going(instance, eperusteet, tmp_path):
    result = fetch(eperusteet, tmp_path / "cache", "--peruste", "404404", "--peruste", "9000001")
    assert result.exit_code == 1
    assert f"peruste 404404: FAILED peruste 404404 was not found at {eperusteet.base_url}/api/external/peruste/404404 (HTTP 404)" \
        in result.stderr
    assert "peruste 9000001: imported" in result.output
    assert not (tmp_path / "cache" / "peruste-404404.json").exists()


def test_fetch_gives_up_on_a_slow_answer(instance, eperusteet, tmp_path):
    started = time.monotonic()
    result = fetch(eperusteet, tmp_path / "cache", "--peruste", str(SLOW_ID), "--timeout", "0.3")
    assert result.exit_code == 1
    assert "no complete answer" in result.stderr
    assert "within 0.3 s" in result.stderr
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("peruste_id", [HUGE_ID, HUGE_DECLARED_ID])
def test_fetch_refuses_an_oversized_answer(instance, eperusteet, tmp_path, peruste_id):
    result = fetch(eperusteet, tmp_path / "cache", "--peruste", str(peruste_id), "--max-mb", "1")
    assert result.exit_code == 1
    assert f"peruste {peruste_id}: the answer from" in result.stderr
    assert "is larger than 1 MB" in result.stderr
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_fetch_refuses_an_answer_that_is_not_json(instance, eperusteet, tmp_path):
    result = fetch(eperusteet, tmp_path / "cache", "--peruste", str(NOT_JSON_ID))
    assert result.exit_code == 1
    assert "is not JSON" in result.stderr


def test_fetch_needs_something_to_fetch_and_an_http_address(instance, tmp_path):
    nothing = CliRunner().invoke(main, ["frameworks", "fetch"])
    assert nothing.exit_code == 2
    assert "--peruste" in nothing.output
    bad = CliRunner().invoke(main, ["frameworks", "fetch", "--peruste", "1", "--base-url", "file:///etc"])
    assert bad.exit_code == 1
    assert "http(s) address" in bad.output
    negative = CliRunner().invoke(main, ["frameworks", "fetch", "--peruste", "-3"])
    assert negative.exit_code == 2


def test_rate_limiter_waits_out_the_rest_of_the_interval():
    clock = [100.0]
    slept = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = frameworks.RateLimiter(2.0, clock=lambda: clock[0], sleep=sleep)
    limiter.wait()
    clock[0] += 0.2
    limiter.wait()
    clock[0] += 0.7
    limiter.wait()
    assert slept == [pytest.approx(0.3)]


def test_fetched_data_is_the_same_as_importing_the_file(instance, eperusteet, tmp_path):
    assert fetch(eperusteet, tmp_path / "cache", "--peruste", "9000001").exit_code == 0
    app = create_app()
    with app.app_context():
        keys = sorted(get_session().scalars(select(Requirement.key)))
    app.extensions["badges.engine"].dispose()
    assert keys == sorted(["ammattitaitovaatimukset_90001", "ammattitaitovaatimukset_90002",
                           "tutkinnonosat_900001:k1:2", "ammattitaitovaatimukset_90003",
                           "ammattitaitovaatimukset_90010"])
