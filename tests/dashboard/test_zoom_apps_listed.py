"""The dashboard's Zoom app page shows the default app, and lists every app once there are
several (added through the API), never with a secret."""

from __future__ import annotations

from tests.support.dashboard import Dashboard


def test_the_zoom_app_page_lists_every_app_without_secrets(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    client = dashboard.sign_in(acme.api_key)
    try:
        alone = client.get("/dashboard/zoom-app")
        assert alone.status_code == 200 and "All your Zoom apps" not in alone.text
        second = dashboard.sim_app()
        added = acme.api.post("/api/v1/zoom/oauth/apps", json={
            "client_id": second.client_id, "client_secret": second.client_secret,
            "webhook_secret_token": second.webhook_secret_token, "name": "internal"}).json()
        page = client.get("/dashboard/zoom-app")
        assert page.status_code == 200 and "All your Zoom apps" in page.text
        assert added["app_id"] in page.text and second.client_id in page.text and "internal" in page.text
        # The form still shows (and would replace) the default app.
        assert f'value="{acme.app.client_id}"' in page.text
        for secret in (acme.app.client_secret, second.client_secret, second.webhook_secret_token):
            assert secret not in page.text
    finally:
        client.close()
        acme.api.close()
