"""What a process shares between requests and jobs: settings, database, vault, Zoom client."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from obfbroker.accounts.service import Hasher, load_hasher
from obfbroker.db.session import create_engine, create_session_factory
from obfbroker.settings import Settings
from obfbroker.vault import Vault
from obfbroker.zoom.client import ZoomClient


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    hasher: Hasher
    zoom: ZoomClient

    @classmethod
    async def start(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings)
        sessions = create_session_factory(engine)
        vault = Vault(settings.key_material())
        hasher = await load_hasher(sessions, vault)
        zoom = ZoomClient(oauth_url=settings.zoom_oauth_url, api_url=settings.zoom_api_url,
                          timeout=settings.zoom_timeout_seconds)
        return cls(settings, engine, sessions, vault, hasher, zoom)

    async def close(self) -> None:
        await self.zoom.aclose()
        await self.engine.dispose()
