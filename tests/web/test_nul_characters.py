"""A NUL character anywhere in a request is refused plainly (PostgreSQL cannot store or compare one)."""

import pytest


@pytest.mark.parametrize("path", [
    "/credentials/%00", "/credentials/abc%00def.json", "/achievements/%00", "/status/%00",
    "/issuers/x%00/did.json", "/s/%00", "/ob2/assertions/%00", "/endorsements/%00",
])
def test_nul_in_the_address_is_a_client_error(client, path):
    response = client.get(path)
    assert response.status_code in (400, 404)


def test_nul_in_a_query_or_form_is_a_client_error(client):
    assert client.get("/verify?url=%00").status_code == 400
    assert client.post("/login", data={"email": "a\x00@example.test", "password": "x"}).status_code == 400


def test_a_public_id_with_nul_is_simply_not_found(app, session):
    from badges import services
    from badges.models import Award

    with pytest.raises(services.NotFoundError):
        services.get_by_public_id(session, Award, "abc\x00")
