"""The customer's Zoom apps: credentials stored sealed and read back only where used; several per
account, one of them the default (what every call without an ``app_id`` means)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.accounts.models import Account
from obfbroker.db.base import new_id
from obfbroker.db.repository import found
from obfbroker.errors import BadRequest, Conflict, NotFound
from obfbroker.vault import Vault
from obfbroker.zoom.client import AppCredentials
from obfbroker.zoom_apps import repository
from obfbroker.zoom_apps.models import AppKind, ZoomApp

NOT_CONFIGURED = (
    "No Zoom app is configured for this account; set its credentials first with "
    "PUT /api/v1/zoom/oauth/app"
)
MAX_APP_ID_LENGTH = 40
MAX_APPS = 20  # per account: a marketplace app and an internal one, development and production...


def not_found(app_id: str) -> NotFound:
    return NotFound(f"No Zoom app {app_id} in this account", code="zoom_app_not_found")


async def find(session: AsyncSession, account: Account) -> ZoomApp | None:
    """The account's default app, if it has one."""
    return await repository.default_app(session, account.id)


async def app_of_account(session: AsyncSession, account_id: str) -> ZoomApp | None:
    """The default app of the account ``account_id`` (for work that holds an id, not the account)."""
    return await repository.default_app(session, account_id)


async def app_of_client(session: AsyncSession, account_id: str, client_id: str) -> ZoomApp | None:
    """The app a connection (or a bot acting for one) was authorized through, by its Client ID;
    None when the account no longer has it."""
    return await repository.app_for_client(session, account_id, client_id)


async def get(session: AsyncSession, account: Account) -> ZoomApp:
    """The default app, or 404."""
    return found(await find(session, account), NotFound(NOT_CONFIGURED, code="zoom_app_not_configured"))


async def require(session: AsyncSession, account: Account, app_id: str | None = None) -> ZoomApp:
    """The app ``app_id`` names, or the default one; a 400 telling the customer to configure one
    (for flows that need it) when there is no default, a 404 for an app_id the account lacks."""
    if app_id is not None:
        return await get_app(session, account, app_id)
    return found(await find(session, account), BadRequest(NOT_CONFIGURED, code="zoom_app_not_configured"))


async def get_app(session: AsyncSession, account: Account, app_id: str, *,
                  for_update: bool = False) -> ZoomApp:
    """One of the account's apps, or 404 (an app of another account is not found either)."""
    app = None
    if isinstance(app_id, str) and 0 < len(app_id) <= MAX_APP_ID_LENGTH:
        app = await repository.app_of_account(session, account.id, app_id, for_update=for_update)
    return found(app, not_found(app_id))


async def app_by_id_of(session: AsyncSession, account_id: str, app_id: str) -> ZoomApp | None:
    """The app ``app_id`` of the account ``account_id`` (for work that holds an id), or None."""
    return await repository.app_of_account(session, account_id, app_id)


async def list_apps(session: AsyncSession, account: Account) -> list[ZoomApp]:
    return await repository.apps_of_account(session, account.id)


async def at_webhook_url(session: AsyncSession, app_id: str) -> ZoomApp:
    """The app whose webhook URL ends in ``app_id`` (of any account: Zoom sends no API key)."""
    return found(await repository.app_by_id(session, app_id) if len(app_id) <= MAX_APP_ID_LENGTH else None,
                 NotFound("No Zoom app at this webhook URL", code="zoom_app_not_found"))


async def _refuse_taken_client_id(session: AsyncSession, account: Account, client_id: str,
                                  app: ZoomApp | None) -> None:
    other = await repository.app_for_client(session, account.id, client_id)
    if other is not None and other is not app:
        raise Conflict(f"Zoom app {other.id} of this account already has this client_id; change that one "
                       f"(PUT /api/v1/zoom/oauth/apps/{other.id})", code="zoom_app_exists",
                       extra={"app_id": other.id})


def _write(vault: Vault, app: ZoomApp, *, client_id: str, client_secret: str,
           webhook_secret_token: str | None, webhook_secret_given: bool, now: datetime) -> None:
    app.client_id = client_id
    app.client_secret = vault.seal(app, "client_secret", client_secret)
    if webhook_secret_given:
        app.webhook_secret_token = (
            vault.seal(app, "webhook_secret_token", webhook_secret_token)
            if webhook_secret_token is not None else None
        )
    app.updated_at = now


async def _make_default(session: AsyncSession, account: Account, app: ZoomApp) -> None:
    if not app.is_default:
        await repository.clear_default(session, account.id)
        app.is_default = True


async def put(session: AsyncSession, vault: Vault, account: Account, *, client_id: str,
              client_secret: str, webhook_secret_token: str | None,
              webhook_secret_given: bool, now: datetime, name: str | None = None) -> ZoomApp:
    """Create or replace the account's default app; an omitted webhook secret (or name) keeps the
    stored one."""
    app = await find(session, account)
    await _refuse_taken_client_id(session, account, client_id, app)
    if app is None:
        await _refuse_too_many(session, account)
        app = ZoomApp(id=new_id("app"), account_id=account.id, created_at=now, is_default=True,
                      name="", kind=AppKind.USER_MANAGED)
        session.add(app)
    _write(vault, app, client_id=client_id, client_secret=client_secret,
           webhook_secret_token=webhook_secret_token, webhook_secret_given=webhook_secret_given, now=now)
    app.name = name if name is not None else app.name
    await session.flush()
    return app


async def _refuse_too_many(session: AsyncSession, account: Account) -> None:
    if len(await repository.apps_of_account(session, account.id)) >= MAX_APPS:
        raise Conflict(f"An account holds at most {MAX_APPS} Zoom apps; delete one first",
                       code="too_many_zoom_apps")


async def create(session: AsyncSession, vault: Vault, account: Account, *, client_id: str, client_secret: str,
                 webhook_secret_token: str | None, name: str, default: bool | None, now: datetime) -> ZoomApp:
    """Add an app to the account. The account's first app is its default whatever ``default``
    says; ``default=true`` makes a later one the default instead of the current one."""
    await _refuse_taken_client_id(session, account, client_id, None)
    await _refuse_too_many(session, account)
    first = await find(session, account) is None
    app = ZoomApp(id=new_id("app"), account_id=account.id, created_at=now, is_default=False, name=name,
                  kind=AppKind.USER_MANAGED)
    _write(vault, app, client_id=client_id, client_secret=client_secret,
           webhook_secret_token=webhook_secret_token, webhook_secret_given=True, now=now)
    if first or default:
        await repository.clear_default(session, account.id)
        app.is_default = True
    session.add(app)
    await session.flush()
    return app


async def replace(session: AsyncSession, vault: Vault, account: Account, app_id: str, *, client_id: str,
                  client_secret: str, webhook_secret_token: str | None, webhook_secret_given: bool,
                  name: str | None, default: bool | None, now: datetime) -> ZoomApp:
    """Replace one app's credentials (its id, created_at and webhook_url are kept); ``default=true``
    makes it the account's default, ``false`` on the default leaves the account without one."""
    app = await get_app(session, account, app_id, for_update=True)
    await _refuse_taken_client_id(session, account, client_id, app)
    _write(vault, app, client_id=client_id, client_secret=client_secret,
           webhook_secret_token=webhook_secret_token, webhook_secret_given=webhook_secret_given, now=now)
    app.name = name if name is not None else app.name
    if default:
        await _make_default(session, account, app)
    elif default is False:
        app.is_default = False
    await session.flush()
    return app


async def delete(session: AsyncSession, account: Account) -> None:
    """Delete the default app (the account then has no default until one is chosen)."""
    app = await get(session, account)
    await session.delete(app)
    await session.flush()


async def delete_app(session: AsyncSession, account: Account, app_id: str) -> None:
    app = await get_app(session, account, app_id)
    await session.delete(app)
    await session.flush()


def credentials(vault: Vault, app: ZoomApp) -> AppCredentials:
    return AppCredentials(client_id=app.client_id, client_secret=vault.open(app, "client_secret"))


def webhook_url(public_url: str, app: ZoomApp) -> str:
    return f"{public_url}/webhooks/zoom/{app.id}"
