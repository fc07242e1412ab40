"""``badges hosts add|list|remove``: the allow-list the verifier fetches other issuers' documents from."""

import pytest
from click.testing import CliRunner

from badges import verifier
from badges.cli import main


@pytest.fixture
def run(app, session):
    """Return ``run(*args)``: the CLI inside the test app's context (its database, both kinds)."""

    def _run(*args: str):
        return CliRunner().invoke(main, list(args))

    return _run


def test_add_list_and_remove_hosts(run, session):
    assert "no trusted hosts" in run("hosts", "list").output
    added = run("hosts", "add", "Badges.Partner.Example", "--note", "Kumppanisäätiö")
    assert added.exit_code == 0 and "trusted: badges.partner.example" in added.output
    assert run("hosts", "add", "other.example:8443").exit_code == 0
    listing = run("hosts", "list").output
    assert "badges.partner.example" in listing and "Kumppanisäätiö" in listing and "other.example:8443" in listing
    assert run("hosts", "add", "https://badges.partner.example/").exit_code == 0  # the same host again
    assert run("hosts", "list").output.count("badges.partner.example") == 1
    removed = run("hosts", "remove", "badges.partner.example")
    assert removed.exit_code == 0 and "removed" in removed.output
    assert "badges.partner.example" not in run("hosts", "list").output
    assert [h.host for h in verifier.trusted_hosts(session)] == ["other.example:8443"]


def test_bad_host_names_are_refused_plainly(run):
    result = run("hosts", "add", "not a host name")
    assert result.exit_code != 0
    assert "not a host name" in result.output and "Traceback" not in result.output
    missing = run("hosts", "remove", "never.example")
    assert missing.exit_code != 0 and "not on the list" in missing.output
