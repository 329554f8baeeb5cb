"""`obfbroker keys rotate` re-seals every secret; nothing becomes unreadable."""

from __future__ import annotations

import asyncio
import json

from obfbroker.settings import decode_key, generate_key
from obfbroker.vault import key_id
from tests.support.customers import make_customer
from tests.support.databases import TEST_KEY
from tests.support.processes import run_cli
from tests.support.servers import serve_app
from tests.support.stack import Stack, make_settings


def test_rotation_keeps_every_secret_readable_under_the_new_key(fresh_database_url, sim):
    from obfbroker.app import create_app

    settings = make_settings(fresh_database_url, sim)
    with serve_app(create_app(settings)) as url:
        check_rotation(Stack(url=url, settings=settings, sim=sim))


def check_rotation(stack: Stack) -> None:
    from obfbroker.app import create_app
    from tests.support.secrets_at_rest import dump_and_decrypt

    sim = stack.sim
    customer = make_customer(stack)
    alice = sim.create_user("Alice")
    assert customer.connect(alice["id"]).status_code == 200
    _, before = asyncio.run(dump_and_decrypt(stack))

    new_key = generate_key()
    env = {"OBFBROKER_DATABASE_URL": stack.settings.database_url,
           "OBFBROKER_ENCRYPTION_KEYS": f"{new_key},{TEST_KEY}"}
    result = run_cli("keys", "rotate", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["resealed"] >= 4
    assert run_cli("keys", "rotate", env=env).stdout.strip() == '{"resealed": 0}'

    rotated = make_settings(stack.settings.database_url, sim, encryption_keys=new_key)
    rotated_stack = Stack(url="", settings=rotated, sim=sim)
    dump, after = asyncio.run(dump_and_decrypt(rotated_stack))
    assert sorted(after) == sorted(before)
    assert f"v1.{key_id(decode_key(TEST_KEY))}." not in dump, "no value is left under the old key"

    # The service runs on the new key alone: it can read the app secret and the tokens
    # (revoke on delete needs both).
    revokes = sim.stats()["revokes"]
    with serve_app(create_app(rotated)) as url:
        rotated_stack.url = url
        with rotated_stack.client(customer.api_key) as api:
            assert api.get("/api/v1/zoom/oauth/app").status_code == 200
            assert api.delete(f"/api/v1/zoom/oauth/connections/{alice['id']}").status_code == 200
    assert sim.stats()["revokes"] == revokes + 1
