from __future__ import annotations

from fastapi import APIRouter, Response

from obfbroker.deps import AccountDep, RuntimeDep, SessionDep
from obfbroker.runtime import Runtime
from obfbroker.schemas import ERROR_RESPONSES, ErrorRead
from obfbroker.zoom_apps import service
from obfbroker.zoom_apps.models import ZoomApp
from obfbroker.zoom_apps.schemas import ZoomAppRead, ZoomAppWrite

router = APIRouter(prefix="/api/v1/zoom/oauth/app", tags=["zoom app"], responses=ERROR_RESPONSES)
NOT_CONFIGURED = {404: {"model": ErrorRead, "description": "No Zoom app configured"}}


def app_read(runtime: Runtime, app: ZoomApp) -> ZoomAppRead:
    """The app as the API (and the dashboard) shows it: whether secrets are set, never them."""
    return ZoomAppRead(
        client_id=app.client_id, has_client_secret=app.client_secret is not None,
        has_webhook_secret_token=app.webhook_secret_token is not None,
        webhook_url=service.webhook_url(runtime.settings.public_url, app),
        created_at=app.created_at, updated_at=app.updated_at,
    )


@router.put("", response_model=ZoomAppRead, summary="Set or replace the Zoom OAuth app")
async def put_app(body: ZoomAppWrite, account: AccountDep, session: SessionDep,
                  runtime: RuntimeDep) -> ZoomAppRead:
    app = await service.put(
        session, runtime.vault, account, client_id=body.client_id,
        client_secret=body.client_secret, webhook_secret_token=body.webhook_secret_token,
        webhook_secret_given="webhook_secret_token" in body.model_fields_set,
    )
    return app_read(runtime, app)


@router.get("", response_model=ZoomAppRead, responses=NOT_CONFIGURED, summary="Get the Zoom app")
async def get_app(account: AccountDep, session: SessionDep, runtime: RuntimeDep) -> ZoomAppRead:
    return app_read(runtime, await service.get(session, account))


@router.delete("", status_code=204, responses=NOT_CONFIGURED, summary="Remove the Zoom app")
async def delete_app(account: AccountDep, session: SessionDep) -> Response:
    await service.delete(session, account)
    return Response(status_code=204)
