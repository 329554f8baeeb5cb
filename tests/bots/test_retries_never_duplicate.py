"""A retried create never makes a second bot: ``Idempotency-Key`` replays the first answer, and
``deduplication_key`` refuses a second unfinished bot for the same purpose. Both are decided by
unique constraints, so they hold for parallel requests in one process (here) and across several
``serve`` processes on PostgreSQL (tests/e2e/test_races_across_serve_processes.py)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.support.bot_checks import (
    assert_one_bot_for_one_key,
    assert_one_unfinished_bot_per_deduplication_key,
    body_for,
    bot_ids,
)
from tests.support.bot_scenes import CREATE, Scene
from tests.support.customers import make_customer
from tests.support.sim import REDIRECT_URI


def test_ten_parallel_creates_with_one_key_make_one_bot(scene: Scene):
    assert_one_bot_for_one_key(scene, [scene.stack.url])


def test_a_retry_gets_the_first_answer_even_after_the_bot_changed(scene: Scene):
    body = body_for(scene)
    first = scene.api.post(CREATE, json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert scene.api.post(f"/api/v1/bots/{first.json()['bot_id']}/leave").status_code == 202
    again = scene.api.post(CREATE, json=dict(reversed(list(body.items()))), headers={"Idempotency-Key": "k1"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and again.json()["status"] == "queued"
    assert len(bot_ids(scene)) == 1


def test_the_same_key_with_another_body_is_refused_and_changes_nothing(scene: Scene):
    assert scene.api.post(CREATE, json=body_for(scene), headers={"Idempotency-Key": "k1"}).status_code == 201
    other = scene.api.post(CREATE, json=body_for(scene, bot_name="Other"), headers={"Idempotency-Key": "k1"})
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert "different request body" in other.json()["message"]
    assert len(bot_ids(scene)) == 1


def test_keys_belong_to_one_account(scene: Scene):
    first = scene.api.post(CREATE, json=body_for(scene), headers={"Idempotency-Key": "shared"})
    other = make_customer(scene.stack, name="other")
    try:
        bob = scene.stack.sim.create_user("Bob")
        assert other.connect(bob["id"]).status_code == 200
        body = {**body_for(scene), "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": bob["id"]}}
        theirs = other.api.post(CREATE, json=body, headers={"Idempotency-Key": "shared"})
        assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
        assert theirs.json()["bot_id"] != first.json()["bot_id"]
    finally:
        other.api.close()


def test_a_failed_request_does_not_keep_its_key(scene: Scene):
    bad = scene.api.post(CREATE, json=body_for(scene, meeting_link="not a link"),
                         headers={"Idempotency-Key": "k2"})
    assert bad.status_code == 400
    fixed = scene.api.post(CREATE, json=body_for(scene), headers={"Idempotency-Key": "k2"})
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "tab\there"])
def test_a_key_that_cannot_be_one_is_400(scene: Scene, key: str):
    response = scene.api.post(CREATE, json=body_for(scene), headers={"Idempotency-Key": key.encode()})
    assert response.status_code == 400 and response.json()["code"] == "invalid_idempotency_key"
    assert bot_ids(scene) == []


def test_keys_and_answers_are_not_stored_readable(scene: Scene):
    if not scene.stack.settings.is_sqlite:
        pytest.skip("reads the SQLite file")
    key = "order-5f1e9c2d-readable-key"
    created = scene.api.post(CREATE, json=body_for(scene), headers={"Idempotency-Key": key}).json()
    path = scene.stack.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute("select key_hash, request_hash, response_body from idempotency_keys").fetchall()
    assert rows
    dump = repr(rows)
    assert key not in dump and created["bot_id"] not in dump and "Notes" not in dump


def test_a_second_unfinished_bot_with_a_deduplication_key_is_refused(scene: Scene):
    first = scene.api.post(CREATE, json=body_for(scene, deduplication_key="meeting-42"))
    assert first.status_code == 201 and first.json()["deduplication_key"] == "meeting-42"
    second = scene.api.post(CREATE, json=body_for(scene, deduplication_key="meeting-42"))
    assert second.status_code == 409
    assert second.json()["code"] == "duplicate_bot" and second.json()["bot_id"] == first.json()["bot_id"]
    assert scene.api.post(CREATE, json=body_for(scene, deduplication_key="meeting-43")).status_code == 201

    assert scene.api.post(f"/api/v1/bots/{first.json()['bot_id']}/leave").status_code == 202
    assert scene.api.get(f"/api/v1/bots/{first.json()['bot_id']}").json()["status"] == "ended"
    third = scene.api.post(CREATE, json=body_for(scene, deduplication_key="meeting-42"))
    assert third.status_code == 201, "a finished bot no longer holds its key"
    assert third.json()["bot_id"] != first.json()["bot_id"]


def test_parallel_creates_with_one_deduplication_key_make_one_bot(scene: Scene):
    assert_one_unfinished_bot_per_deduplication_key(scene, [scene.stack.url])


@pytest.mark.parametrize("key", ["", "k" * 201, 42])
def test_a_bad_deduplication_key_is_400(scene: Scene, key: Any):
    response = scene.api.post(CREATE, json=body_for(scene, deduplication_key=key))
    assert response.status_code == 400 and response.json()["code"] == "invalid_deduplication_key"


def test_a_retried_connection_create_exchanges_the_code_once(scene: Scene):
    bob = scene.stack.sim.create_user("Bob")
    code = scene.stack.sim.authorize(scene.customer.app, bob["id"])
    body = {"code": code, "redirect_uri": REDIRECT_URI}
    before = scene.stack.sim.stats()
    first = scene.api.post("/api/v1/zoom/oauth/connections", json=body, headers={"Idempotency-Key": "c1"})
    again = scene.api.post("/api/v1/zoom/oauth/connections", json=body, headers={"Idempotency-Key": "c1"})
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert scene.stack.sim.stats()["code_grants"] - before["code_grants"] == 1
    # Without a key the code's receipt makes the retry safe too (the code itself is single-use).
    without_key = scene.api.post("/api/v1/zoom/oauth/connections", json=body)
    assert without_key.status_code == 200 and "Idempotent-Replayed" not in without_key.headers
    assert without_key.json()["zoom_user_id"] == first.json()["zoom_user_id"]
    assert scene.stack.sim.stats()["code_grants"] - before["code_grants"] == 1
