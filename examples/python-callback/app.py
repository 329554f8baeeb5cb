#!/usr/bin/env python3
"""The customer side of the obfbroker guide, as a small web app you can copy.

Your product (this app) keeps its own end-users in its own database. For each end-user it:

1. starts Zoom's OAuth flow: asks obfbroker for an authorize URL with ``state=<end-user id>``
   and sends the browser there (``GET /users/{id}/connect``);
2. receives Zoom's redirect at ``/zoom/oauth/callback?code=...&state=...``, calls obfbroker's
   connection-create with the *exact same* redirect URI, and saves the returned
   ``zoom_user_id`` against the end-user;
3. sends bots to that end-user's meetings with ``use_zoom_obf=true`` and that
   ``zoom_user_id``, and shows each bot's status as it changes.

Run it:  OBFBROKER_API_KEY=obf_live_... python examples/python-callback/app.py [--host H] [--port P]

Settings (environment):
  OBFBROKER_API_URL     obfbroker's base URL (default http://127.0.0.1:8000)
  OBFBROKER_API_KEY     your obfbroker API key (required)
  EXAMPLE_REDIRECT_URI  this app's OAuth callback URL, registered on the Zoom app
                        (default http://127.0.0.1:<port>/zoom/oauth/callback, port 5005)
  EXAMPLE_DB            this app's SQLite file (default ./var/example-callback.db)

Only the standard library, Starlette/uvicorn (installed with obfbroker) and the obfbroker
client (``obfbroker_client``: ``pip install ./clients/python``) are used; there is no build step.
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from obfbroker_client import AsyncObfBrokerClient, Bot, ObfBrokerError, TransportError

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_PORT = 5005
DEFAULT_DB = "./var/example-callback.db"
CALLBACK_PATH = "/zoom/oauth/callback"


# --- this app's own database: end-users and the bots sent for them -------------------------

@dataclass(frozen=True)
class EndUser:
    id: int
    name: str
    zoom_user_id: str | None


class Store:
    """End-users (id, name, zoom_user_id) and the bots created for them, in SQLite."""

    def __init__(self, path: str) -> None:
        self.path = path
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.executescript("""
                CREATE TABLE IF NOT EXISTS end_users (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    zoom_user_id TEXT
                );
                CREATE TABLE IF NOT EXISTS bots (
                    bot_id TEXT PRIMARY KEY,
                    end_user_id INTEGER NOT NULL REFERENCES end_users(id),
                    meeting_link TEXT NOT NULL,
                    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
                );
            """)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(Path(self.path).expanduser(), timeout=10)
        db.row_factory = sqlite3.Row
        return db

    def users(self) -> list[EndUser]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT id, name, zoom_user_id FROM end_users ORDER BY id").fetchall()
        return [EndUser(row["id"], row["name"], row["zoom_user_id"]) for row in rows]

    def user(self, user_id: Any) -> EndUser | None:
        try:
            key = int(str(user_id))
        except ValueError:
            return None
        with closing(self._connect()) as db:
            row = db.execute("SELECT id, name, zoom_user_id FROM end_users WHERE id = ?", (key,)).fetchone()
        return EndUser(row["id"], row["name"], row["zoom_user_id"]) if row else None

    def add_user(self, name: str) -> int:
        with closing(self._connect()) as db, db:
            return int(db.execute("INSERT INTO end_users (name) VALUES (?)", (name,)).lastrowid or 0)

    def save_zoom_user_id(self, user_id: int, zoom_user_id: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("UPDATE end_users SET zoom_user_id = ? WHERE id = ?", (zoom_user_id, user_id))

    def add_bot(self, bot_id: str, user_id: int, meeting_link: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("INSERT OR IGNORE INTO bots (bot_id, end_user_id, meeting_link) VALUES (?, ?, ?)",
                       (bot_id, user_id, meeting_link))

    def bots_of(self, user_id: int) -> list[sqlite3.Row]:
        with closing(self._connect()) as db:
            return db.execute("SELECT bot_id, meeting_link, created_at FROM bots WHERE end_user_id = ? "
                              "ORDER BY created_at DESC, rowid DESC", (user_id,)).fetchall()

    def owner_of(self, bot_id: str) -> EndUser | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT end_user_id FROM bots WHERE bot_id = ?", (bot_id,)).fetchone()
        return self.user(row["end_user_id"]) if row else None


# --- HTML -----------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1d1d1f; }
a { color: #0b57d0; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; }
form { margin: 1rem 0; }
label { display: block; font-weight: 600; margin-top: .6rem; }
input[type=text], input[type=url] { width: 100%; max-width: 32rem; padding: .4rem; font-size: 1rem; }
button { margin-top: .8rem; padding: .5rem 1rem; font-size: 1rem; cursor: pointer; }
.error { border: 2px solid #b3261e; background: #fdecea; padding: .8rem 1rem; border-radius: 6px; }
.ok { border: 2px solid #1e7e34; background: #eaf6ec; padding: .8rem 1rem; border-radius: 6px; }
.status { font-size: 1.3rem; font-weight: 700; }
code { background: #f2f2f2; padding: 0 .2rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, *, status: int = 200, refresh_seconds: int | None = None) -> HTMLResponse:
    refresh = f'<meta http-equiv="refresh" content="{refresh_seconds}">' if refresh_seconds else ""
    return HTMLResponse(f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{refresh}
<title>{esc(title)} - Example product</title>
<style>{STYLE}</style>
</head>
<body>
<header><p><a href="/">Example product: end-users</a></p></header>
<main>
<h1>{esc(title)}</h1>
{body}
</main>
</body>
</html>
""", status_code=status, headers={"Cache-Control": "no-store"})


def error_page(title: str, message: str, *, status: int = 400, back: str = "/",
               hint: str | None = None) -> HTMLResponse:
    hint_html = f"<p>{esc(hint)}</p>" if hint else ""
    return page(title, f"""<div class="error" role="alert">
<p>{esc(message)}</p>
{hint_html}
</div>
<p><a href="{esc(back)}">Go back</a></p>""", status=status)


HINTS = {
    "invalid_api_key": "Check OBFBROKER_API_KEY: it must be an API key of your obfbroker account.",
    "missing_api_key": "Set OBFBROKER_API_KEY to an API key of your obfbroker account.",
    "zoom_app_not_configured": "Store your Zoom app's credentials first: PUT /api/v1/zoom/oauth/app.",
    "invalid_redirect_uri": "Fix EXAMPLE_REDIRECT_URI (https, or http only for localhost / 127.0.0.1).",
    "zoom_user_disconnected": "This end-user's Zoom connection no longer works: click Connect Zoom again.",
    "zoom_user_not_connected": "This end-user has not connected Zoom under this API key: click Connect Zoom.",
    "no_zoom_users_connected": "No end-user has connected Zoom yet: click Connect Zoom first.",
}


def api_error_page(action: str, exc: ObfBrokerError, *, redirect_uri: str, back: str = "/") -> HTMLResponse:
    """A readable page for a failed obfbroker call: its detail and code, never the API key."""
    if isinstance(exc, TransportError):
        body = f"""<div class="error" role="alert">
<p>Could not {esc(action)}: obfbroker did not answer.</p>
<p>{esc(exc.detail)}</p>
<p>Check that obfbroker is running and that OBFBROKER_API_URL points at it.</p>
</div>"""
        body += f'<p><a href="{esc(back)}">Go back</a></p>'
        return page("obfbroker is unreachable", body, status=502)
    hint = HINTS.get(exc.code)
    if exc.code in ("redirect_uri_mismatch", "zoom_code_rejected"):
        hint = (f"This app's redirect URI is {redirect_uri}. The same string must be registered on the "
                "Zoom app and sent to authorize-url and connection-create, byte for byte. Zoom codes are "
                "single-use and expire 5 minutes after consent: click Connect Zoom to start again.")
    retry = (f"<p>You can try again in {exc.retry_after:g} seconds.</p>"
             if exc.retry_after is not None else "")
    body = f"""<div class="error" role="alert">
<p>Could not {esc(action)}. obfbroker answered <strong>{esc(exc.status)}</strong>:</p>
<p><q>{esc(exc.detail)}</q></p>
<p>Error code: <code>{esc(exc.code)}</code></p>
{f"<p>{esc(hint)}</p>" if hint else ""}
{retry}
</div>
<p><a href="{esc(back)}">Go back</a></p>"""
    # 4xx answers are about this request; anything else is obfbroker or Zoom failing us.
    status = exc.status if exc.status in (400, 404, 409) else 502
    return page("Something went wrong", body, status=status)


def bot_table(rows: list[sqlite3.Row]) -> str:
    if not rows:
        return "<p>No bots sent yet.</p>"
    items = "".join(f'<tr><td><a href="/bots/{esc(r["bot_id"])}">{esc(r["bot_id"])}</a></td>'
                    f'<td>{esc(r["meeting_link"])}</td><td>{esc(r["created_at"])} UTC</td></tr>'
                    for r in rows)
    return ('<table><caption class="visually-hidden">Bots sent for this end-user</caption>'
            '<thead><tr><th scope="col">Bot</th><th scope="col">Meeting</th><th scope="col">Created</th>'
            f"</tr></thead><tbody>{items}</tbody></table>")


# --- the app --------------------------------------------------------------------------------

def create_app(api_url: str, api_key: str, redirect_uri: str, db_path: str) -> Starlette:
    """The example web app. ``redirect_uri`` must be this app's ``/zoom/oauth/callback`` URL as
    registered, byte for byte, on the Zoom app."""
    store = Store(db_path)
    obf = AsyncObfBrokerClient(api_url, api_key)

    async def home(request: Request) -> Response:
        rows = "".join(
            f'<tr><td>{u.id}</td><td><a href="/users/{u.id}">{esc(u.name)}</a></td>'
            f"<td>{f'<code>{esc(u.zoom_user_id)}</code>' if u.zoom_user_id else 'not connected'}</td></tr>"
            for u in store.users())
        table = ('<table><thead><tr><th scope="col">Id</th><th scope="col">Name</th>'
                 f'<th scope="col">Zoom user id</th></tr></thead><tbody>{rows}</tbody></table>'
                 if rows else "<p>No end-users yet: add one below.</p>")
        return page("End-users", f"""{table}
<h2>Add an end-user</h2>
<form method="post" action="/users">
  <label for="name">Name</label>
  <input type="text" id="name" name="name" required maxlength="100" autocomplete="off">
  <button type="submit">Add end-user</button>
</form>
<p>This app's OAuth redirect URI: <code>{esc(redirect_uri)}</code></p>""")

    async def add_user(request: Request) -> Response:
        form = await request.form()
        name = str(form.get("name") or "").strip()
        if not name or len(name) > 100:
            return error_page("Could not add the end-user", "Give the end-user a name (1 to 100 characters).")
        return RedirectResponse(f"/users/{store.add_user(name)}", status_code=303)

    async def show_user(request: Request) -> Response:
        user = store.user(request.path_params["user_id"])
        if user is None:
            return error_page("No such end-user", "This end-user does not exist.", status=404)
        notice = ""
        if request.query_params.get("connected"):
            notice = '<p class="ok" role="status">Zoom is connected for this end-user.</p>'
        if user.zoom_user_id is None:
            zoom = "<p>Zoom is <strong>not connected</strong> for this end-user yet.</p>"
            connect_label = "Connect Zoom"
        else:
            zoom = await connection_summary(user.zoom_user_id)
            connect_label = "Connect Zoom again"
        bot_form = ""
        if user.zoom_user_id is not None:
            bot_form = f"""<h2>Send a bot to my meeting</h2>
<form method="post" action="/users/{user.id}/bots">
  <label for="meeting_link">Zoom meeting link</label>
  <input type="url" id="meeting_link" name="meeting_link" required
         placeholder="https://zoom.us/j/123456789?pwd=..." aria-describedby="meeting-help">
  <p id="meeting-help">The bot joins on behalf of {esc(user.name)}; Zoom admits it while
  {esc(user.name)} is in the meeting.</p>
  <label for="bot_name">Bot name</label>
  <input type="text" id="bot_name" name="bot_name" value="Notetaker" maxlength="100">
  <button type="submit">Send a bot to my meeting</button>
</form>"""
        return page(user.name, f"""{notice}
<p>End-user id: <code>{user.id}</code></p>
<h2>Zoom</h2>
{zoom}
<form method="get" action="/users/{user.id}/connect">
  <button type="submit">{connect_label}</button>
</form>
{bot_form}
<h2>Bots</h2>
{bot_table(store.bots_of(user.id))}""")

    async def connection_summary(zoom_user_id: str) -> str:
        try:
            conn = await obf.get_connection(zoom_user_id)
        except ObfBrokerError as exc:
            return (f"<p>Zoom user id <code>{esc(zoom_user_id)}</code>.</p>"
                    f'<p class="error" role="alert">Could not read the connection from obfbroker: '
                    f"{esc(exc.detail)} (<code>{esc(exc.code)}</code>)</p>")
        state = ("connected" if conn.connected else
                 f"disconnected ({conn.disconnected_reason or 'no valid refresh token'})")
        hint = f"<p>{esc(conn.reconnect_hint)}</p>" if conn.reconnect_hint else ""
        return (f"<p>Connected Zoom user <strong>{esc(conn.display_name)}</strong> ({esc(conn.email)}), "
                f"Zoom user id <code>{esc(conn.zoom_user_id)}</code>.</p>"
                f"<p>Connection state: <strong>{esc(state)}</strong>.</p>{hint}")

    async def connect(request: Request) -> Response:
        """Guide, Step 2.1: authorize-url with our redirect URI and state=<end-user id>."""
        user = store.user(request.path_params["user_id"])
        if user is None:
            return error_page("No such end-user", "This end-user does not exist.", status=404)
        try:
            url = await obf.authorize_url(redirect_uri, state=str(user.id))
        except ObfBrokerError as exc:
            return api_error_page("start connecting Zoom", exc, redirect_uri=redirect_uri,
                                  back=f"/users/{user.id}")
        return RedirectResponse(url, status_code=302)

    async def oauth_callback(request: Request) -> Response:
        """Guide, Step 2.3: Zoom sent the browser back with ?code&state; complete the connection."""
        query = request.query_params
        state = query.get("state", "")
        user = store.user(state) if state else None
        back = f"/users/{user.id}" if user else "/"
        if "error" in query:
            if query["error"] == "access_denied":
                return error_page("Zoom was not connected",
                                  "The Zoom authorization was declined (Zoom answered access_denied), so no "
                                  "connection was made. Click Connect Zoom to try again.", back=back)
            return error_page("Zoom was not connected", f"Zoom answered an error: {query['error']}.",
                              back=back)
        if user is None:
            return error_page("Unknown end-user",
                              "The state Zoom sent back does not name an end-user of this app. Start again "
                              "from the end-user's page with Connect Zoom.")
        code = query.get("code", "")
        if not code:
            return error_page("Zoom was not connected", "Zoom's redirect carried no authorization code.",
                              back=back)
        try:
            # The exact same redirect URI as at authorize-url. Safe to retry: obfbroker answers the
            # same connection for the same code and redirect_uri within 10 minutes.
            connection = await obf.create_connection(code, redirect_uri,
                                                     metadata={"tenant_user_id": str(user.id)})
        except ObfBrokerError as exc:
            return api_error_page("connect Zoom", exc, redirect_uri=redirect_uri, back=back)
        store.save_zoom_user_id(user.id, connection.zoom_user_id)
        return RedirectResponse(f"/users/{user.id}?connected=1", status_code=303)

    async def send_bot(request: Request) -> Response:
        """Guide, Step 3: create_bot with use_zoom_obf=true and this end-user's zoom_user_id."""
        user = store.user(request.path_params["user_id"])
        if user is None:
            return error_page("No such end-user", "This end-user does not exist.", status=404)
        back = f"/users/{user.id}"
        if user.zoom_user_id is None:
            return error_page("Connect Zoom first",
                              f"{user.name} has not connected Zoom yet: click Connect Zoom.", back=back)
        form = await request.form()
        meeting_link = str(form.get("meeting_link") or "").strip()
        bot_name = str(form.get("bot_name") or "").strip() or None
        if not meeting_link:
            return error_page("Could not send the bot", "Enter the Zoom meeting link.", back=back)
        try:
            bot = await obf.create_bot(meeting_link, bot_name=bot_name, use_zoom_obf=True,
                                       zoom_oauth_connection_user_id=user.zoom_user_id,
                                       custom_attributes={"tenant_user_id": str(user.id)})
        except ObfBrokerError as exc:
            # Not retried automatically: after a lost answer the bot may exist already.
            return api_error_page("send the bot", exc, redirect_uri=redirect_uri, back=back)
        store.add_bot(bot.bot_id, user.id, meeting_link)
        return RedirectResponse(f"/bots/{bot.bot_id}", status_code=303)

    async def show_bot(request: Request) -> Response:
        bot_id = request.path_params["bot_id"]
        owner = store.owner_of(bot_id)
        back = f"/users/{owner.id}" if owner else "/"
        try:
            bot = await obf.get_bot(bot_id)
        except ObfBrokerError as exc:
            return api_error_page("read the bot", exc, redirect_uri=redirect_uri, back=back)
        return page(f"Bot {bot.bot_id}", bot_body(bot, owner), refresh_seconds=None if bot.finished else 2)

    def bot_body(bot: Bot, owner: EndUser | None) -> str:
        timeline = "".join(
            f"<tr><td>{esc(e.at.strftime('%Y-%m-%d %H:%M:%S'))} UTC</td><td>{esc(e.status)}</td>"
            f"<td>{esc(e.reason or '')}</td></tr>" for e in bot.status_history)
        reason = f" ({esc(bot.reason)})" if bot.reason else ""
        refresh_note = ("" if bot.finished else
                        "<p>This page refreshes every 2 seconds until the bot has ended or failed.</p>")
        leave = ("" if bot.finished else f"""<form method="post" action="/bots/{esc(bot.bot_id)}/leave">
  <button type="submit">Ask the bot to leave</button>
</form>""")
        owner_html = (f'<a href="/users/{owner.id}">{esc(owner.name)}</a>' if owner
                      else "an end-user of another app")
        return f"""<p class="status" role="status" aria-live="polite">Status: {esc(bot.status)}{reason}</p>
{refresh_note}
<dl>
  <dt>Acting for</dt><dd>{owner_html} (Zoom user id
      <code>{esc(bot.zoom_oauth_connection_user_id or '-')}</code>)</dd>
  <dt>Meeting</dt><dd>{esc(bot.meeting_link)}</dd>
  <dt>Bot name</dt><dd>{esc(bot.bot_name)}</dd>
</dl>
<h2>Timeline</h2>
<table><thead><tr><th scope="col">When</th><th scope="col">Status</th><th scope="col">Reason</th></tr>
</thead><tbody>{timeline}</tbody></table>
{leave}"""

    async def leave_bot(request: Request) -> Response:
        bot_id = request.path_params["bot_id"]
        try:
            await obf.leave_bot(bot_id)
        except ObfBrokerError as exc:
            return api_error_page("ask the bot to leave", exc, redirect_uri=redirect_uri,
                                  back=f"/bots/{bot_id}")
        return RedirectResponse(f"/bots/{bot_id}", status_code=303)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await obf.aclose()

    app = Starlette(routes=[
        Route("/", home),
        Route("/users", add_user, methods=["POST"]),
        Route("/users/{user_id}", show_user),
        Route("/users/{user_id}/connect", connect),
        Route("/users/{user_id}/bots", send_bot, methods=["POST"]),
        Route(CALLBACK_PATH, oauth_callback),
        Route("/bots/{bot_id}", show_bot),
        Route("/bots/{bot_id}/leave", leave_bot, methods=["POST"]),
        Route("/healthz", healthz),
    ], lifespan=lifespan)
    app.state.store = store
    app.state.redirect_uri = redirect_uri
    return app


class WithoutQueryString(logging.Filter):
    """Zoom's redirect brings the OAuth code in the query string (/zoom/oauth/callback?code=...):
    log the path only. A code is a credential for ten minutes; keep it out of every log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5:  # uvicorn's access-log line
            client, method, path, version, status = record.args
            record.args = (client, method, str(path).split("?", 1)[0], version, status)
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="obfbroker example: the customer's OAuth callback app")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    args = parser.parse_args(argv)
    api_key = os.environ.get("OBFBROKER_API_KEY", "").strip()
    if not api_key:
        print("OBFBROKER_API_KEY is required: set it to your obfbroker account's API key "
              "(obfbroker accounts create --name NAME prints one).", file=sys.stderr)
        return 2
    api_url = os.environ.get("OBFBROKER_API_URL", "").strip() or DEFAULT_API_URL
    redirect_uri = (os.environ.get("EXAMPLE_REDIRECT_URI", "").strip()
                    or f"http://127.0.0.1:{args.port}{CALLBACK_PATH}")
    db_path = os.environ.get("EXAMPLE_DB", "").strip() or DEFAULT_DB
    app = create_app(api_url, api_key, redirect_uri, db_path)

    import uvicorn

    print(f"Example callback app on http://{args.host}:{args.port}\n"
          f"  obfbroker API: {api_url}\n"
          f"  redirect URI:  {redirect_uri}  (register exactly this on the Zoom app)\n"
          f"  database:      {db_path}", flush=True)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="info")
    # After Config, which sets up uvicorn's loggers: access-log lines without their query string.
    logging.getLogger("uvicorn.access").addFilter(WithoutQueryString())
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
