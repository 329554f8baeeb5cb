"""A customer's Zoom app pointed at obfbroker: its webhook URL as the test server serves it, and
the simulator's app told to send Zoom's events there."""

from __future__ import annotations

from tests.support.customers import Customer


def webhook_url(customer: Customer) -> str:
    """The default app's webhook_url, on the test server (it names OBFBROKER_PUBLIC_URL)."""
    url = customer.api.get("/api/v1/zoom/oauth/app").json()["webhook_url"]
    return url.replace(customer.stack.settings.public_url, customer.stack.url)


def point_sim_app_at_us(customer: Customer) -> None:
    """The simulator's app sends Zoom's events (app_deauthorized...) to that URL."""
    sim = customer.stack.sim
    sim._ok(sim.http.patch(f"/_sim/apps/{customer.app.client_id}",
                           json={"webhook_url": webhook_url(customer)}))
