"""verify_submission: where keys and lists come from, what is never fetched, OB 2.0, legacy contexts."""

import base64
import copy
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from helpers import FIXED_NOW
from verify_helpers import (
    DID_A,
    EMAIL,
    KEY_A,
    KEY_B,
    STATUS_ENTRY,
    STATUS_HOST,
    STATUS_INDEX,
    STATUS_URL,
    VM_A,
    WEB_DID,
    WEB_DID_URL,
    WEB_HOST,
    WEB_VM,
    FakeFetcher,
    baked_png,
    credential,
    did_document,
    jwt_of,
    legacy,
    sign,
    status_list,
    unsigned,
)

from badges import frameworks, ob2, services, verifier
from badges.core.contexts import OB_LEGACY, VC_V2
from badges.fetcher import FetchError


class NoFetching:
    """A fetcher that fails the test when used: for badges that must be checked offline."""

    def is_allowed(self, url: str) -> bool:
        raise AssertionError(f"the verifier asked about fetching {url}")

    def fetch_json(self, url: str):
        raise AssertionError(f"the verifier fetched {url}")


def outcomes(report) -> dict[str, tuple[str, str]]:
    return {c.name: (c.outcome, c.code) for c in report.checks}


# --- this installation's badges: from the database, never over HTTP -------------------------------


def test_our_badge_is_verified_from_the_database_without_fetching(verify, issued, site):
    award, organisation, _ = issued
    for inputs in ({"text": award.document}, {"url": site.credential_url(award.public_id)},
                   {"url": site.credential_url(award.public_id) + ".png"}):
        report = verify(**inputs, fetcher=NoFetching())
        assert report.verdict == verifier.VALID, outcomes(report)
        assert report.issuer.ours and report.issuer.slug == organisation.slug
        assert report.award_public_id == award.public_id
        assert outcomes(report)["status"] == ("passed", "")


def test_our_revoked_badge(verify, issued, session, site):
    award, _, _ = issued
    services.revoke_award(session, site, session.merge(award), reason="Virhe", now=FIXED_NOW)
    report = verify(text=award.document, fetcher=NoFetching())
    assert report.verdict == verifier.REVOKED and report.revoked and report.genuine
    assert report.to_json()["revoked"] is True


def test_a_signing_key_of_our_host_that_we_do_not_have(verify, issued):
    award, _, _ = issued
    document = json.loads(award.document)
    document["proof"]["verificationMethod"] = document["proof"]["verificationMethod"].split("#")[0] + "#z6MkUnknown"
    report = verify(text=json.dumps(document), fetcher=NoFetching())
    assert report.verdict == verifier.UNVERIFIABLE
    assert outcomes(report)["issuer_key"] == ("unknown", "key_not_found")


def test_alignments_are_explained_with_our_framework_data(verify, issued, session):
    award, _, _ = issued
    frameworks.import_demo(session, FIXED_NOW)
    report = verify(text=award.document, language="fi")
    alignment = report.achievement.alignments[0]
    assert alignment.code == "ammattitaitovaatimukset_414"
    assert alignment.requirement == "Opiskelija käyttää puuteollisuuden materiaaleja ja jatkojalosteita."
    assert alignment.unit and alignment.qualification
    assert alignment.url.startswith("https://eperusteet.opintopolku.fi/")
    assert verify(text=award.document, language="sv").achievement.alignments[0].requirement.startswith(
        "Den studerande använder")


# --- other issuers ---------------------------------------------------------------------------------


def test_did_key_badges_need_no_fetcher(verify):
    report = verify(text=json.dumps(credential()), fetcher=NoFetching())
    assert report.verdict == verifier.VALID
    assert report.issuer.id == DID_A and not report.issuer.ours
    assert report.achievement.name == "Trukin turvallinen käyttö"


def test_did_web_of_an_allowed_host_is_fetched(verify):
    fetcher = FakeFetcher({WEB_DID_URL: did_document(WEB_DID, KEY_B)}, {WEB_HOST})
    report = verify(text=json.dumps(sign(unsigned(issuer=WEB_DID), KEY_B, WEB_VM)), fetcher=fetcher)
    assert report.verdict == verifier.VALID
    assert fetcher.requested == [WEB_DID_URL]


def test_did_web_of_a_host_not_on_the_list_could_not_be_checked(verify):
    fetcher = FakeFetcher({WEB_DID_URL: did_document(WEB_DID, KEY_B)}, allowed=())
    report = verify(text=json.dumps(sign(unsigned(issuer=WEB_DID), KEY_B, WEB_VM)), fetcher=fetcher)
    assert report.verdict == verifier.UNVERIFIABLE and not report.verified
    check = next(c for c in report.checks if c.name == "issuer_key")
    assert (check.outcome, check.code, check.params["host"]) == ("unknown", "host_not_trusted", WEB_HOST)
    assert fetcher.requested == []


def test_the_default_fetcher_uses_the_allow_list(verify, session):
    document = json.dumps(sign(unsigned(issuer=WEB_DID), KEY_B, WEB_VM))
    assert outcomes(verify(text=document))["issuer_key"] == ("unknown", "host_not_trusted")
    verifier.add_trusted_host(session, WEB_HOST, now=FIXED_NOW)
    fetcher = verifier.default_fetcher(session)
    assert fetcher.is_allowed(WEB_DID_URL) and not fetcher.is_allowed("https://other.example/x")


def test_an_allowed_host_that_fails_is_named(verify):
    report = verify(text=json.dumps(sign(unsigned(issuer=WEB_DID), KEY_B, WEB_VM)), fetcher=FakeFetcher({}, {WEB_HOST}))
    check = next(c for c in report.checks if c.name == "issuer_key")
    assert (check.code, check.params["reason"]) == ("fetch_failed", "http_status")
    assert report.verdict == verifier.UNVERIFIABLE


def test_a_key_missing_from_the_issuers_document(verify):
    fetcher = FakeFetcher({WEB_DID_URL: did_document(WEB_DID, KEY_B, fragment="key-2")}, {WEB_HOST})
    report = verify(text=json.dumps(sign(unsigned(issuer=WEB_DID), KEY_B, WEB_VM)), fetcher=fetcher)
    assert outcomes(report)["issuer_key"] == ("unknown", "key_not_in_document")


def test_other_did_methods_are_not_looked_up(verify):
    report = verify(text=json.dumps(sign(unsigned(issuer="did:ion:abc"), KEY_B, "did:ion:abc#key-1")),
                    fetcher=NoFetching())
    assert outcomes(report)["issuer_key"] == ("unknown", "unsupported_did_method")


def test_status_lists_of_other_issuers_come_from_allowed_hosts_only(verify):
    document = json.dumps(credential(status=STATUS_ENTRY))
    revoked = {STATUS_URL: status_list(DID_A, KEY_A, VM_A, revoked=(STATUS_INDEX,))}
    assert verify(text=document, fetcher=FakeFetcher(revoked, {STATUS_HOST})).verdict == verifier.REVOKED
    report = verify(text=document, fetcher=FakeFetcher(revoked, ()))
    assert report.verdict == verifier.UNVERIFIABLE and report.genuine
    assert outcomes(report)["status"] == ("unknown", "host_not_trusted")


def test_vc_jwt_of_another_issuer(verify):
    assert verify(text=jwt_of(unsigned())).kind == verifier.KIND_OB3_JWT
    assert verify(text=jwt_of(unsigned())).verdict == verifier.VALID
    forged = jwt_of(unsigned(), KEY_B)  # B signs, claiming A's key
    assert verify(text=forged).verdict == verifier.INVALID
    assert verify(data=baked_png(jwt_of(unsigned()))).verdict == verifier.VALID


def test_identity_is_matched_against_the_hash(verify):
    document = json.dumps(credential())
    assert verify(text=document, identity=EMAIL.lower()).recipient_match is True
    report = verify(text=document, identity="someone@example.fi")
    assert report.verdict == verifier.RECIPIENT_MISMATCH and report.genuine and not report.verified
    assert report.to_json()["recipient"] == {"checked": True, "match": False}
    assert verify(text=document).to_json()["recipient"] == {"checked": False, "match": None}


# --- legacy contexts --------------------------------------------------------------------------------


@pytest.mark.parametrize("context", OB_LEGACY)
def test_vc_1_1_era_badges_with_older_ob_contexts_are_read(verify, context):
    report = verify(text=json.dumps(sign(legacy(context))))
    assert report.verdict == verifier.VALID, outcomes(report)
    assert report.issued is not None


def test_a_context_not_available_offline_is_said_plainly(verify):
    document = sign(unsigned())
    document["@context"] = [VC_V2, "https://w3id.org/security/suites/ed25519-2020/v1", *document["@context"][1:]]
    document["proof"]["type"] = "Ed25519Signature2020"
    report = verify(text=json.dumps(document), fetcher=NoFetching())
    assert report.verdict == verifier.UNVERIFIABLE
    contexts = next(c for c in report.checks if c.name == "contexts")
    assert contexts.code == "unknown_context"
    assert "not available offline" in contexts.message and "ed25519-2020" in contexts.message


# --- Open Badges 2.0 ---------------------------------------------------------------------------------


def test_our_ob2_export_is_recognised_and_checked_from_the_database(verify, issued, site):
    award, _, _ = issued
    assertion = ob2.assertion_document(site, award)
    for inputs in ({"text": json.dumps(assertion)}, {"data": ob2.baked_png(site, award)}):
        report = verify(**inputs, identity="maija@example.test", fetcher=NoFetching())
        assert report.kind == verifier.KIND_OB2
        assert report.verdict == verifier.VALID, outcomes(report)
        assert outcomes(report)["hosted"] == ("passed", "ob2_hosted_own")
        assert report.achievement.name == "Puumateriaalien tunnistaminen"
        assert report.recipient_match is True


def test_a_tampered_ob2_assertion_of_ours(verify, issued, site):
    award, _, _ = issued
    assertion = ob2.assertion_document(site, award)
    assertion["issuedOn"] = "2020-01-01T00:00:00Z"
    report = verify(text=json.dumps(assertion), fetcher=NoFetching())
    assert report.verdict == verifier.INVALID
    assert outcomes(report)["hosted"] == ("failed", "ob2_mismatch")
    missing = {**assertion, "id": site.url("/ob2/assertions/" + "0" * 32)}
    assert verify(text=json.dumps(missing)).verdict == verifier.INVALID


def test_a_revoked_ob2_badge_of_ours(verify, issued, session, site):
    award, _, _ = issued
    assertion = ob2.assertion_document(site, award)
    services.revoke_award(session, site, session.merge(award), reason="Virhe", now=FIXED_NOW)
    assert verify(text=json.dumps(assertion)).verdict == verifier.REVOKED


FOREIGN_OB2 = "https://ob2.partner.example"


def _foreign_assertion(**changes) -> dict:
    assertion = {
        "@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": f"{FOREIGN_OB2}/assertions/1",
        "recipient": {"type": "email", "hashed": False, "identity": "aino@example.fi"},
        "badge": {"id": f"{FOREIGN_OB2}/badges/1", "type": "BadgeClass", "name": "Asiakaspalvelu",
                  "description": "Osaa palvella asiakasta.", "criteria": {"narrative": "Osaa tervehtiä."},
                  "issuer": {"id": f"{FOREIGN_OB2}/issuer", "type": "Profile", "name": "Vanha säätiö"}},
        "issuedOn": "2019-05-01T10:00:00Z", "verification": {"type": "hosted"},
    }
    assertion.update(changes)
    return assertion


def test_another_issuers_hosted_ob2_badge(verify):
    assertion = _foreign_assertion()
    allowed = FakeFetcher({assertion["id"]: assertion}, {"ob2.partner.example"})
    report = verify(text=json.dumps(assertion), identity="aino@example.fi", fetcher=allowed)
    assert (report.kind, report.verdict) == (verifier.KIND_OB2, verifier.VALID)
    assert report.issuer.name == "Vanha säätiö" and report.achievement.criteria == "Osaa tervehtiä."
    not_allowed = verify(text=json.dumps(assertion), fetcher=FakeFetcher({}, ()))
    assert not_allowed.verdict == verifier.UNVERIFIABLE
    assert outcomes(not_allowed)["hosted"] == ("unknown", "host_not_trusted")
    changed = verify(text=json.dumps(_foreign_assertion(issuedOn="2018-01-01T00:00:00Z")), fetcher=allowed)
    assert changed.verdict == verifier.INVALID
    revoked = FakeFetcher({assertion["id"]: {**assertion, "revoked": True}}, {"ob2.partner.example"})
    assert verify(text=json.dumps(assertion), fetcher=revoked).verdict == verifier.REVOKED
    gone = FakeFetcher({}, {"ob2.partner.example"})
    gone.fetch_json = lambda url: (_ for _ in ()).throw(FetchError("http_status", "gone", status=410))
    assert verify(text=json.dumps(assertion), fetcher=gone).verdict == verifier.REVOKED


def test_an_ob2_badge_that_holds_only_its_address(verify, issued, site):
    award, _, _ = issued
    png = baked_png(ob2.assertion_url(site, award.public_id), keyword="openbadges")
    report = verify(data=png, fetcher=NoFetching())
    assert (report.kind, report.verdict) == (verifier.KIND_OB2, verifier.VALID)


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jws(payload: dict, key) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "RS256"}).encode()) + "." + b64(json.dumps(payload).encode())
    return head + "." + b64(key.sign(head.encode(), padding.PKCS1v15(), hashes.SHA256()))


def test_a_signed_ob2_badge_checked_with_a_key_from_an_allowed_host(verify, rsa_key):
    creator = f"{FOREIGN_OB2}/keys/1"
    assertion = _foreign_assertion(verification={"type": "signed", "creator": creator})
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    fetcher = FakeFetcher({creator: {"id": creator, "type": "CryptographicKey", "publicKeyPem": pem}},
                          {"ob2.partner.example"})
    report = verify(data=baked_png(_jws(assertion, rsa_key), keyword="openbadges"), fetcher=fetcher)
    assert report.kind == verifier.KIND_OB2 and report.genuine
    assert outcomes(report)["signature"] == ("passed", "ob2_signed")
    # OB 2.0 revocation lists are not read: said plainly, so not "valid"
    assert outcomes(report)["status"] == ("unknown", "ob2_status_not_checked")
    assert report.verdict == verifier.UNVERIFIABLE
    head, payload, signature = _jws(assertion, rsa_key).split(".")
    forged_payload = base64.urlsafe_b64encode(json.dumps({**assertion, "issuedOn": "2010-01-01T00:00:00Z"}).encode())
    forged = f"{head}.{forged_payload.rstrip(b'=').decode()}.{signature}"
    assert verify(data=baked_png(forged, keyword="openbadges"), fetcher=fetcher).verdict == verifier.INVALID
    elsewhere = verify(data=baked_png(_jws(assertion, rsa_key), keyword="openbadges"), fetcher=FakeFetcher({}, ()))
    assert outcomes(elsewhere)["signature"] == ("unknown", "host_not_trusted")


# --- the allow-list ---------------------------------------------------------------------------------


def test_trusted_hosts_are_normalised_and_unique(session):
    verifier.add_trusted_host(session, "Badges.Partner.Example", now=FIXED_NOW, note="Kumppani")
    verifier.add_trusted_host(session, "https://badges.partner.example/", now=FIXED_NOW)
    assert [(h.host, h.note) for h in verifier.trusted_hosts(session)] == [("badges.partner.example", "Kumppani")]
    with pytest.raises(services.InvalidInputError):
        verifier.add_trusted_host(session, "not a host", now=FIXED_NOW)
    assert verifier.remove_trusted_host(session, "BADGES.partner.example")
    assert not verifier.remove_trusted_host(session, "badges.partner.example")
    assert verifier.trusted_hosts(session) == []


def test_a_naive_clock_is_a_programming_error(session, site):
    with pytest.raises(ValueError):
        verifier.verify_submission(session, site, text="{}", now=FIXED_NOW.replace(tzinfo=None))


def test_reports_are_values_that_copy(verify):
    report = verify(text=json.dumps(credential()))
    assert copy.deepcopy(report.to_json()) == report.to_json()
