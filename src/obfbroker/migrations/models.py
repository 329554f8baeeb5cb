"""Every model, imported in one place so metadata (and Alembic, and key rotation) sees all tables.
It lives with the migrations, above the domains: ``db`` itself imports no domain."""

from obfbroker.accounts.models import Account, ApiKey, ServerSecret
from obfbroker.bots.models import Bot, BotEvent
from obfbroker.connections.models import CodeExchange, ZoomConnection
from obfbroker.db.base import Base
from obfbroker.idempotency import IdempotencyRecord
from obfbroker.token_links.models import TokenLink, TokenLinkUse
from obfbroker.webhooks.models import WebhookDelivery, ZoomWebhookReceipt  # noqa: F401
from obfbroker.zoom_apps.models import ZoomApp

__all__ = ["Account", "ApiKey", "Base", "Bot", "BotEvent", "CodeExchange", "IdempotencyRecord",
           "ServerSecret", "TokenLink", "TokenLinkUse", "ZoomApp", "ZoomConnection", "ZoomWebhookReceipt"]
