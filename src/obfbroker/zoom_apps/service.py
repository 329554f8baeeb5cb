"""The customer's Zoom app credentials: stored sealed, read back only where used."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.accounts.models import Account
from obfbroker.db.base import new_id, utcnow
from obfbroker.errors import BadRequest, NotFound
from obfbroker.vault import Vault
from obfbroker.zoom.client import AppCredentials
from obfbroker.zoom_apps.models import ZoomApp

NOT_CONFIGURED = (
    "No Zoom app is configured for this account; set its credentials first with "
    "PUT /api/v1/zoom/oauth/app"
)


async def find(session: AsyncSession, account: Account) -> ZoomApp | None:
    return (await session.execute(
        select(ZoomApp).where(ZoomApp.account_id == account.id)
    )).scalar_one_or_none()


async def get(session: AsyncSession, account: Account) -> ZoomApp:
    app = await find(session, account)
    if app is None:
        raise NotFound(NOT_CONFIGURED, code="zoom_app_not_configured")
    return app


async def require(session: AsyncSession, account: Account) -> ZoomApp:
    """The app, or a 400 telling the customer to configure one (for flows that need it)."""
    app = await find(session, account)
    if app is None:
        raise BadRequest(NOT_CONFIGURED, code="zoom_app_not_configured")
    return app


def _seal(vault: Vault, app: ZoomApp, column: str, value: str) -> str:
    return vault.encrypt(value, table="zoom_apps", column=column, row_id=app.id)


async def put(session: AsyncSession, vault: Vault, account: Account, *, client_id: str,
              client_secret: str, webhook_secret_token: str | None,
              webhook_secret_given: bool) -> ZoomApp:
    """Create or replace the account's app; an omitted webhook secret keeps the stored one."""
    now = utcnow()
    app = await find(session, account)
    if app is None:
        app = ZoomApp(id=new_id("app"), account_id=account.id, created_at=now)
        session.add(app)
    app.client_id = client_id
    app.client_secret = _seal(vault, app, "client_secret", client_secret)
    if webhook_secret_given:
        app.webhook_secret_token = (
            _seal(vault, app, "webhook_secret_token", webhook_secret_token)
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
    secret = vault.decrypt(app.client_secret, table="zoom_apps", column="client_secret",
                           row_id=app.id)
    return AppCredentials(client_id=app.client_id, client_secret=secret)


def webhook_url(public_url: str, app: ZoomApp) -> str:
    return f"{public_url}/webhooks/zoom/{app.id}"
