"""OpenAPI schema and docs of the API: generated without warnings, listing every orgs endpoint."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from conftest import World

ORGS_PATHS = [
    "/api/v1/organizations/",
    "/api/v1/organizations/{id}/",
    "/api/v1/zones/",
    "/api/v1/zones/{id}/",
    "/api/v1/enterprises/",
    "/api/v1/enterprises/{id}/",
    "/api/v1/memberships/",
    "/api/v1/memberships/{id}/",
    "/api/v1/people/",
    "/api/v1/people/{id}/",
]


def test_schema_lists_every_orgs_path_with_its_methods(world: World) -> None:
    client = APIClient()
    client.force_login(world.staff)

    response = client.get("/api/v1/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(ORGS_PATHS) <= set(paths)
    methods = {path: sorted(paths[path]) for path in ORGS_PATHS}
    assert methods["/api/v1/enterprises/"] == ["get", "post"]
    assert methods["/api/v1/enterprises/{id}/"] == ["get", "patch"]
    assert methods["/api/v1/memberships/"] == ["get", "post"]
    assert methods["/api/v1/memberships/{id}/"] == ["get", "patch"]
    for read_only in ["organizations", "zones", "people"]:
        assert methods[f"/api/v1/{read_only}/"] == ["get"]
        assert methods[f"/api/v1/{read_only}/{{id}}/"] == ["get"]


def test_schema_documents_the_directory_filters_of_the_enterprise_list(world: World) -> None:
    client = APIClient()
    client.force_login(world.staff)

    schema = client.get("/api/v1/schema/", {"format": "json"}).json()

    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/enterprises/"]["get"]["parameters"]}
    assert sorted(parameters) == [
        "industry", "level", "organization", "page", "page_size", "q", "region", "search", "size", "status",
    ]  # fmt: skip
    assert parameters["size"]["enum"] == ["large", "medium", "micro", "small"]
    assert parameters["organization"]["type"] == "integer"
    id_parameter = schema["paths"]["/api/v1/enterprises/{id}/"]["get"]["parameters"][0]
    assert (id_parameter["name"], id_parameter["schema"]["type"]) == ("id", "integer")


def test_schema_generates_without_warnings(db: Any, tmp_path: Any) -> None:
    out = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=io.StringIO())

    assert "/api/v1/enterprises/{id}/:" in out.read_text()


def test_docs_page_answers_for_a_logged_in_user(world: World) -> None:
    client = APIClient()
    client.force_login(world.secretary)

    assert client.get("/api/v1/docs/").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/schema/", "/api/v1/docs/"])
def test_schema_and_docs_stay_reachable_for_a_logged_in_user_with_no_role(world: World, path: str) -> None:
    client = APIClient()
    client.force_login(world.outsider)

    assert client.get(path).status_code == 200
