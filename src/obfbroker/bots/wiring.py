"""What the bots domain uses, built once by the process that starts (``runtime.py``) and handed
to its services and endpoints, so none of them reaches for the whole runtime: the sessions and
the engine (the hosted token server reads bots on a plain connection), the hasher (per-bot
secrets), the clock, the metrics, the token broker that mints, and the public URL the hosted
token URLs carry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from obfbroker.accounts.service import Hasher
from obfbroker.clock import Clock
from obfbroker.connections.tokens import TokenBroker
from obfbroker.deps import runtime_part
from obfbroker.metrics.recorder import Metrics


@dataclass(frozen=True)
class BotKit:
    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    hasher: Hasher
    clock: Clock
    metrics: Metrics
    tokens: TokenBroker
    public_url: str


BotKitDep = Annotated[BotKit, Depends(runtime_part("bots"))]
