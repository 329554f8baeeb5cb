"""The customer's Zoom app credentials: stored sealed, read back only where used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.accounts.models import Account
from obfbroker.db.base import new_id
from obfbroker.db.repository import found
from obfbroker.errors import BadRequest, NotFound
from obfbroker.vault import Vault
from obfbroker.zoom.client import AppCredentials
from obfbroker.zoom_apps import repository
from obfbroker.zoom_apps.models import ZoomApp

NOT_CONFIGURED = (
    "No Zoom app is configured for this account; set its credentials first with "
    "PUT /api/v1/zoom/oauth/app"
)
MAX_APP_ID_LENGTH = 40


async def find(session: AsyncSession, account: Account) -> ZoomApp | None:
    return await repository.app_for_account(session, account.id)


async def app_of_account(session: AsyncSession, account_id: str) -> ZoomApp | None:
    """The Zoom app of the account ``account_id`` (for work that holds an id, not the account)."""
    return await repository.app_for_account(session, account_id)


async def get(session: AsyncSession, account: Account) -> ZoomApp:
    return found(await find(session, account), NotFound(NOT_CONFIGURED, code="zoom_app_not_configured"))


async def require(session: AsyncSession, account: Account) -> ZoomApp:
    """The app, or a 400 telling the customer to configure one (for flows that need it)."""
    return found(await find(session, account), BadRequest(NOT_CONFIGURED, code="zoom_app_not_configured"))


async def at_webhook_url(session: AsyncSession, app_id: str) -> ZoomApp:
    """The app whose webhook URL ends in ``app_id`` (of any account: Zoom sends no API key)."""
    return found(await repository.app_by_id(session, app_id) if len(app_id) <= MAX_APP_ID_LENGTH else None,
                 NotFound("No Zoom app at this webhook URL", code="zoom_app_not_found"))


async def put(session: AsyncSession, vault: Vault, account: Account, *, client_id: str,
              client_secret: str, webhook_secret_token: str | None,
              webhook_secret_given: bool, now: datetime) -> ZoomApp:
    """Create or replace the account's app; an omitted webhook secret keeps the stored one."""
    app = await find(session, account)
    if app is None:
        app = ZoomApp(id=new_id("app"), account_id=account.id, created_at=now)
        session.add(app)
    app.client_id = client_id
    app.client_secret = vault.seal(app, "client_secret", client_secret)
    if webhook_secret_given:
        app.webhook_secret_token = (
            vault.seal(app, "webhook_secret_token", webhook_secret_token)
            if webhook_secret_token is not None else None
        )
    app.updated_at = now
    await session.flush()
    return app


async def delete(session: AsyncSession, account: Account) -> None:
    app = await get(session, account)
    await session.delete(app)
    await session.flush()


def credentials(vault: Vault, app: ZoomApp) -> AppCredentials:
    return AppCredentials(client_id=app.client_id, client_secret=vault.open(app, "client_secret"))


def webhook_url(public_url: str, app: ZoomApp) -> str:
    return f"{public_url}/webhooks/zoom/{app.id}"
