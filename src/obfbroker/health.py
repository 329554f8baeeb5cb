"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from obfbroker.db.session import reachable
from obfbroker.runtime import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Database reachable")
async def readyz(runtime: RuntimeDep) -> Response:
    if not await reachable(runtime.engine):
        return Response('{"status":"unavailable"}', status_code=503, media_type="application/json")
    return Response('{"status":"ok"}', media_type="application/json")


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    """This process's metrics (docs/operations.md, "Metrics"); the database gauges are cached."""
    body = await runtime.metrics.render(runtime.sessions, runtime.clock.now)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
