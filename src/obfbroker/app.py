"""The API application: create_app(settings) wires routers, errors and middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from obfbroker import __version__
from obfbroker.api_docs import router as api_docs_router
from obfbroker.bots.endpoints import router as bots_router
from obfbroker.bots.token_server import router as token_server_router
from obfbroker.connections.endpoints import router as connections_router
from obfbroker.dashboard.root_page import router as root_router
from obfbroker.dashboard.routes import router as dashboard_router
from obfbroker.errors import install_error_handlers
from obfbroker.flows.erase import router as erase_router
from obfbroker.flows.zoom_events import MAX_BODY as ZOOM_WEBHOOK_MAX_BODY
from obfbroker.flows.zoom_events import PREFIX as ZOOM_WEBHOOK_PREFIX
from obfbroker.flows.zoom_events import router as zoom_webhooks_router
from obfbroker.health import router as health_router
from obfbroker.metrics.http import HttpMetricsMiddleware
from obfbroker.openapi import install as install_openapi
from obfbroker.request_guard import RequestGuard
from obfbroker.runtime import Runtime
from obfbroker.settings import Settings
from obfbroker.token_links.endpoints import router as token_links_router
from obfbroker.token_links.link_endpoints import router as token_link_calls_router
from obfbroker.webhooks.endpoints import router as webhooks_router
from obfbroker.zoom_apps.endpoints import router as zoom_app_router

DESCRIPTION = (
    "Zoom OBF broker: OAuth connections per end-user and hosted Zoom token endpoints for "
    "meeting bots. Authenticate every /api/v1 call with `Authorization: Token <api_key>`."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.check_production_safety()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = await Runtime.start(settings)
        try:
            yield
        finally:
            await app.state.runtime.close()

    app = FastAPI(title="obfbroker", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    # Repeated parameters, body size, unencodable text, no-store on token answers (request_guard.py).
    app.add_middleware(RequestGuard, max_bytes=settings.max_request_body_bytes,
                       caps=((ZOOM_WEBHOOK_PREFIX, ZOOM_WEBHOOK_MAX_BODY),))
    app.add_middleware(HttpMetricsMiddleware)  # the runtime's metrics, by route template
    if settings.trusted_proxy_list:
        # Outermost: the client address every later step sees (the sign-in limit, the access log)
        # comes from X-Forwarded-For only when a configured proxy sent it. The servers we start
        # never read those headers themselves (cli.py: proxy_headers=False).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    install_error_handlers(app)
    # The routers in the order the API document lists them.
    routers = [health_router, zoom_app_router, connections_router, erase_router, bots_router,
               token_server_router, token_links_router, token_link_calls_router, zoom_webhooks_router,
               webhooks_router,
               root_router,  # / : links to the dashboard, the docs and health
               dashboard_router, api_docs_router]  # /docs and /redoc from files shipped in the package
    # A request is tried against the routers in the order they were included: the token routes,
    # the hot path, go first (trying the four before them cost about 9% of a mint's CPU). No other
    # route's path can match theirs.
    hot = [token_server_router, token_link_calls_router]
    for router in hot + [r for r in routers if r not in hot]:
        app.include_router(router)
    # /openapi.json as the API answers: 400 with the Error body, never 422; paths in document order.
    install_openapi(app, path_order=[route.path for router in routers
                                     for route in iter_route_contexts(router.routes)])
    return app
