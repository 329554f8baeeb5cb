"""The service's root, ``/``: where to go from here. A browser gets a page in the dashboard's
look; an API client (no ``text/html`` in Accept) gets the same links as JSON. Left out of the
OpenAPI document, like the dashboard: it is a signpost, not part of the API."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from obfbroker.dashboard.web import DashboardRoute, render

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

# (key in the JSON answer, path, what a person finds there), grouped as the page shows them.
LINKS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("For people", (
        ("dashboard", "/dashboard", "The dashboard: sign in with an API key to manage the Zoom "
                                    "app, connections, bots, token links, API keys and webhooks."),
    )),
    ("API reference", (
        ("docs", "/docs", "Every operation of the API, with a \"Try it out\" button (Swagger UI)."),
        ("redoc", "/redoc", "The same reference as one readable page (ReDoc)."),
        ("openapi", "/openapi.json", "The OpenAPI document both are built from."),
    )),
    ("Health", (
        ("healthz", "/healthz", "Liveness: the process answers."),
        ("readyz", "/readyz", "Readiness: the database answers."),
    )),
)


def wants_html(accept: str) -> bool:
    """Whether the Accept header names HTML (browsers do; curl and API clients send */*)."""
    return any(part.split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml")
               for part in accept.split(","))


@router.get("/")
async def root(request: Request) -> Response:
    base = request.scope.get("root_path", "").rstrip("/")
    app = request.app
    headers = {"Vary": "Accept"}
    if not wants_html(request.headers.get("accept", "")):
        links = {key: base + path for _, group in LINKS for key, path, _ in group}
        return JSONResponse({"name": app.title, "version": app.version, "links": links}, headers=headers)
    groups = [(title, [(base + path, description) for _, path, description in group])
              for title, group in LINKS]
    return render(request, "root.html", headers=headers, name=app.title, version=app.version,
                  groups=groups, api_prefix=base + "/api/v1")
