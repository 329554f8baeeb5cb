"""What the connections domain uses, built once by the process that starts (``runtime.py``) and
handed to the domain's services, loops and endpoints, so none of them reaches for the whole
runtime: the sessions (plain and for row locks), the vault and hasher, the Zoom client, the
clock, the token broker (single-flight refresh), the metrics, Zoom's OAuth URL and how long a
duplicate connection-create waits for the first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker.accounts.service import Hasher
from obfbroker.clock import Clock
from obfbroker.connections.tokens import TokenBroker
from obfbroker.deps import runtime_part
from obfbroker.metrics.recorder import Metrics
from obfbroker.vault import Vault
from obfbroker.zoom.client import ZoomClient


@dataclass(frozen=True)
class ConnectionKit:
    sessions: async_sessionmaker[AsyncSession]
    lock_sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    hasher: Hasher
    zoom: ZoomClient
    clock: Clock
    tokens: TokenBroker
    metrics: Metrics
    oauth_url: str
    duplicate_wait_seconds: float


ConnectionKitDep = Annotated[ConnectionKit, Depends(runtime_part("connections"))]
