from __future__ import annotations

from fastapi import APIRouter, Response

from obfbroker.deps import AccountDep, ClockDep, SessionDep, SettingsDep, VaultDep
from obfbroker.openapi import error_responses
from obfbroker.zoom_apps import service
from obfbroker.zoom_apps.models import ZoomApp
from obfbroker.zoom_apps.schemas import ZoomAppRead, ZoomAppWrite

router = APIRouter(prefix="/api/v1/zoom/oauth/app", tags=["zoom app"])
NEVER_SECRETS = "Secrets are write-only: no answer ever contains client_secret or webhook_secret_token."


def app_read(public_url: str, app: ZoomApp) -> ZoomAppRead:
    """The app as the API (and the dashboard) shows it: whether secrets are set, never them."""
    return ZoomAppRead(
        client_id=app.client_id, has_client_secret=app.client_secret is not None,
        has_webhook_secret_token=app.webhook_secret_token is not None,
        webhook_url=service.webhook_url(public_url, app),
        created_at=app.created_at, updated_at=app.updated_at,
    )


@router.put("", response_model=ZoomAppRead, responses=error_responses("invalid_request"),
            summary="Set or replace the Zoom OAuth app",
            description="Stores the credentials of the one Zoom OAuth app your account uses for all its "
                        "end-users, replacing any stored ones (created_at and webhook_url are kept). "
                        "Omitting webhook_secret_token keeps the stored one; null removes it. A failed PUT "
                        f"changes nothing. {NEVER_SECRETS}")
async def put_app(body: ZoomAppWrite, account: AccountDep, session: SessionDep, vault: VaultDep,
                  clock: ClockDep, settings: SettingsDep) -> ZoomAppRead:
    app = await service.put(
        session, vault, account, client_id=body.client_id,
        client_secret=body.client_secret, webhook_secret_token=body.webhook_secret_token,
        webhook_secret_given="webhook_secret_token" in body.model_fields_set, now=clock.now(),
    )
    return app_read(settings.public_url, app)


@router.get("", response_model=ZoomAppRead, responses=error_responses("zoom_app_not_configured"),
            summary="Get the Zoom app",
            description=f"Your account's Zoom app: its client_id, whether its secrets are stored and the "
                        f"webhook_url for its event subscription. {NEVER_SECRETS}")
async def get_app(account: AccountDep, session: SessionDep, settings: SettingsDep) -> ZoomAppRead:
    return app_read(settings.public_url, await service.get(session, account))


@router.delete("", status_code=204, responses=error_responses("zoom_app_not_configured"),
               summary="Remove the Zoom app",
               description="Deletes your account's Zoom app credentials; answers 204 with no body. "
                           "Connections are kept, but authorize-url and connection-create answer 400 "
                           "zoom_app_not_configured until a new app is stored, and Zoom's events sent to the "
                           "old webhook_url answer 404.")
async def delete_app(account: AccountDep, session: SessionDep) -> Response:
    await service.delete(session, account)
    return Response(status_code=204)
