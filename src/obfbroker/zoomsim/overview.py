"""The simulator's root, ``/``: what this server is and what it holds right now (users, apps,
meetings and who is in each), with links to the control API and its docs. A browser gets a page;
an API client (no ``text/html`` in Accept) gets the same as JSON. Secrets never appear in either."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from obfbroker.zoomsim.oauth import templates
from obfbroker.zoomsim.state import SimState

router = APIRouter(include_in_schema=False)

# (path, what it answers): the control API's reads, and the docs.
CONTROL_LINKS = (
    ("/_sim/users", "every user"),
    ("/_sim/apps", "every app (secrets are never shown)"),
    ("/_sim/meetings", "every meeting, with its participants and bots"),
    ("/_sim/faults", "fault injection settings"),
    ("/_sim/clock", "simulated time"),
    ("/_sim/stats", "counters of what clients did"),
    ("/_sim/healthz", "liveness"),
)
DOCS_LINKS = (
    ("/_sim/docs", "every route, as Swagger UI (works offline)"),
    ("/_sim/redoc", "the same document, as ReDoc"),
    ("/_sim/openapi.json", "the OpenAPI document of the simulator"),
)
# The page shows live state and names no script, style file or form target of its own.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Vary": "Accept",
}


def wants_html(accept: str) -> bool:
    """Whether the Accept header names HTML (browsers do; curl and API clients send */*)."""
    return any(part.split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml")
               for part in accept.split(","))


def snapshot(sim: SimState) -> dict:
    """Users, apps (public fields only) and meetings (the control API's views), taken at once."""
    with sim.lock:
        return {
            "users": [user.public() for user in sim.list_users()],
            "apps": [app.public() for app in sim.list_apps()],
            "meetings": [sim.meeting_view(meeting) for meeting in sim.list_meetings()],
        }


@router.get("/")
async def overview(request: Request) -> Response:
    state = snapshot(request.app.state.sim)
    if not wants_html(request.headers.get("accept", "")):
        links = {"control": [path for path, _ in CONTROL_LINKS], "docs": [path for path, _ in DOCS_LINKS]}
        return JSONResponse({"name": request.app.title, **state, "links": links}, headers=HEADERS)
    names = {user["id"]: user["display_name"] for user in state["users"]}
    return templates.TemplateResponse(request, "overview.html", {
        **state, "names": names, "control_links": CONTROL_LINKS, "docs_links": DOCS_LINKS,
    }, headers=HEADERS)
