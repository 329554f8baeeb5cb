"""The composition root: what a process shares between requests and jobs (settings, database,
vault, Zoom client, metrics), and each domain's collaborators built from them (its ``wiring``).
Nothing below this module sees the Runtime: app.py, worker.py and cli.py, the other places that
start a process, hand each route, loop and command the part it uses."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from obfbroker.accounts.service import Hasher, load_hasher
from obfbroker.bots.wiring import BotKit
from obfbroker.clock import Clock
from obfbroker.connections.tokens import TokenBroker
from obfbroker.connections.wiring import ConnectionKit
from obfbroker.db.session import create_engine, create_lock_engine, create_session_factory
from obfbroker.flows.erase import Erasure
from obfbroker.gauges import DatabaseGauges
from obfbroker.idempotency import KeyStore
from obfbroker.metrics.recorder import Metrics
from obfbroker.outbound import OutboundPolicy
from obfbroker.settings import Settings
from obfbroker.token_links.use_log import UseLog
from obfbroker.token_links.wiring import TokenLinks
from obfbroker.vault import Vault
from obfbroker.webhooks.delivery import Deliverer
from obfbroker.zoom.client import ZoomClient


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    hasher: Hasher
    zoom: ZoomClient
    lock_engine: AsyncEngine
    lock_sessions: async_sessionmaker[AsyncSession]
    clock: Clock = field(default_factory=Clock)
    # This runtime's metric families and registry (never the process-wide default registry).
    metrics: Metrics = field(default_factory=Metrics)
    tokens: TokenBroker = field(init=False)
    # Where customers' URLs may lead (webhooks, callbacks, customers' token servers).
    outbound: OutboundPolicy = field(init=False)
    # Idempotency-Keys of create_bot, connection-create and token-link create.
    idempotency: KeyStore = field(init=False)
    # What the token-link domain uses, its batched use log included (token_links/wiring.py).
    token_links: TokenLinks = field(init=False)
    # What the connections and bots domains use (their wiring.py), what sends the outbox, and
    # the erase flow (flows/erase.py).
    connections: ConnectionKit = field(init=False)
    bots: BotKit = field(init=False)
    deliverer: Deliverer = field(init=False)
    erasure: Erasure = field(init=False)

    def __post_init__(self) -> None:
        self.outbound = OutboundPolicy.from_settings(self.settings)
        self.idempotency = KeyStore(self.sessions, self.vault, self.hasher, self.clock.now,
                                    self.settings.duplicate_request_wait_seconds)
        self.tokens = TokenBroker(sessions=self.sessions, lock_sessions=self.lock_sessions,
                                  vault=self.vault, zoom=self.zoom, clock=self.clock,
                                  is_sqlite=self.settings.is_sqlite,
                                  lock_wait_seconds=self.settings.token_lock_wait_seconds,
                                  keepalive_days=self.settings.keepalive_days,
                                  recovery_after_seconds=self.settings.connection_recovery_after_seconds,
                                  metrics=self.metrics)
        self.token_links = TokenLinks(
            engine=self.engine, hasher=self.hasher, vault=self.vault, clock=self.clock,
            public_url=self.settings.public_url, calls_per_minute=self.settings.token_link_calls_per_minute,
            uses=UseLog(self.engine), tokens=self.tokens, metrics=self.metrics)
        self.connections = ConnectionKit(
            sessions=self.sessions, lock_sessions=self.lock_sessions, vault=self.vault, hasher=self.hasher,
            zoom=self.zoom, clock=self.clock, tokens=self.tokens, metrics=self.metrics,
            oauth_url=self.settings.zoom_oauth_url,
            duplicate_wait_seconds=self.settings.duplicate_request_wait_seconds)
        self.bots = BotKit(sessions=self.sessions, engine=self.engine, hasher=self.hasher, clock=self.clock,
                           metrics=self.metrics, tokens=self.tokens, public_url=self.settings.public_url)
        self.deliverer = Deliverer(lock_sessions=self.lock_sessions, vault=self.vault, clock=self.clock,
                                   metrics=self.metrics,
                                   send_timeout_seconds=self.settings.webhook_send_timeout_seconds)
        self.erasure = Erasure(connections=self.connections, engine=self.engine,
                               is_sqlite=self.settings.is_sqlite)

    @classmethod
    async def start(cls, settings: Settings, *, clock: Clock | None = None) -> Runtime:
        engine = create_engine(settings)
        sessions = create_session_factory(engine)
        vault = Vault(settings.key_material())
        clock = clock or Clock()
        hasher = await load_hasher(sessions, vault, now=clock.now())
        metrics = Metrics(gauges=DatabaseGauges(cache_seconds=settings.metrics_cache_seconds))
        zoom = ZoomClient(oauth_url=settings.zoom_oauth_url, api_url=settings.zoom_api_url,
                          timeout=settings.zoom_timeout_seconds, on_call=metrics.zoom_call)
        lock_engine = create_lock_engine(settings, engine)
        return cls(settings, engine, sessions, vault, hasher, zoom, lock_engine,
                   create_session_factory(lock_engine), clock, metrics)

    async def close(self) -> None:
        await self.token_links.uses.aclose()
        await self.zoom.aclose()
        if self.lock_engine is not self.engine:
            await self.lock_engine.dispose()
        await self.engine.dispose()

