"""Pages and the verify endpoint under load, served by the production server (``badges serve``).

A throw-away instance (SQLite, the embedded default) gets one organisation, a client whose
passport holds 300 badges (30 badge definitions aligned to a qualification's requirements,
each award with a coach's note and every third with a photo), and a share of 50 of them with
evidence. ``badges serve`` (gunicorn, one sync worker per core) serves it on 127.0.0.1; a
bounded load generator (wrk with a fixed number of connections, or ``loadgen.py`` when wrk is
missing) sends

- ``POST /api/v1/verify`` with one of the credentials as the body,
- ``GET /s/<token>``: the share page of 50 badges, opened through its link (each opening is
  logged for the client, as in real use), and
- ``GET /passport``: the client's own passport page of 300 badges (a logged-in session).
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import common

HERE = Path(__file__).resolve().parent
WRK_SCRIPT = HERE / "wrk_report.lua"
LOADGEN = HERE / "loadgen.py"
BADGES = Path(sys.executable).with_name("badges")
#: What the benchmark's requests say they are (a desktop browser: share openings are logged as such).
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) osaamispassi-bench"
#: The verify API; the body is ``{"credential": {...}}``.
VERIFY_PATH = "/api/v1/verify"


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed(app, *, passport_badges: int, share_badges: int, definitions: int) -> dict[str, Any]:  # noqa: ANN001
    """Fill the instance: a client with ``passport_badges`` awards and a share of ``share_badges``."""
    from datetime import timedelta

    from badges import services, sharing
    from badges.core.credential import Evidence
    from badges.db import get_session
    from badges.models import new_public_id

    with app.app_context():
        session = get_session()
        site = common.site_of(app)
        organisation, coach = common.organisation_with_staff(session, site)
        common.add_framework(session, definitions)
        badges = common.make_badges(session, organisation, definitions)
        holder = services.create_user(session, display_name="Maija Meikäläinen", email="maija@example.test",
                                      password=common.PASSWORD, now=common.NOW)
        services.add_member(session, holder, organisation, "client", now=common.NOW)
        awards = []
        for number in range(passport_badges):
            photo = Evidence(id=site.url(f"/evidence/{new_public_id()}"), name="Valokuva")
            evidence = [photo] if number % 3 == 0 else []
            awards.append(services.issue_award(
                session, site, version=badges[number % len(badges)].current, recipient=holder, issued_by=coach,
                now=common.NOW + timedelta(days=number % 200, minutes=number), evidence=evidence,
                evidence_note=f"Havainto {number}: teki työn huolellisesti ja kysyi neuvoa oikeaan aikaan.",
            ))
        share, token = sharing.create_share(
            session, client=holder, scope="badges", purpose="Työkokeilun suunnittelu", now=common.NOW,
            recipient_label="TE-palvelut, N.N.", award_ids=[a.public_id for a in awards[:share_badges]],
            include_evidence=True, expires_on=(common.NOW + timedelta(days=300)).date(),
        )
        session.commit()
        return {"token": token, "credential": awards[0].document, "award_id": awards[0].public_id,
                "awards": len(awards), "shared": len(share.awards)}


class Server:
    """``badges serve`` in a child process, stopped on exit."""

    def __init__(self, env: dict[str, str], port: int, workers: int, log: Path) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = log.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own console script
            [str(BADGES), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until the server answers /healthz."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"badges serve exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError("badges serve did not start in time")

    def cpu_seconds(self) -> float:
        """Return the CPU time the server's processes (master and workers) have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # fields[1] is the parent pid; utime and stime are fields 14 and 15 of stat(5)
            if entry.name == str(self.process.pid) or fields[1] == str(self.process.pid):
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def stop(self) -> None:
        """Stop gunicorn (its master passes the signal on to the workers)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def login(base: str, email: str, password: str) -> str:
    """Log in through the form; return the Cookie header value of the session.

    The session is bound to the browser's address and User-Agent (Flask-Login's strong
    protection), so the load generator sends the same User-Agent (:data:`USER_AGENT`).
    """
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    with opener.open(base + "/login") as response:  # noqa: S310 - loopback
        page = response.read().decode()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    form = {"email": email, "password": password, **({"csrf_token": match.group(1)} if match else {})}
    with opener.open(base + "/login", data=urlencode(form).encode()) as response:  # noqa: S310 - loopback
        response.read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def probe(url: str, *, method: str = "GET", body: Path | None = None, headers: dict[str, str] | None = None) -> int:
    """Send the request the load generator will send once; return the size of a 200 answer, else raise.

    Load generators count redirects as answers: a lost session would measure the login redirect.
    """
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, parts.path, body=body.read_bytes() if body else None, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"{method} {parts.path} answered {response.status}, not 200: {data[:300]!r}")
    return len(data)


def load(url: str, *, method: str = "GET", body: Path | None = None, headers: dict[str, str] | None = None,
         connections: int, duration: float, use_wrk: bool) -> dict[str, Any]:
    """Run the load generator against ``url``; return its report with its own CPU time."""
    header_lines = [f"{name}: {value}" for name, value in (headers or {}).items()]
    if use_wrk:
        env = {**os.environ, "BENCH_METHOD": method, "BENCH_BODY_FILE": str(body or ""),
               "BENCH_HEADERS": "\n".join(header_lines)}
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
                   "-s", str(WRK_SCRIPT), url]
    else:
        env = dict(os.environ)
        command = [sys.executable, str(LOADGEN), "--url", url, "--method", method, "--connections", str(connections),
                   "--duration", str(duration)]
        command += ["--body-file", str(body)] if body else []
        for line in header_lines:
            command += ["--header", line]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
    started = time.perf_counter()
    out, err = process.communicate(timeout=duration + 120)
    wall = time.perf_counter() - started
    # communicate() waited for it, so RUSAGE_CHILDREN now includes its CPU time (see measured_load).
    line = next((x for x in out.decode().splitlines() if x.startswith("BENCH_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"load generator failed: {err.decode()[-1000:]}")
    report = json.loads(line[len("BENCH_JSON "):])
    seconds = report["duration_us"] / 1e6
    errors = sum(report[k] for k in ("errors_connect", "errors_read", "errors_write", "errors_status",
                                     "errors_timeout"))
    return {
        "rps": report["requests"] / seconds if seconds else 0.0, "requests": report["requests"], "errors": errors,
        "p50_ms": report["p50_us"] / 1000, "p95_ms": report["p95_us"] / 1000, "p99_ms": report["p99_us"] / 1000,
        "max_ms": report["max_us"] / 1000, "wall_s": wall,
    }


def _cpu_of_children() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured_load(url: str, **options: Any) -> dict[str, Any]:
    """Run :func:`load` and add the load generator's own CPU use (cores busy on average)."""
    before = _cpu_of_children()
    report = load(url, **options)
    report["loadgen_cpu_cores"] = (_cpu_of_children() - before) / report["wall_s"]
    return report


def ensure_wrk(allow_install: bool) -> bool:
    """Return True when wrk can be used; install it with apt-get when allowed and possible."""
    if shutil.which("wrk"):
        return True
    if allow_install and shutil.which("apt-get") and os.geteuid() == 0:
        print("installing wrk with apt-get …", file=sys.stderr)
        for command in (["apt-get", "install", "-y", "-qq", "wrk"], ["apt-get", "update", "-qq"],
                        ["apt-get", "install", "-y", "-qq", "wrk"]):
            if shutil.which("wrk"):
                break
            subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    return shutil.which("wrk") is not None


def run(*, folder: Path, duration: float, warmup: float, connections: int, passport_badges: int = 300,
        share_badges: int = 50, definitions: int = 30, workers: int | None = None, generator: str = "wrk",
        allow_install: bool = True) -> dict[str, Any]:
    """Seed an instance, serve it, load each endpoint; return the numbers.

    ``generator``: ``wrk`` (installed with apt-get when missing and allowed), ``python``
    (bench/loadgen.py) or ``auto`` (wrk when it is on PATH, else loadgen.py).
    """
    from badges.core.keywrap import new_kek

    if generator == "python":
        use_wrk = False
    elif generator == "auto":
        use_wrk = shutil.which("wrk") is not None
    else:
        use_wrk = ensure_wrk(allow_install)
        if not use_wrk:
            print("wrk is not available: using bench/loadgen.py (lower ceiling)", file=sys.stderr)
    port = free_port()
    kek = new_kek()
    instance = folder / "instance"
    url = f"sqlite:///{folder / 'serve.sqlite'}"
    app = common.make_app(url, instance, base_url=f"http://127.0.0.1:{port}", BADGES_KEK=kek)
    facts = seed(app, passport_badges=passport_badges, share_badges=share_badges, definitions=definitions)
    app.extensions["badges.engine"].dispose()
    body = folder / "verify.json"  # the API's request: {"credential": {...}}
    body.write_text(json.dumps({"credential": json.loads(facts["credential"])}, ensure_ascii=False), encoding="utf-8")
    env = {
        **os.environ, "BADGES_INSTANCE_PATH": str(instance), "BADGES_DATABASE_URL": url, "BADGES_KEK": kek,
        "BADGES_SECRET_KEY": common.SECRET_KEY, "BADGES_BASE_URL": f"http://127.0.0.1:{port}",
    }
    # The verify API is rate-limited per client address; all load comes from 127.0.0.1 here.
    (instance / "config.py").write_text("RATELIMIT_ENABLED = False\n", encoding="utf-8")
    workers = workers or os.cpu_count() or 1
    server = Server(env, port, workers, folder / "server.log")
    results: dict[str, Any] = {"http_workers": workers, "http_connections": connections,
                               "http_load_generator": "wrk" if use_wrk else "loadgen.py",
                               "passport_badges": facts["awards"], "share_badges": facts["shared"]}
    try:
        server.wait_ready()
        cookie = login(server.base, "maija@example.test", common.PASSWORD)
        results["verify_endpoint"] = VERIFY_PATH
        targets = {
            "verify": (VERIFY_PATH, {"method": "POST", "body": body, "headers": {"Content-Type": "application/json"}}),
            "share50": (f"/s/{facts['token']}", {"headers": {"User-Agent": USER_AGENT}}),
            "passport300": ("/passport", {"headers": {"Cookie": cookie, "User-Agent": USER_AGENT}}),
        }
        for name, (path, options) in targets.items():
            results[f"{name}_bytes"] = probe(server.base + path, **options)
            if warmup > 0:
                load(server.base + path, connections=connections, duration=warmup, use_wrk=use_wrk, **options)
            cpu_before = server.cpu_seconds()
            report = measured_load(server.base + path, connections=connections, duration=duration,
                                   use_wrk=use_wrk, **options)
            # CPU per request on the server side: steadier than latency on a shared machine.
            report["server_cpu_ms"] = (server.cpu_seconds() - cpu_before) * 1000 / max(1, report["requests"])
            for key, value in report.items():
                results[f"{name}_{key}"] = value
    finally:
        server.stop()
    return results
