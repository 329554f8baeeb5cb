"""The demo data: one app, one account, three users, with stable ids."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from obfbroker.zoomsim.state import SimState

DEMO_ACCOUNT_ID = "Xq3vR8tLQe2mZk7PaW1nYg"
DEMO_CLIENT_ID = "demo-client-id"
DEMO_CLIENT_SECRET = "demo-client-secret"
DEMO_WEBHOOK_SECRET_TOKEN = "demo-webhook-secret-token"
DEMO_WEBHOOK_URL: str | None = None  # set later with PATCH /_sim/apps/demo-client-id
DEMO_REDIRECT_URIS = (
    "http://127.0.0.1:5005/zoom/oauth/callback",
    "http://localhost:5005/zoom/oauth/callback",
    "http://127.0.0.1:8000/dashboard/zoom/callback",
)
DEMO_SCOPES = ("user:read:user", "user:read:token", "user:read:zak", "meeting_token:read:local_recording")

ALICE_ID = "KdYKjnimT4KPd8FFgQt9FQ"
BOB_ID = "hQ2pZr7vS0eWn4LtXy8uJb"
CAROL_ID = "mT5cVb9nR3kQw1ZxLp6sDa"
ALICE_EMAIL = "alice@example.com"
BOB_EMAIL = "bob@example.com"
CAROL_EMAIL = "carol@example.com"

# (id, email, display name, personal meeting id)
DEMO_USERS = (
    (ALICE_ID, ALICE_EMAIL, "Alice Example", 4155550101),
    (BOB_ID, BOB_EMAIL, "Bob Example", 4155550102),
    (CAROL_ID, CAROL_EMAIL, "Carol Example", 4155550103),
)


def seed_demo(sim: SimState) -> None:
    """Register the demo app and users in a (freshly reset) simulator."""
    sim.default_account_id = DEMO_ACCOUNT_ID
    sim.register_app(
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        redirect_uris=list(DEMO_REDIRECT_URIS),
        scopes=list(DEMO_SCOPES),
        webhook_url=DEMO_WEBHOOK_URL,
        webhook_secret_token=DEMO_WEBHOOK_SECRET_TOKEN,
    )
    for user_id, email, display_name, pmi in DEMO_USERS:
        sim.create_user(email=email, display_name=display_name, user_id=user_id,
                        account_id=DEMO_ACCOUNT_ID, pmi=pmi)
