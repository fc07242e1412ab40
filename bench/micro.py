"""Per-credential costs on one core: sign, verify, raw Ed25519, baking; the JS reference beside them.

The credential is made by ``services.issue_award`` (issuer Profile, Achievement with criteria,
image and two ePerusteet alignments, hashed e-mail identity, a coach's note and a photo as
evidence, a BitstringStatusListEntry), then re-signed with a benchmark key whose seed the
JavaScript signer gets too, so both stacks sign byte-for-byte the same credential with the
same key and ``created`` time and must produce the same proofValue.
"""

import json
import secrets
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

from common import (
    NOW,
    REPO_ROOT,
    make_app,
    make_badges,
    make_clients,
    median,
    organisation_with_staff,
    percentile,
    site_of,
    time_calls,
)

JS_SIGNER = Path(__file__).resolve().parent / "js_sign.mjs"
INTEROP_MODULES = REPO_ROOT / "tests" / "interop" / "node_modules" / "@digitalbazaar" / "vc"


def js_unavailable() -> str | None:
    """Return why the JavaScript reference cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not INTEROP_MODULES.is_dir():
        return "tests/interop/node_modules is missing (run `make test` once)"
    return None


def _world(folder: Path) -> dict[str, Any]:
    """Issue one realistic award and return what the measurements need."""
    from badges import services
    from badges.core.credential import Evidence
    from badges.db import get_session
    from badges.models import new_public_id

    app = make_app(f"sqlite:///{folder / 'micro.sqlite'}", folder / "instance")
    with app.app_context():
        session = get_session()
        site = site_of(app)
        organisation, coach = organisation_with_staff(session, site)
        badge = make_badges(session, organisation, 1)[0]
        client = make_clients(session, organisation, 1)[0]
        photo_url = site.url(f"/evidence/{new_public_id()}")  # as awarding.award_one writes a photo
        award = services.issue_award(
            session, site, version=badge.current, recipient=client, issued_by=coach, now=NOW,
            evidence_note="Tunnisti viisi puulajia ja kertoi niiden käytöstä huonekaluissa.",
            evidence=[Evidence(id=photo_url, name="Valokuva")],
        )
        session.commit()
        signed = json.loads(award.document)
        status = json.loads(award.status_list.document)
        did = services.did_document(site, organisation)
        png = badge.current.image_png
    app.extensions["badges.engine"].dispose()
    return {"signed": signed, "status": status, "did": did, "png": png}


def _variant(unsigned: dict[str, Any], number: int) -> dict[str, Any]:
    """Return the credential with a new id, identity hash and photo id (what differs per award)."""
    from badges.core.credential import hash_identity
    from badges.models import new_public_id

    document = json.loads(json.dumps(unsigned))
    base = document["id"].rsplit("/", 1)[0]
    document["id"] = f"{base}/{new_public_id()}"
    identity = hash_identity("emailAddress", f"asiakas{number}@example.test", secrets.token_hex(8)).to_json()
    document["credentialSubject"]["identifier"] = [identity]
    for item in document.get("evidence", []):
        if "id" in item:
            item["id"] = item["id"].rsplit("/", 1)[0] + "/" + new_public_id()
    return document


class JsReference:
    """bench/js_sign.mjs as a child process that measures rounds on request."""

    def __init__(self, request: Path) -> None:
        node = shutil.which("node") or "node"
        self.process = subprocess.Popen(  # noqa: S603 - our own script
            [node, str(JS_SIGNER), str(request)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def run(self, what: str, iterations: int) -> dict[str, Any]:
        """Time ``iterations`` sign or verify calls in Node; return {"times": [...], ...}."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"what": what, "iterations": iterations}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"js_sign.mjs stopped (exit {self.process.wait()})")
        return json.loads(line)

    def close(self) -> None:
        """End the Node process."""
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def run(iterations: int, js_iterations: int, folder: Path, *, rounds: int = 10) -> dict[str, Any]:
    """Measure and return the per-credential numbers (ms unless the key says otherwise).

    Python and the JS reference take turns, ``rounds`` rounds each, so that both meet the
    same machine; the speed-ups are the medians of the per-round ratios.
    """
    from badges.core.baking import bake_png
    from badges.core.contexts import static_loader
    from badges.core.keys import multibase_encode, private_key_from_seed, public_key_multibase
    from badges.core.signing import create_proof, verify_proof
    from badges.core.verification import did_web_document_url, resolver_from_documents, verify_credential

    world = _world(folder)
    loader = static_loader()
    signed = world["signed"]
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    seed = secrets.token_bytes(32)
    key = private_key_from_seed(seed)
    public = key.public_key()
    did = unsigned["issuer"]["id"]
    method = f"{did}#{public_key_multibase(key.public_key())}"
    # The whole verification a verifier runs: structure, contexts, issuer key from the DID
    # document, the proof, the signed status list (its own proof and the bit) and the dates.
    documents = {did_web_document_url(did): world["did"], world["status"]["id"]: world["status"]}
    resolve_key = resolver_from_documents(documents)
    later = NOW + timedelta(days=1)

    def verify_all() -> Any:
        return verify_credential(signed, loader=loader, resolve_key=resolve_key, now=later,
                                 resolve_status=documents.get)

    assert verify_all().verified
    ours = create_proof(unsigned, key, verification_method=method, created=NOW, loader=loader)
    results: dict[str, Any] = {
        "general_path_same_proof_value":
            multibase_encode(_sign_general(unsigned, key, method, loader)) == ours["proof"]["proofValue"],
    }
    per_round = max(1, iterations // rounds)
    variants = iter([_variant(unsigned, n) for n in range(2 * (per_round * rounds + 10))])
    seconds = iter(range(1, 10**9))

    def sign() -> Any:
        return create_proof(next(variants), key, verification_method=method, created=NOW, loader=loader)

    def sign_fresh() -> Any:  # a new proof time each: no reuse of the proof configuration's hash
        return create_proof(next(variants), key, verification_method=method,
                            created=NOW + timedelta(seconds=next(seconds)), loader=loader)

    def verify_own_proof() -> Any:
        return verify_proof(ours, public, loader=loader)

    times: dict[str, list[float]] = {"sign": [], "sign_fresh": [], "verify": [], "verify_proof": [],
                                     "js_sign": [], "js_verify": []}
    ratios: dict[str, list[float]] = {"sign": [], "verify_proof": []}
    reason = js_unavailable() or (None if js_iterations > 0 else "not asked for")
    js = None
    if reason is None:
        request = folder / "js_input.json"
        request.write_text(json.dumps({
            "credential": unsigned, "seed": seed.hex(), "verificationMethod": method,
            "created": "2026-03-02T09:30:00Z", "verify": {"credential": signed, "documents": documents},
        }), encoding="utf-8")
        js = JsReference(request)
    try:
        for action in (sign, sign_fresh, verify_all, verify_own_proof):
            time_calls(action, 0, warmup=10)
        js_round = max(1, js_iterations // rounds)
        if js is not None:
            js.run("sign", min(20, js_round * 2))
            js.run("verify", min(20, js_round * 2))
        for _ in range(rounds):
            for name, action in (("sign", sign), ("sign_fresh", sign_fresh), ("verify", verify_all),
                                 ("verify_proof", verify_own_proof)):
                times[name].extend(time_calls(action, per_round, warmup=0))
            if js is not None:
                signed_js = js.run("sign", js_round)
                results["js_same_proof_value"] = signed_js["proofValue"] == ours["proof"]["proofValue"]
                verified_js = js.run("verify", js_round)
                times["js_sign"].extend(signed_js["times"])
                times["js_verify"].extend(verified_js["times"])
                ratios["sign"].append(median(signed_js["times"]) / median(times["sign"][-per_round:]))
                ratios["verify_proof"].append(
                    median(verified_js["times"]) / median(times["verify_proof"][-per_round:]))
    finally:
        if js is not None:
            js.close()

    general_times = time_calls(lambda: _sign_general(unsigned, key, method, loader), max(5, iterations // 10), warmup=2)
    messages = iter([secrets.token_bytes(64) for _ in range(iterations * 5 + 50)])  # two SHA-256 digests
    ed_times = time_calls(lambda: key.sign(next(messages)), iterations * 5, warmup=50)
    text = json.dumps(signed, separators=(",", ":"))
    bake_times = time_calls(lambda: bake_png(world["png"], text), iterations, warmup=10)
    results.update(
        sign_ms=median(times["sign"]), sign_p90_ms=percentile(times["sign"], 90),
        sign_fresh_created_ms=median(times["sign_fresh"]), sign_general_path_ms=median(general_times),
        ed25519_sign_ms=median(ed_times), sign_iterations=len(times["sign"]),
        verify_ms=median(times["verify"]), verify_p90_ms=percentile(times["verify"], 90),
        verify_proof_ms=median(times["verify_proof"]), bake_png_us=median(bake_times) * 1000, rounds=rounds,
    )
    if js is None:
        results.update(js_reference_sign_ms=None, js_skipped=reason)
        return results
    results.update(
        js_reference_sign_ms=median(times["js_sign"]), js_reference_verify_ms=median(times["js_verify"]),
        js_iterations=len(times["js_sign"]), sign_speedup_vs_js=median(ratios["sign"]),
        verify_proof_speedup_vs_js=median(ratios["verify_proof"]),
    )
    return results


def _sign_general(unsigned, key, method, loader) -> bytes:  # noqa: ANN001 - core values
    """Sign through pyld alone (the reference path the fast path must equal); return the signature."""
    import hashlib

    from badges.core.canonical import canonicalize
    from badges.core.dates import xsd_datetime
    from badges.core.signing import proof_configuration

    config = proof_configuration(unsigned, verification_method=method, created=xsd_datetime(NOW),
                                 purpose="assertionMethod")
    data = (hashlib.sha256(canonicalize(config, loader, fast=False).encode()).digest()
            + hashlib.sha256(canonicalize(unsigned, loader, fast=False).encode()).digest())
    return key.sign(data)
