"""A link's secret (its URLs' key), Attendee's platform_secret and every token a link mints appear
in no answer after the creation's, no log line (a real serve's access log included), no error and
no database row in plain text."""

from __future__ import annotations

import asyncio
import json
import shutil
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support import platform_bots as bots
from tests.support.databases import TEST_KEY
from tests.support.http import http_get
from tests.support.processes import free_port, running
from tests.support.secrets_at_rest import dump_and_decrypt
from tests.support.stack import Stack, make_settings
from tests.support.token_links import LINKS, LinkScene, attendee_secret, link_scene


def key_of(link: dict) -> str:
    (key,) = {parse_qs(urlsplit(url).query)["key"][0] for url in link["urls"].values()}
    return key


def test_no_answer_log_or_row_holds_a_link_secret_or_a_minted_token(links: LinkScene, captured_logs):
    platform_secret = attendee_secret()
    recall = links.create(platform="recall", meeting_link=links.meeting.join_url)
    attendee = links.create(platform="attendee", platform_secret=platform_secret)
    keys = {key_of(recall), key_of(attendee)}
    answers: list[httpx.Response] = []
    tokens = [bots.recall(links.url(recall, kind)) for kind in ("obf", "zak", "join_token")]
    got = bots.attendee(links.url(attendee, "tokens"), secret_b64=platform_secret, bot_id="b",
                        meeting_url=links.meeting.join_url)
    tokens += [token for token in got.values() if token]
    base = links.url(recall, "obf").split("?")[0]
    for key in keys:
        # Refused calls carrying (parts of) a real key, and the key sent where it does not belong.
        answers.append(http_get(f"{base}?key={key[:-2]}"))
        answers.append(http_get(base, headers={"Authorization": f"Token {key}"}))
        answers.append(http_get(f"{base}?key={key}&meeting_id={links.bobs_meeting.number}"))
    answers.append(bots.attendee_request(links.url(attendee, "tokens"), secret_b64=platform_secret,
                                         bot_id="b", meeting_url=links.meeting.join_url, tamper=True))
    answers += [links.api.get(LINKS), links.api.get(f"{LINKS}/{recall['id']}"),
                links.api.get(f"{LINKS}/{attendee['id']}/uses"), links.api.delete(f"{LINKS}/{recall['id']}")]
    answers.append(http_get(links.url(recall, "obf")))  # revoked now
    dump, sealed = asyncio.run(dump_and_decrypt(links.stack))
    assert platform_secret in sealed, "kept, but only sealed"
    texts = [a.text + json.dumps(dict(a.headers)) for a in answers]
    logs = "\n".join(captured_logs.lines)
    for secret in [*keys, platform_secret, *tokens]:
        assert all(secret not in text for text in texts), "in an answer"
        assert secret not in logs, "in a log line"
        assert secret not in dump, "in the database"
    assert len(tokens) == 5 and all(a.status_code >= 400 for a in answers[:7])


def test_serves_access_log_redacts_the_links_key(tmp_path, migrated_templates, sim):
    database = tmp_path / "serve.db"
    shutil.copyfile(migrated_templates["sqlite"], database)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"OBFBROKER_DATABASE_URL": f"sqlite:///{database}", "OBFBROKER_ENCRYPTION_KEYS": TEST_KEY,
           "OBFBROKER_ZOOM_OAUTH_URL": sim.url, "OBFBROKER_ZOOM_API_URL": f"{sim.url}/v2",
           "OBFBROKER_PUBLIC_URL": url, "OBFBROKER_LOG_LEVEL": "INFO", "OBFBROKER_SERVE_WORKERS": "1"}
    with running("serve", "--no-migrate", "--port", str(port), env=env, ready_url=f"{url}/readyz") as serve:
        settings = make_settings(f"sqlite:///{database}", sim, public_url=url)
        stack = Stack(url=url, settings=settings, sim=sim)
        scene = link_scene(stack)
        link = scene.create(platform="recall", meeting_link=scene.meeting.join_url)
        token = bots.recall(link["urls"]["obf"])
        assert http_get(link["urls"]["zak"].replace("key=", "key=x")).status_code == 401
        scene.api.close()
    text = serve.stderr.read().decode()
    assert key_of(link) not in text and token not in text
    calls = [json.loads(line)["msg"] for line in text.splitlines()
             if line.startswith("{") and f"/token-links/{link['id']}/" in line]
    assert len(calls) == 2 and all("key=[redacted]" in line for line in calls), calls
