"""Helpers of the API tests: a test client that checks every answer against the OpenAPI document."""

import re
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from badges import api_spec

BASE = api_spec.BASE_PATH


class Contract:
    """Validate responses against the response schemas of an OpenAPI document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.registry = Registry().with_resource("urn:test:api", Resource.from_contents(document, DRAFT202012))
        self.routes = [
            (re.compile("^" + re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(template)) + "$"), template)
            for template in document["paths"]
        ]
        self.checked: list[tuple[str, str, int]] = []

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """Return (template, operation) for a concrete path under /api/v1, or None."""
        relative = path.split("?", 1)[0][len(BASE):]
        # Literal paths first (/awards/bulk is not /awards/{award_id}).
        for pattern, template in sorted(self.routes, key=lambda r: r[1].count("{")):
            if pattern.match(relative) and method.lower() in self.document["paths"][template]:
                return template, self.document["paths"][template][method.lower()]
        return None

    def schema_errors(self, schema: dict[str, Any], body: Any) -> list[str]:
        """Return the ways ``body`` breaks ``schema`` (refs resolved against the document)."""
        wrapper = {"$ref": "urn:test:api#/components/schemas/" + schema["$ref"].rsplit("/", 1)[-1]} \
            if "$ref" in schema else schema
        validator = Draft202012Validator(wrapper, registry=self.registry,
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(body)]

    def check(self, method: str, path: str, response: Any) -> None:
        """Assert that ``response`` is documented for the operation and matches its schema."""
        assert response.mimetype == "application/json", (method, path, response.status_code, response.mimetype)
        body = response.get_json()
        found = self.operation(method, path)
        if found is None:
            # Unknown paths and methods answer with the documented error body.
            assert response.status_code in (404, 405), (method, path, response.status_code)
            schema = {"$ref": "#/components/schemas/Error"}
            template = "(unknown)"
        else:
            template, operation = found
            documented = operation["responses"].get(str(response.status_code))
            assert documented is not None, f"{method} {template}: status {response.status_code} is not documented"
            schema = documented.get("content", {}).get("application/json", {}).get("schema")
            assert schema is not None, f"{method} {template} {response.status_code}: no schema"
        errors = self.schema_errors(schema, body)
        assert not errors, f"{method} {path} {response.status_code}: {errors[:3]}\n{body}"
        if response.status_code >= 400 and template != "/verify":  # the verifier documents its own codes
            assert body["code"] in self.document["x-error-codes"], f"undocumented error code {body['code']}"
        self.checked.append((method.upper(), template, response.status_code))


class ApiClient:
    """A Flask test client for /api/v1 that sends a token and checks every answer against the contract."""

    def __init__(self, client: Any, contract: Contract, token: str | None = None) -> None:
        self.client = client
        self.contract = contract
        self.token = token

    def as_(self, token: str | None) -> "ApiClient":
        """Return a client that sends ``token`` (None: no Authorization header)."""
        return ApiClient(self.client, self.contract, token)

    def request(self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None,
                query: dict[str, Any] | None = None, data: Any = None, content_type: str | None = None) -> Any:
        """Send a request to ``/api/v1`` + ``path``; check the answer; return it."""
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        sent.setdefault("Accept-Language", "en")
        full = path if path.startswith(BASE) else BASE + path
        kwargs: dict[str, Any] = {"headers": sent, "query_string": query}
        if json is not None:
            kwargs["json"] = json
        if data is not None:
            kwargs["data"] = data
        if content_type is not None:
            kwargs["content_type"] = content_type
        response = self.client.open(full, method=method, **kwargs)
        self.contract.check(method, full, response)
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        """GET."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        """POST."""
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        """DELETE."""
        return self.request("DELETE", path, **kwargs)

