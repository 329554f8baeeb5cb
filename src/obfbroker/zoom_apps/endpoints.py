from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from obfbroker.deps import AccountDep, ClockDep, SessionDep, SettingsDep, VaultDep
from obfbroker.openapi import error_responses
from obfbroker.zoom_apps import service
from obfbroker.zoom_apps.models import AppKind, ZoomApp
from obfbroker.zoom_apps.schemas import ZoomAppCreate, ZoomAppList, ZoomAppRead, ZoomAppReplace, ZoomAppWrite

router = APIRouter(prefix="/api/v1/zoom/oauth", tags=["zoom app"])
NEVER_SECRETS = "Secrets are write-only: no answer ever contains client_secret or webhook_secret_token."
APP_ID = Path(description="The app_id the app was created with", examples=["app_5996b94dc8c17fdba241c745"],
              json_schema_extra={"pattern": r"^[^/]+$"})


def app_read(public_url: str, app: ZoomApp) -> ZoomAppRead:
    """The app as the API (and the dashboard) shows it: whether secrets are set, never them."""
    kind = AppKind(app.kind)
    return ZoomAppRead(
        app_id=app.id, name=app.name, kind=kind, is_default=app.is_default, scopes=list(kind.scopes),
        client_id=app.client_id, has_client_secret=app.client_secret is not None,
        has_webhook_secret_token=app.webhook_secret_token is not None,
        webhook_url=service.webhook_url(public_url, app),
        created_at=app.created_at, updated_at=app.updated_at,
    )


# -- the default app: what MeetStream's clients know as "the" Zoom app --------------------------

@router.put("/app", response_model=ZoomAppRead,
            responses=error_responses("invalid_request", "zoom_app_exists"),
            summary="Set or replace the default Zoom OAuth app",
            description="Stores the credentials of your account's default Zoom OAuth app (the one every call "
                        "without an app_id uses), replacing any stored ones (app_id, created_at and "
                        "webhook_url are kept). Omitting webhook_secret_token (or name) keeps the "
                        "stored one; null removes the webhook secret. A failed PUT changes nothing. "
                        f"{NEVER_SECRETS}")
async def put_app(body: ZoomAppWrite, account: AccountDep, session: SessionDep, vault: VaultDep,
                  clock: ClockDep, settings: SettingsDep) -> ZoomAppRead:
    app = await service.put(
        session, vault, account, client_id=body.client_id,
        client_secret=body.client_secret, webhook_secret_token=body.webhook_secret_token,
        webhook_secret_given="webhook_secret_token" in body.model_fields_set, now=clock.now(),
        name=body.name,
    )
    return app_read(settings.public_url, app)


@router.get("/app", response_model=ZoomAppRead, responses=error_responses("zoom_app_not_configured"),
            summary="Get the default Zoom app",
            description=f"Your account's default Zoom app: its client_id, whether its secrets are stored and "
                        f"the webhook_url for its event subscription. {NEVER_SECRETS}")
async def get_app(account: AccountDep, session: SessionDep, settings: SettingsDep) -> ZoomAppRead:
    return app_read(settings.public_url, await service.get(session, account))


@router.delete("/app", status_code=204, responses=error_responses("zoom_app_not_configured"),
               summary="Remove the default Zoom app",
               description="Deletes your account's default Zoom app; answers 204 with no body. "
                           "Connections are kept, but they cannot refresh, and calls without an app_id "
                           "answer 400 zoom_app_not_configured until a default app is stored (or chosen "
                           "among the others with PUT /api/v1/zoom/oauth/apps/{app_id} and default: "
                           "true); Zoom's events sent to the old webhook_url answer 404.")
async def delete_app(account: AccountDep, session: SessionDep) -> Response:
    await service.delete(session, account)
    return Response(status_code=204)


# -- every app of the account ------------------------------------------------------------------

@router.post("/apps", status_code=201, response_model=ZoomAppRead,
             responses=error_responses("invalid_request", "zoom_app_exists", "too_many_zoom_apps"),
             summary="Add a Zoom OAuth app",
             description="Adds a Zoom app to your account (a marketplace app and an internal one, "
                         "development and production). The "
                         "account's first app is its default; default: true makes this one the default "
                         f"instead. A Client ID can be used by one app of an account. {NEVER_SECRETS}")
async def create_app(body: ZoomAppCreate, account: AccountDep, session: SessionDep, vault: VaultDep,
                     clock: ClockDep, settings: SettingsDep) -> ZoomAppRead:
    app = await service.create(
        session, vault, account, client_id=body.client_id, client_secret=body.client_secret,
        webhook_secret_token=body.webhook_secret_token, name=body.name, default=body.default, now=clock.now())
    return app_read(settings.public_url, app)


@router.get("/apps", response_model=ZoomAppList, responses=error_responses(), summary="List the Zoom apps",
            description=f"Every Zoom app of your account, the oldest first. {NEVER_SECRETS}")
async def list_apps(account: AccountDep, session: SessionDep, settings: SettingsDep) -> ZoomAppList:
    apps = await service.list_apps(session, account)
    return ZoomAppList(apps=[app_read(settings.public_url, app) for app in apps])


@router.get("/apps/{app_id}", response_model=ZoomAppRead, responses=error_responses("zoom_app_not_found"),
            summary="Get one Zoom app", description=f"One app of your account. {NEVER_SECRETS}")
async def get_one_app(app_id: Annotated[str, APP_ID], account: AccountDep, session: SessionDep,
                      settings: SettingsDep) -> ZoomAppRead:
    return app_read(settings.public_url, await service.get_app(session, account, app_id))


@router.put("/apps/{app_id}", response_model=ZoomAppRead,
            responses=error_responses("invalid_request", "zoom_app_not_found", "zoom_app_exists"),
            summary="Replace one Zoom app",
            description="Replaces the credentials of one app (app_id, created_at and webhook_url are "
                        "kept); omitting webhook_secret_token (or name) keeps the stored one. default: "
                        "true makes it the account's default app. A failed PUT changes nothing. "
                        f"{NEVER_SECRETS}")
async def put_one_app(app_id: Annotated[str, APP_ID], body: ZoomAppReplace, account: AccountDep,
                      session: SessionDep, vault: VaultDep, clock: ClockDep,
                      settings: SettingsDep) -> ZoomAppRead:
    app = await service.replace(
        session, vault, account, app_id, client_id=body.client_id, client_secret=body.client_secret,
        webhook_secret_token=body.webhook_secret_token,
        webhook_secret_given="webhook_secret_token" in body.model_fields_set, name=body.name,
        default=body.default, now=clock.now())
    return app_read(settings.public_url, app)


@router.delete("/apps/{app_id}", status_code=204, responses=error_responses("zoom_app_not_found"),
               summary="Remove one Zoom app",
               description="Deletes one app of your account; answers 204 with no body. Its connections "
                           "are kept but cannot refresh until an app with the same client_id is stored "
                           "again.")
async def delete_one_app(app_id: Annotated[str, APP_ID], account: AccountDep,
                         session: SessionDep) -> Response:
    await service.delete_app(session, account, app_id)
    return Response(status_code=204)
