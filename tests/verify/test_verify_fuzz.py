"""Any input gives a report: random bytes, random text, and credentials with random parts replaced.

A quick property check here; the security tests add their own.
"""

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from verify_helpers import STATUS_ENTRY, baked_png, credential

from badges import verifier

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
BASE = credential(status=STATUS_ENTRY)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
    | st.sampled_from(["did:web:passi.example.test:issuers:verstas#k", "https://passi.example.test/status/x",
                       "did:key:z6Mk", "\x00", "https://badges.partner.example/a", "2099-01-01T00:00:00Z"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=8,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


PATHS = [p for p in _paths(BASE) if p]


def _replace(document, path, value):
    copy_ = copy.deepcopy(document)
    node = copy_
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy_


def _check(report: verifier.VerificationReport) -> None:
    assert report.verdict in verifier.VERDICTS
    json.dumps(report.to_json())  # serialisable, whatever went in


@FUZZ
@given(data=st.binary(max_size=3000))
def test_random_bytes(verify, data):
    _check(verify(data=data))


@FUZZ
@given(text=st.text(max_size=500), identity=st.none() | st.text(max_size=50))
def test_random_text(verify, text, identity):
    _check(verify(text=text, identity=identity))


@FUZZ
@given(path=st.sampled_from(PATHS), value=json_values, baked=st.booleans())
def test_credentials_with_a_part_replaced(verify, path, value, baked):
    document = _replace(BASE, path, value)
    report = verify(data=baked_png(document)) if baked else verify(text=json.dumps(document))
    _check(report)
