"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from obfbroker.db.session import reachable
from obfbroker.deps import ClockDep, EngineDep, MetricsDep, SessionsDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Database reachable")
async def readyz(engine: EngineDep) -> Response:
    if not await reachable(engine):
        return Response('{"status":"unavailable"}', status_code=503, media_type="application/json")
    return Response('{"status":"ok"}', media_type="application/json")


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(recorder: MetricsDep, sessions: SessionsDep, clock: ClockDep) -> Response:
    """This process's metrics (docs/operations.md, "Metrics"); the database gauges are cached."""
    body = await recorder.render(sessions, clock.now)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
