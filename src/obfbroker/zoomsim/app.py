"""The Zoom simulator's ASGI app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from obfbroker.api_docs import docs_router
from obfbroker.zoomsim import api, control, oauth, overview
from obfbroker.zoomsim.faults import FaultInjectionMiddleware
from obfbroker.zoomsim.models import (
    ApiError,
    AuthorizeError,
    BotJoinError,
    ControlError,
    OAuthError,
)
from obfbroker.zoomsim.seed import seed_demo
from obfbroker.zoomsim.state import SimState
from obfbroker.zoomsim.webhooks import Delivery, WebhookSender

SEEDS = {"demo": seed_demo}


def create_app(seed: str | None = None) -> FastAPI:
    """A fresh simulator with its own state (`app.state.sim`); `seed="demo"` adds the demo data."""
    if seed is not None and seed not in SEEDS:
        raise ValueError(f"unknown zoomsim seed {seed!r}; use 'demo' or None")
    sim = SimState(seeder=SEEDS[seed] if seed else None)
    app = FastAPI(
        title="obfbroker Zoom simulator",
        docs_url=None,  # /_sim/docs and /_sim/redoc from the vendored files (obfbroker.api_docs)
        redoc_url=None,
        openapi_url="/_sim/openapi.json",
    )
    app.state.sim = sim
    app.state.webhooks = WebhookSender(on_delivery=lambda delivery: _count_delivery(sim, delivery))
    app.include_router(oauth.router)
    app.include_router(api.router)
    app.include_router(control.router)
    app.include_router(overview.router)  # / : what the simulator holds, and links
    app.include_router(docs_router("/_sim"))
    app.add_middleware(FaultInjectionMiddleware, sim=sim)
    _add_error_handlers(app)
    return app


def _count_delivery(sim: SimState, delivery: Delivery) -> None:
    sim.count("webhooks_sent")
    if delivery.error is not None:
        sim.count("webhook_failures")


def _add_error_handlers(app: FastAPI) -> None:
    no_store = {"Cache-Control": "no-store"}

    @app.exception_handler(OAuthError)
    async def oauth_error(_request: Request, exc: OAuthError) -> JSONResponse:
        return JSONResponse(exc.body(), exc.status, headers=no_store)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), exc.status)

    @app.exception_handler(ControlError)
    async def control_error(_request: Request, exc: ControlError) -> JSONResponse:
        return JSONResponse(exc.body(), exc.status)

    @app.exception_handler(BotJoinError)
    async def bot_join_error(_request: Request, exc: BotJoinError) -> JSONResponse:
        return JSONResponse(exc.body(), exc.status)

    @app.exception_handler(AuthorizeError)
    async def authorize_error(_request: Request, exc: AuthorizeError) -> JSONResponse:
        body: dict = {"error": exc.error, "message": exc.message}
        if exc.zoom_code:
            body["code"] = exc.zoom_code
        return JSONResponse(body, 400)

    @app.exception_handler(RequestValidationError)
    async def invalid_body(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(part) for part in err.get('loc', ()) if part != 'body')}: {err['msg']}"
            for err in exc.errors()
        ]
        return JSONResponse({"error": "invalid_request", "message": "; ".join(problems)}, 400)
