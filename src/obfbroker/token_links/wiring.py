"""What the token-link domain uses, given to it by the process that starts (runtime.py), so the
domain never reaches for the whole runtime: the engine for the call path's plain connections,
the hasher and vault for keys and Attendee's secret, the clock, the public URL its links carry,
the per-link rate, the batched use log, the token broker that mints, and the metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from obfbroker.accounts.service import Hasher
from obfbroker.clock import Clock
from obfbroker.connections.tokens import TokenBroker
from obfbroker.deps import runtime_part
from obfbroker.metrics.recorder import Metrics
from obfbroker.token_links.use_log import UseLog
from obfbroker.vault import Vault


@dataclass(frozen=True)
class TokenLinks:
    engine: AsyncEngine
    hasher: Hasher
    vault: Vault
    clock: Clock
    public_url: str
    calls_per_minute: int
    uses: UseLog
    tokens: TokenBroker
    metrics: Metrics


def token_links_of(request: Request) -> TokenLinks:
    """This process's TokenLinks."""
    return request.app.state.runtime.token_links


TokenLinksDep = Annotated[TokenLinks, Depends(runtime_part("token_links"))]
