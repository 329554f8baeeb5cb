"""Listing bots, asking one to leave, and MeetStream's status/detail/remove_bot paths."""

from __future__ import annotations

from tests.support.bot_scenes import Scene, set_bot_status
from tests.support.customers import make_customer
from tests.support.errors import assert_error


def test_bots_are_listed_newest_first_with_filters(scene: Scene):
    ids = [scene.hosted_bot()["bot_id"] for _ in range(3)]
    plain = scene.api.post("/api/v1/bots/create_bot", json={"meeting_link": scene.meeting.join_url}).json()
    set_bot_status(scene.stack, ids[0], "ended")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = scene.api.get("/api/v1/bots", params=params).json()
        seen += [b["bot_id"] for b in page["bots"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [plain["bot_id"], *reversed(ids)]
    ended = scene.api.get("/api/v1/bots", params={"status": "ended"}).json()["bots"]
    assert [b["bot_id"] for b in ended] == [ids[0]]
    mine = scene.api.get("/api/v1/bots", params={"zoom_oauth_connection_user_id": scene.alice["id"]}).json()
    assert [b["bot_id"] for b in mine["bots"]] == list(reversed(ids))
    assert_error(scene.api.get("/api/v1/bots", params={"status": "asleep"}), 400, "invalid_status_filter")
    assert_error(scene.api.get("/api/v1/bots", params={"cursor": "junk"}), 400, "invalid_cursor")


def test_a_queued_bot_asked_to_leave_ends_at_once(scene: Scene):
    bot = scene.hosted_bot()
    response = scene.api.post(f"/api/v1/bots/{bot['bot_id']}/leave")
    assert response.status_code == 202
    assert response.json()["status"] == "ended" and response.json()["reason"] == "left_by_request"
    status = scene.api.get(f"/api/v1/bots/{bot['bot_id']}/status").json()
    assert status == {"bot_id": bot["bot_id"], "status": "ended", "bot_status": "Stopped",
                      "reason": "left_by_request"}
    again = scene.api.get(f"/api/v1/bots/{bot['bot_id']}/remove_bot")
    assert again.status_code == 200 and again.json()["status"] == "ended", "leaving twice is harmless"
    history = scene.api.get(f"/api/v1/bots/{bot['bot_id']}/detail").json()["status_history"]
    assert [e["status"] for e in history] == ["queued", "ended"]


def test_other_accounts_cannot_see_or_stop_a_bot(scene: Scene):
    bot = scene.hosted_bot()
    other = make_customer(scene.stack, name="other")
    for method, path in (("get", "/status"), ("get", "/detail"), ("get", "/remove_bot"), ("post", "/leave")):
        assert_error(other.api.request(method.upper(), f"/api/v1/bots/{bot['bot_id']}{path}"), 404,
                     "bot_not_found")
    assert other.api.get("/api/v1/bots").json() == {"bots": [], "next_cursor": None}
    assert scene.api.get(f"/api/v1/bots/{bot['bot_id']}").json()["status"] == "queued"


def test_a_page_of_bots_costs_the_same_queries_however_many_it_holds(scene: Scene):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    def page_queries() -> int:
        statements.clear()
        event.listen(Engine, "before_cursor_execute", count)
        try:
            assert scene.api.get("/api/v1/bots", params={"limit": 50}).status_code == 200
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        return len(statements)

    for _ in range(2):
        scene.hosted_bot()
    few = page_queries()
    for _ in range(8):
        scene.hosted_bot()
    assert page_queries() == few, "no query per bot on a page"
