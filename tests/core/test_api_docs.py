"""docs/api.md documents exactly the endpoints the app serves, and only error codes it has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
API_DOC = ROOT / "docs" / "api.md"
SOURCE = ROOT / "src" / "obfbroker"

# Documented under "Not in the OpenAPI document": served, but include_in_schema=False.
NOT_IN_SCHEMA = {("GET", "/metrics")}

HEADING = re.compile(r"^### `([A-Z]+) (/\S*)`\s*$", re.MULTILINE)
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def documented_endpoints(text: str) -> list[tuple[str, str]]:
    return HEADING.findall(text)


def table_codes(text: str) -> set[str]:
    """Every `code` in the "Code" column of the doc's markdown tables."""
    codes: set[str] = set()
    column: int | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            column = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if column is None:
            column = cells.index("Code") if "Code" in cells else -1
            continue
        if column < 0 or column >= len(cells) or set(cells[column]) <= set("-: "):
            continue
        codes.update(re.findall(r"`([a-z][a-z0-9_]*)`", cells[column]))
    return codes


def source_text() -> str:
    return "\n".join(path.read_text() for path in sorted(SOURCE.rglob("*.py")))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_served_endpoint_is_documented_and_nothing_else(stack: Stack):
    text = API_DOC.read_text()
    headings = documented_endpoints(text)
    assert len(headings) == len(set(headings)), "an endpoint is documented twice"
    documented = set(headings)

    with stack.client() as client:
        spec = client.get("/openapi.json").json()
        in_schema = {(method.upper(), path) for path, operations in spec["paths"].items()
                     for method in operations if method in HTTP_METHODS}

        assert documented - NOT_IN_SCHEMA == in_schema
        assert documented >= NOT_IN_SCHEMA, "allowlisted route is not documented"
        assert not NOT_IN_SCHEMA & in_schema, "allowlisted route is in the OpenAPI document now"
        for method, path in NOT_IN_SCHEMA:
            assert client.request(method, path).status_code == 200, f"{method} {path} is not served"


def test_error_codes_in_the_docs_exist_in_the_code():
    codes = table_codes(API_DOC.read_text())
    assert {"missing_api_key", "invalid_api_key", "invalid_request", "zoom_user_not_connected"} <= codes
    source = source_text()
    unknown = sorted(code for code in codes if f'"{code}"' not in source)
    assert not unknown, f"docs/api.md names error codes src/obfbroker never produces: {unknown}"


def test_table_code_parsing_reads_only_the_code_column():
    sample = "\n".join([
        "| Status | Code | When | Message |",
        "| --- | --- | --- | --- |",
        "| 400 | `invalid_cursor` | `cursor` is bad | `cursor is not valid` |",
        "",
        "| Field | Type |",
        "| --- | --- |",
        "| `zoom_user_id` | string |",
    ])
    assert table_codes(sample) == {"invalid_cursor"}
