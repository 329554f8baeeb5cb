"""The API reference pages, /docs (Swagger UI) and /redoc (ReDoc), served from files shipped
in this package (static/, versions and licences in static/README.md).

FastAPI's own pages load their scripts, styles, fonts and favicon from CDNs, so they are blank
on a machine without internet and leak every visit to third parties. These pages name only this
server, and their Content-Security-Policy keeps it that way: scripts from here plus the page's
one inline script (by hash), requests only to this origin, no fonts or images from elsewhere.
The create_app that includes this router turns FastAPI's defaults off (docs_url=None, redoc_url=None).
The Zoom simulator includes the same pages under /_sim (``docs_router("/_sim")``): this module
imports nothing of obfbroker, so the simulator stays independent of the rest.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

STATIC = Path(__file__).resolve().parent / "static"
STATIC_PATH = "/docs/static"
STATIC_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}
# Swagger UI would send the document to swagger.io's online validator (and show its badge).
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

def content_security_policy(html: str) -> str:
    """The policy for a docs page: its inline scripts are allowed by their hashes, nothing else
    inline runs. Styles may be inline (both UIs set style attributes and inject <style>);
    ReDoc's search runs in a worker made from a blob: URL."""
    digests = [base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
               for script in INLINE_SCRIPT.findall(html)]
    scripts = ["'self'", *(f"'sha256-{digest}'" for digest in digests)]
    return "; ".join([
        "default-src 'none'", "script-src " + " ".join(scripts),
        "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "font-src 'self'",
        "connect-src 'self'", "worker-src 'self' blob:",
        "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"])


def docs_page(page: HTMLResponse) -> HTMLResponse:
    html = bytes(page.body).decode()
    page.headers["Content-Security-Policy"] = content_security_policy(html)
    page.headers["X-Content-Type-Options"] = "nosniff"
    page.headers["X-Frame-Options"] = "DENY"
    page.headers["Referrer-Policy"] = "no-referrer"
    return page


def _base(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def docs_router(prefix: str = "") -> APIRouter:
    """``{prefix}/docs``, ``{prefix}/redoc`` and their files under ``{prefix}/docs/static``, over
    the including app's ``openapi_url``: the API mounts them at its root, the Zoom simulator
    under ``/_sim``."""
    router = APIRouter(include_in_schema=False)
    static = prefix + STATIC_PATH

    @router.get(prefix + "/docs")
    async def swagger_ui(request: Request) -> HTMLResponse:
        """Swagger UI over the app's OpenAPI document: operations, schemas and "Try it out"."""
        base = _base(request)
        return docs_page(get_swagger_ui_html(
            openapi_url=base + request.app.openapi_url,
            title=f"{request.app.title} - Swagger UI",
            swagger_js_url=f"{base}{static}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{static}/swagger-ui.css",
            swagger_favicon_url=f"{base}{static}/favicon-32x32.png",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        ))

    @router.get(prefix + "/redoc")
    async def redoc(request: Request) -> HTMLResponse:
        """ReDoc over the app's OpenAPI document: the same document as one readable page."""
        base = _base(request)
        return docs_page(get_redoc_html(
            openapi_url=base + request.app.openapi_url,
            title=f"{request.app.title} - ReDoc",
            redoc_js_url=f"{base}{static}/redoc.standalone.js",
            redoc_favicon_url=f"{base}{static}/favicon-32x32.png",
            with_google_fonts=False,
        ))

    @router.get(static + "/{name}")
    async def static_file(name: str) -> Response:
        if name not in STATIC_FILES:
            return Response(status_code=404)
        return FileResponse(STATIC / name, media_type=STATIC_FILES[name],
                            headers={"Cache-Control": "public, max-age=3600",
                                     "X-Content-Type-Options": "nosniff"})

    return router


router = docs_router()
