"""Joins meetings on the Zoom simulator over HTTP; the simulator enforces Zoom's OBF rules."""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from obfbroker.runner.adapters.base import EndReason, JoinRefusal, JoinRefused, JoinRequest
from obfbroker.tls import client_context

# The simulator's SDK-style errors -> our refusal codes.
REFUSALS = {
    "AUTHORIZED_USER_NOT_INMEETING": JoinRefusal.AUTHORIZED_USER_NOT_IN_MEETING,
    "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID": JoinRefusal.OBF_TOKEN_INVALID,
    "MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING": JoinRefusal.OBF_TOKEN_NOT_MATCH_MEETING,
    "MEETING_FAIL_ZAK_TOKEN_INVALID": JoinRefusal.ZAK_TOKEN_INVALID,
    "MEETING_NOT_FOUND": JoinRefusal.MEETING_NOT_FOUND,
    "MEETING_FAIL_MEETING_OVER": JoinRefusal.MEETING_ENDED,
    "WRONG_PASSCODE": JoinRefusal.WRONG_PASSCODE,
    "JWT_INVALID": JoinRefusal.SDK_AUTH_FAILED,
}
# The simulator's end reasons (Zoom's names) -> ours.
SIM_END_REASONS = {
    "DueToAuthorizedUserLeave": EndReason.AUTHORIZING_USER_LEFT,
    "MeetingEnded": EndReason.MEETING_ENDED,
    "LeftByBot": EndReason.LEFT,
    "KickByHost": EndReason.REMOVED,
}
LONG_POLL_SECONDS = 25


class ZoomsimSession:
    def __init__(self, client: ZoomsimClient, meeting_number: str, sim_bot_id: str) -> None:
        self.client, self.meeting_number, self.session_id = client, meeting_number, sim_bot_id
        self._path = f"/_sim/meetings/{meeting_number}/bots/{sim_bot_id}"

    async def wait_end(self) -> str:
        while True:
            try:
                response = await self.client.http.get(self._path, params={"wait": LONG_POLL_SECONDS},
                                                      timeout=LONG_POLL_SECONDS + 10)
            except httpx.HTTPError:
                await asyncio.sleep(1)  # the simulator restarting or slow: keep watching
                continue
            if response.status_code == 404:
                return "removed"
            bot = response.json()
            if bot.get("state") != "in_meeting":
                return SIM_END_REASONS.get(bot.get("end_reason") or "", EndReason.REMOVED)

    async def leave(self) -> None:
        with contextlib.suppress(httpx.HTTPError):
            await self.client.http.delete(self._path)


class ZoomsimClient:
    """The ``zoomsim`` meeting adapter (``OBFBROKER_MEETING_ADAPTER=zoomsim``)."""

    name = "zoomsim"

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=15, verify=client_context())

    async def join(self, request: JoinRequest) -> ZoomsimSession:
        body = {"bot_name": request.bot_name, "sdk_jwt": request.sdk_jwt, "passcode": request.passcode}
        if request.obf_token:
            body["obf_token"] = request.obf_token
        if request.zak_token:
            body["zak_token"] = request.zak_token
        try:
            response = await self.http.post(f"/_sim/meetings/{request.meeting_number}/bots", json=body)
        except httpx.HTTPError as err:
            raise JoinRefused(JoinRefusal.NETWORK_ERROR, f"simulator unreachable ({type(err).__name__})",
                              retryable=True) from None
        if response.status_code == 201:
            return ZoomsimSession(self, request.meeting_number, response.json()["bot_id"])
        try:
            error = response.json().get("error", "")
        except ValueError:
            error = ""
        if response.status_code >= 500 or not error:
            raise JoinRefused(JoinRefusal.NETWORK_ERROR,
                              f"simulator answered {response.status_code}", retryable=True)
        code = REFUSALS.get(error, JoinRefusal.JOIN_FAILED)
        if error == "MEETING_FAIL_UNKNOWN" and request.obf_token:
            code = JoinRefusal.AUTHORIZED_USER_NOT_IN_MEETING  # 65535: how the SDK sometimes says it
        raise JoinRefused(code, f"the meeting refused the bot ({error})",
                          retryable=code == JoinRefusal.AUTHORIZED_USER_NOT_IN_MEETING, sdk_error=error)

    async def abandon(self, meeting_number: str, session_id: str) -> None:
        """Take out a bot a crashed worker left behind (best effort)."""
        await ZoomsimSession(self, meeting_number, session_id).leave()

    async def aclose(self) -> None:
        await self.http.aclose()
