"""The zoom_sdk adapter: mappings, join parameters, a clean refusal without the SDK, and (when the
``zoom-meeting-sdk`` package loads here) the real SDK initialising and failing auth cleanly offline.

Anything that loads the native SDK runs in a child process (its threads, Qt and exit-time noise stay
out of pytest) with HOME in a temporary directory (the SDK writes ~/.zoomsdk) and a hard timeout.
"""

from __future__ import annotations

import asyncio
import ctypes
import enum
import json
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from obfbroker.runner.adapters.base import (
    END_REASONS,
    JOIN_REFUSAL_CODES,
    RETRYABLE_CODES,
    JoinRefused,
    JoinRequest,
    MeetingClient,
)
from obfbroker.runner.adapters.zoom_sdk import (
    AUTH_RESULT_CODES,
    END_REASON_CODES,
    JOIN_CALL_CODES,
    MEETING_FAIL_CODES,
    ZoomSdkClient,
    build_join_param,
    end_reason_for,
    join_progress,
    refusal_for_auth_result,
    refusal_for_fail_code,
)

SDK_MODULE = "zoom_meeting_sdk"


def request(**overrides) -> JoinRequest:
    fields = {"bot_id": "bot_1", "meeting_number": "85746065432", "passcode": "pa55-SECRET",
              "bot_name": "Notetaker", "sdk_jwt": "eyJ.SECRET-JWT.sig", "obf_token": "OBF-SECRET-TOKEN"}
    fields.update(overrides)
    return JoinRequest(**fields)


def run_child(script: str, home: Path, timeout: float = 90) -> subprocess.CompletedProcess:
    """Run a Python script in a child process; fail (never hang) if it outlives ``timeout``."""
    env = {**os.environ, "HOME": str(home)}
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                              text=True, errors="replace", env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"child process still running after {timeout} s:\n{exc.stdout}\n{exc.stderr}")


def result_line(completed: subprocess.CompletedProcess) -> dict:
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    pytest.fail(f"no RESULT line (exit {completed.returncode}):\n{completed.stdout[-3000:]}\n"
                f"{completed.stderr[-3000:]}")


# --- the interface ---------------------------------------------------------------------------------

def test_join_request_repr_redacts_secrets():
    text = repr(request(zak_token="ZAK-SECRET"))
    assert "SECRET" not in text
    assert "bot_1" in text and "85746065432" in text and "Notetaker" in text
    assert "passcode=None" in repr(request(passcode=None))


def test_join_refused_carries_code_retryability_and_sdk_error():
    refused = JoinRefused("network_error", "Zoom unreachable", retryable=True,
                          sdk_error="AUTHRET_NETWORKISSUE")
    assert (refused.code, refused.retryable, refused.sdk_error, str(refused)) == (
        "network_error", True, "AUTHRET_NETWORKISSUE", "Zoom unreachable")
    assert JoinRefused("join_failed", "x").retryable is False


def test_client_implements_the_interface():
    client = ZoomSdkClient()
    assert isinstance(client, MeetingClient)
    assert client.name == "zoom_sdk"


# --- mappings ---------------------------------------------------------------------------------------

def test_obf_failures_map_to_our_codes():
    codes = MEETING_FAIL_CODES
    assert codes["MEETING_FAIL_AUTHORIZED_USER_NOT_INMEETING"] == "authorized_user_not_in_meeting"
    assert codes["MEETING_FAIL_ON_BEHALF_TOKEN_INVALID"] == "obf_token_invalid"
    assert codes["MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING"] == "obf_token_not_match_meeting"
    assert codes["MEETING_FAIL_ON_BEHALF_TOKEN_CONFLICT_LOGIN_ERROR"] == "obf_token_invalid"
    assert codes["MEETING_FAIL_USER_LEVEL_TOKEN_NOT_HAVE_HOST_ZAK_OBF"] == "obf_token_invalid"
    assert codes["MEETING_FAIL_PASSWORD_ERR"] == "wrong_passcode"
    assert codes["MEETING_FAIL_MEETING_NOT_EXIST"] == "meeting_not_found"


def test_meetings_that_keep_the_bot_out_are_denied_without_retry():
    for name in ("MEETING_FAIL_BLOCKED_BY_ACCOUNT_ADMIN", "MEETING_FAIL_HOST_DISALLOW_OUTSIDE_USER_JOIN",
                 "MEETING_FAIL_CONFLOCKED", "MEETING_FAIL_MEETING_RESTRICTED"):
        refused = refusal_for_fail_code(name)
        assert (refused.code, refused.retryable, refused.sdk_error) == ("join_denied", False, name)


def test_end_reasons_map_to_our_codes():
    assert END_REASON_CODES["EndMeetingReason_DueToAuthorizedUserLeave"] == "authorizing_user_left"
    assert END_REASON_CODES["EndMeetingReason_KickByHost"] == "removed"
    assert END_REASON_CODES["EndMeetingReason_EndByHost"] == "meeting_ended"


def test_every_mapping_targets_a_known_code():
    refusal_targets = {*MEETING_FAIL_CODES.values(), *AUTH_RESULT_CODES.values(), *JOIN_CALL_CODES.values()}
    assert refusal_targets <= JOIN_REFUSAL_CODES
    assert set(END_REASON_CODES.values()) <= END_REASONS
    assert RETRYABLE_CODES <= JOIN_REFUSAL_CODES


def test_refusals_are_retryable_only_when_a_new_attempt_can_help():
    not_in = refusal_for_fail_code("MEETING_FAIL_AUTHORIZED_USER_NOT_INMEETING")
    assert (not_in.code, not_in.retryable, not_in.sdk_error) == (
        "authorized_user_not_in_meeting", True, "MEETING_FAIL_AUTHORIZED_USER_NOT_INMEETING")
    invalid = refusal_for_fail_code("MEETING_FAIL_ON_BEHALF_TOKEN_INVALID")
    assert (invalid.code, invalid.retryable) == ("obf_token_invalid", False)
    assert refusal_for_fail_code("MEETING_FAIL_CONNECTION_ERR").retryable is True
    unknown = refusal_for_fail_code("MEETING_FAIL_SOMETHING_NEW")
    assert (unknown.code, unknown.retryable, unknown.sdk_error) == ("join_failed", False,
                                                                    "MEETING_FAIL_SOMETHING_NEW")


def test_token_failures_name_the_zak_when_only_a_zak_was_sent():
    zak = refusal_for_fail_code("MEETING_FAIL_ON_BEHALF_TOKEN_INVALID", zak_only=True)
    assert zak.code == "zak_token_invalid"
    assert refusal_for_fail_code("MEETING_FAIL_PASSWORD_ERR", zak_only=True).code == "wrong_passcode"


def test_auth_results():
    assert refusal_for_auth_result("AUTHRET_SUCCESS") is None
    network = refusal_for_auth_result("AUTHRET_NETWORKISSUE")
    assert (network.code, network.retryable) == ("network_error", True)
    wrong = refusal_for_auth_result("AUTHRET_JWTTOKENWRONG")
    assert (wrong.code, wrong.retryable, wrong.sdk_error) == (
        "sdk_auth_failed", False, "AUTHRET_JWTTOKENWRONG")
    assert refusal_for_auth_result("AUTHRET_UNKNOWN").code == "sdk_auth_failed"


def test_join_progress():
    assert join_progress("MEETING_STATUS_CONNECTING", None) is False
    assert join_progress("MEETING_STATUS_IN_WAITING_ROOM", None) is False
    assert join_progress("MEETING_STATUS_INMEETING", None) is True
    failed = join_progress("MEETING_STATUS_FAILED", "MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING")
    assert isinstance(failed, JoinRefused) and failed.code == "obf_token_not_match_meeting"
    ended = join_progress("MEETING_STATUS_ENDED", "EndMeetingReason_EndByHost")
    assert isinstance(ended, JoinRefused) and (ended.code, ended.retryable) == ("meeting_ended", False)


def test_65535_is_the_authorizing_user_away_for_an_obf_join_only():
    obf = refusal_for_fail_code("MEETING_FAIL_UNKNOWN", obf=True)
    assert (obf.code, obf.retryable, obf.sdk_error) == ("authorized_user_not_in_meeting", True,
                                                         "MEETING_FAIL_UNKNOWN")
    assert refusal_for_fail_code("MEETING_FAIL_UNKNOWN").code == "join_failed"
    failed = join_progress("MEETING_STATUS_FAILED", "MEETING_FAIL_UNKNOWN", obf=True)
    assert isinstance(failed, JoinRefused) and failed.code == "authorized_user_not_in_meeting"
    assert refusal_for_fail_code("MEETING_FAIL_MEETING_OVER", obf=True).code == "meeting_ended"


@pytest.mark.parametrize(("status", "detail", "leave_requested", "reason"), [
    ("MEETING_STATUS_RECONNECTING", None, False, None),
    ("MEETING_STATUS_IN_WAITING_ROOM", None, False, None),
    ("MEETING_STATUS_ENDED", "EndMeetingReason_DueToAuthorizedUserLeave", False, "authorizing_user_left"),
    ("MEETING_STATUS_ENDED", "EndMeetingReason_KickByHost", False, "removed"),
    ("MEETING_STATUS_ENDED", "EndMeetingReason_EndByHost", False, "meeting_ended"),
    ("MEETING_STATUS_ENDED", "EndMeetingReason_None", True, "left"),
    ("MEETING_STATUS_FAILED", "CONF_FAIL_REMOVED_BY_HOST", False, "removed"),
    ("MEETING_STATUS_FAILED", "MEETING_FAIL_CONNECTION_ERR", False, "meeting_ended"),
    ("MEETING_STATUS_IDLE", None, True, "left"),
])
def test_end_reason_while_in_the_meeting(status, detail, leave_requested, reason):
    assert end_reason_for(status, detail, leave_requested=leave_requested) == reason


# --- join parameters --------------------------------------------------------------------------------

def test_join_param_with_an_obf_token():
    fields = build_join_param(request())
    assert fields == {"meetingNumber": 85746065432, "userName": "Notetaker", "psw": "pa55-SECRET",
                      "onBehalfToken": "OBF-SECRET-TOKEN", "isVideoOff": True, "isAudioOff": True}
    assert type(fields["meetingNumber"]) is int


def test_join_param_with_a_zak_and_no_passcode():
    fields = build_join_param(request(obf_token=None, zak_token="ZAK-SECRET", passcode=None))
    assert fields["userZAK"] == "ZAK-SECRET"
    assert "onBehalfToken" not in fields and "psw" not in fields


@pytest.mark.parametrize("number", ["", "8574606543a", "857 460 654", "-85746065432",
                                    "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19"])
def test_join_param_refuses_a_meeting_number_that_is_not_digits(number):
    with pytest.raises(ValueError):
        build_join_param(request(meeting_number=number))


# --- without the package -----------------------------------------------------------------------------

def test_join_without_the_package_is_refused_cleanly(tmp_path):
    completed = run_child(f"""
        import asyncio, json, sys
        sys.modules[{SDK_MODULE!r}] = None  # as if the package were not installed
        from obfbroker.runner.adapters.base import JoinRefused, JoinRequest
        from obfbroker.runner.adapters.zoom_sdk import ZoomSdkClient

        async def main():
            client = ZoomSdkClient()
            try:
                await client.join(JoinRequest("bot_1", "85746065432", None, "Notetaker", "jwt", "obf"))
                out = {{"joined": True}}
            except JoinRefused as exc:
                out = {{"code": exc.code, "message": exc.message, "retryable": exc.retryable}}
            await client.aclose()
            print("RESULT " + json.dumps(out))

        asyncio.run(main())
    """, tmp_path, timeout=60)
    assert completed.returncode == 0, completed.stderr
    out = result_line(completed)
    assert out["code"] == "sdk_unavailable"
    assert out["retryable"] is False
    assert "obfbroker[zoom-sdk]" in out["message"]


# --- with the package (skipped, loudly, where it can't load) ----------------------------------------

@pytest.fixture(scope="module")
def sdk_loads(tmp_path_factory) -> None:
    home = tmp_path_factory.mktemp("zoomsdk-home")
    completed = run_child(f"import {SDK_MODULE}; print('RESULT {{}}')", home, timeout=60)
    if completed.returncode != 0 or "RESULT" not in completed.stdout:
        tail = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"REAL ZOOM SDK NOT EXERCISED: `import {SDK_MODULE}` fails on this machine "
                    f"(pip install 'obfbroker[zoom-sdk]' on Linux x86_64): {tail}")


def test_mapping_keys_are_names_the_sdk_uses(sdk_loads, tmp_path):
    completed = run_child(f"""
        import json
        import {SDK_MODULE} as sdk
        names = {{enum: [member.name for member in getattr(sdk, enum)]
                 for enum in ("AuthResult", "MeetingFailCode", "MeetingEndReason", "SDKError")}}
        print("RESULT " + json.dumps(names))
    """, tmp_path, timeout=60)
    names = result_line(completed)
    assert set(AUTH_RESULT_CODES) | {"AUTHRET_SUCCESS"} == set(names["AuthResult"])
    assert set(MEETING_FAIL_CODES) <= set(names["MeetingFailCode"])
    assert set(END_REASON_CODES) == set(names["MeetingEndReason"])
    assert set(JOIN_CALL_CODES) <= set(names["SDKError"])


def test_sdk_initialises_and_join_params_reach_it_without_printing_secrets(sdk_loads, tmp_path):
    # Join before authentication: the SDK refuses at once (SDKERR_UNAUTHENTICATION), after the
    # binding has printed its JoinParam. Our strings must still be intact when the SDK reads them.
    completed = run_child("""
        import gc, json
        from obfbroker.runner.adapters.base import JoinRequest
        from obfbroker.runner.adapters.zoom_sdk import _SdkHost, build_join_param, load_sdk

        sdk, glib = load_sdk()
        host = _SdkHost(sdk, glib)
        host.start().result(30)
        secrets = ["".join(["pass", "code-", "SECRET-", str(n)]) for n in range(3)]  # made at run time
        fields = build_join_param(JoinRequest("bot_1", "85746065432", secrets[0], "Notetaker", "jwt",
                                              obf_token=secrets[1], zak_token=secrets[2]))
        result = host.call(host.join, fields).result(30)
        del fields, secrets
        gc.collect()
        churn = ["".join(["x"] * 40) for _ in range(10000)]
        inner = host._keep["join"][1]
        seen = {key: getattr(inner, key) for key in ("meetingNumber", "userName", "psw", "onBehalfToken",
                                                     "userZAK", "isVideoOff", "isAudioOff")}
        host.stop()
        print("RESULT " + json.dumps({"join": result, "seen": seen}))
    """, tmp_path)
    out = result_line(completed)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert out["join"] == "SDKERR_UNAUTHENTICATION"
    assert out["seen"] == {"meetingNumber": 85746065432, "userName": "Notetaker", "psw": "passcode-SECRET-0",
                           "onBehalfToken": "passcode-SECRET-1", "userZAK": "passcode-SECRET-2",
                           "isVideoOff": True, "isAudioOff": True}
    printed = completed.stdout.replace(completed.stdout.partition("RESULT ")[2], "")
    assert "SECRET" not in printed and "SECRET" not in completed.stderr


def test_offline_auth_fails_cleanly_and_closes(sdk_loads, tmp_path):
    # No clock is asserted: the client's auth_timeout bounds the wait, the child's timeout catches
    # a hang, and the durations are printed for whoever runs this with -s.
    completed = run_child("""
        import asyncio, json, time
        from datetime import UTC, datetime
        from obfbroker.runner.adapters.base import JoinRefused, JoinRequest
        from obfbroker.runner.adapters.zoom_sdk import ZoomSdkClient
        from obfbroker.zoom.sdk_jwt import meeting_sdk_jwt

        async def main():
            jwt = meeting_sdk_jwt("abcDEFghiJKLmnoPQRstu", "S" * 32, "85746065432", now=datetime.now(UTC))
            client = ZoomSdkClient(auth_timeout=25)
            started = time.monotonic()
            try:
                await client.join(JoinRequest("bot_1", "85746065432", "pa55", "Notetaker", jwt, "OBF-SECRET"))
                out = {"joined": True}
            except JoinRefused as exc:
                out = {"code": exc.code, "sdk_error": exc.sdk_error, "retryable": exc.retryable}
            out["seconds"] = time.monotonic() - started
            closing = time.monotonic()
            await client.aclose()
            out["close_seconds"] = time.monotonic() - closing
            print("RESULT " + json.dumps(out), flush=True)

        asyncio.run(main())
    """, tmp_path, timeout=90)
    out = result_line(completed)
    assert completed.returncode == 0, completed.stderr[-3000:]
    print("offline auth:", out)  # shown with -s: which AuthResult this machine produced, and when
    assert out.get("code") in {"network_error", "sdk_auth_failed"}, out
    assert "OBF-SECRET" not in completed.stdout and "OBF-SECRET" not in completed.stderr


# --- the client's flow, against a scripted stand-in for the SDK module -------------------------------
# Not the real SDK: a module with the same names, installed in sys.modules, that answers SDKAuth and
# Join with scripted callbacks. It exercises our threading, asyncio bridging, waiting, mapping and
# bookkeeping; what Zoom itself does is only what the script says.

class FakeSdk(types.ModuleType):
    SDKError = enum.Enum("SDKError", {"SDKERR_SUCCESS": 0, "SDKERR_UNAUTHENTICATION": 8})
    AuthResult = enum.Enum("AuthResult", {"AUTHRET_SUCCESS": 0, "AUTHRET_JWTTOKENWRONG": 11})
    MeetingStatus = enum.Enum("MeetingStatus", {f"MEETING_STATUS_{name}": n for n, name in enumerate(
        ["IDLE", "CONNECTING", "WAITINGFORHOST", "INMEETING", "DISCONNECTING", "RECONNECTING", "FAILED",
         "ENDED", "UNKNOWN", "LOCKED", "UNLOCKED", "IN_WAITING_ROOM"])})
    MeetingFailCode = enum.IntEnum("MeetingFailCode", {
        "MEETING_FAIL_PASSWORD_ERR": 4, "MEETING_FAIL_AUTHORIZED_USER_NOT_INMEETING": 501,
        "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID": 505})
    MeetingEndReason = enum.IntEnum("MeetingEndReason", {
        "EndMeetingReason_None": 0, "EndMeetingReason_KickByHost": 1, "EndMeetingReason_EndByHost": 2,
        "EndMeetingReason_DueToAuthorizedUserLeave": 8})
    SDK_LANGUAGE_ID = enum.Enum("SDK_LANGUAGE_ID", {"LANGUAGE_English": 1})
    SDKUserType = enum.Enum("SDKUserType", {"SDK_UT_WITHOUT_LOGIN": 1})
    LEAVE_MEETING = "LEAVE_MEETING"

    def __init__(self) -> None:
        super().__init__(SDK_MODULE)
        self.SDKERR_SUCCESS = self.SDKError.SDKERR_SUCCESS
        self.auth_result: str | None = "AUTHRET_SUCCESS"  # None: never answer
        self.join_statuses: list[tuple[str, int]] = [("CONNECTING", 0), ("INMEETING", 0)]
        self.calls: list[tuple] = []
        self.status = self.MeetingStatus["MEETING_STATUS_IDLE"]
        self.callbacks: dict[str, Callable] = {}
        self.InitParam = self.AuthContext = self.JoinParam4WithoutLogin = types.SimpleNamespace

    def JoinParam(self):
        return types.SimpleNamespace(userType=None, param=types.SimpleNamespace())

    def InitSDK(self, param):
        self.calls.append(("InitSDK", param.strWebDomain))
        return self.SDKERR_SUCCESS

    def CleanUPSDK(self):
        self.calls.append(("CleanUPSDK",))

    def CreateMeetingService(self):
        sdk = self

        class Meeting:
            def SetEvent(self, events):
                return sdk.SDKERR_SUCCESS

            def Join(self, param):
                sdk.calls.append(("Join", vars(param.param).copy()))
                for status, result in sdk.join_statuses:
                    sdk.fire(status, result)
                return sdk.SDKERR_SUCCESS

            def GetMeetingStatus(self):
                return sdk.status

            def Leave(self, command):
                sdk.calls.append(("Leave",))
                sdk.fire("ENDED", 0)
                return sdk.SDKERR_SUCCESS

        return Meeting()

    def CreateAuthService(self):
        sdk = self

        class Auth:
            def SetEvent(self, events):
                return sdk.SDKERR_SUCCESS

            def SDKAuth(self, context):
                sdk.calls.append(("SDKAuth", context.jwt_token))
                if sdk.auth_result is not None:
                    sdk.callbacks["auth"](sdk.AuthResult[sdk.auth_result])
                return sdk.SDKERR_SUCCESS

        return Auth()

    def DestroyMeetingService(self, service):
        self.calls.append(("DestroyMeetingService",))

    def DestroyAuthService(self, service):
        self.calls.append(("DestroyAuthService",))

    def MeetingServiceEventCallbacks(self, onMeetingStatusChangedCallback):
        self.callbacks["status"] = onMeetingStatusChangedCallback

    def AuthServiceEventCallbacks(self, onAuthenticationReturnCallback):
        self.callbacks["auth"] = onAuthenticationReturnCallback

    def fire(self, status: str, result: int) -> None:
        self.status = self.MeetingStatus[f"MEETING_STATUS_{status}"]
        self.callbacks["status"](self.status, result)


@pytest.fixture
def fake_sdk(monkeypatch) -> FakeSdk:
    try:
        ctypes.CDLL("libglib-2.0.so.0")
    except OSError as exc:
        pytest.skip(f"libglib-2.0 isn't loadable here, and the adapter pumps it: {exc}")
    sdk = FakeSdk()
    monkeypatch.setitem(sys.modules, SDK_MODULE, sdk)
    return sdk


def in_sdk_thread(client: ZoomSdkClient, fn: Callable) -> None:
    client._host.call(fn).result(5)


def run_scenario(scenario: Callable) -> object:
    """Run an async scenario; a wrong wait fails in seconds instead of hanging."""
    async def bounded():
        return await asyncio.wait_for(scenario(), 20)
    return asyncio.run(bounded())


def quick_client(**kwargs) -> ZoomSdkClient:
    return ZoomSdkClient(**{"auth_timeout": 5, "join_timeout": 5, "leave_timeout": 5, **kwargs})


def test_flow_join_then_removed_when_the_authorizing_user_leaves(fake_sdk):
    async def scenario():
        client = quick_client()
        session = await client.join(request(zak_token="ZAK-SECRET"))
        in_sdk_thread(client, lambda: fake_sdk.fire("ENDED", 8))
        reason = await asyncio.wait_for(session.wait_end(), 5)
        await session.leave()  # already out: nothing to do
        await client.aclose()
        return reason

    assert run_scenario(scenario) == "authorizing_user_left"
    joins = [call[1] for call in fake_sdk.calls if call[0] == "Join"]
    assert joins == [{"meetingNumber": 85746065432, "userName": "Notetaker", "psw": "pa55-SECRET",
                      "onBehalfToken": "OBF-SECRET-TOKEN", "userZAK": "ZAK-SECRET", "isVideoOff": True,
                      "isAudioOff": True}]
    assert ("SDKAuth", "eyJ.SECRET-JWT.sig") in fake_sdk.calls
    assert ("Leave",) not in fake_sdk.calls
    assert fake_sdk.calls[-1] == ("CleanUPSDK",)


def test_flow_refusal_is_mapped_and_the_next_attempt_can_join(fake_sdk):
    async def scenario():
        client = quick_client()
        fake_sdk.join_statuses = [("CONNECTING", 0), ("FAILED", 501)]
        with pytest.raises(JoinRefused) as refused:
            await client.join(request())
        fake_sdk.join_statuses = [("CONNECTING", 0), ("INMEETING", 0)]
        session = await client.join(request(obf_token="OBF-FRESH"))
        with pytest.raises(JoinRefused) as busy:  # one meeting per process
            await client.join(request())
        await session.leave()
        reason = await session.wait_end()
        await session.leave()
        await client.aclose()
        return refused.value, busy.value, reason

    refused, busy, reason = run_scenario(scenario)
    assert (refused.code, refused.retryable, refused.sdk_error) == (
        "authorized_user_not_in_meeting", True, "MEETING_FAIL_AUTHORIZED_USER_NOT_INMEETING")
    assert busy.code == "join_failed" and "one meeting per process" in busy.message
    assert reason == "left"
    assert [call[1]["onBehalfToken"] for call in fake_sdk.calls if call[0] == "Join"] == [
        "OBF-SECRET-TOKEN", "OBF-FRESH"]
    assert fake_sdk.calls.count(("Leave",)) == 1


def test_flow_kicked_by_host_and_auth_refused(fake_sdk):
    async def scenario():
        client = quick_client()
        session = await client.join(request())
        in_sdk_thread(client, lambda: fake_sdk.fire("ENDED", 1))
        reason = await asyncio.wait_for(session.wait_end(), 5)
        fake_sdk.auth_result = "AUTHRET_JWTTOKENWRONG"
        with pytest.raises(JoinRefused) as refused:
            await client.join(request())
        await client.aclose()
        return reason, refused.value

    reason, refused = run_scenario(scenario)
    assert reason == "removed"
    assert (refused.code, refused.sdk_error) == ("sdk_auth_failed", "AUTHRET_JWTTOKENWRONG")


def test_flow_timeouts_are_bounded(fake_sdk):
    async def scenario():
        client = quick_client(auth_timeout=0.3, join_timeout=0.3)
        fake_sdk.auth_result = None  # Zoom never answers
        with pytest.raises(JoinRefused) as no_auth:
            await client.join(request())
        fake_sdk.auth_result = "AUTHRET_SUCCESS"
        fake_sdk.join_statuses = [("CONNECTING", 0), ("IN_WAITING_ROOM", 0)]  # never admitted
        with pytest.raises(JoinRefused) as not_admitted:
            await client.join(request())
        await client.aclose()
        return no_auth.value, not_admitted.value

    no_auth, not_admitted = run_scenario(scenario)
    assert (no_auth.code, no_auth.retryable) == ("network_error", True)
    assert (not_admitted.code, not_admitted.sdk_error) == ("join_failed", "MEETING_STATUS_IN_WAITING_ROOM")
    assert ("Leave",) in fake_sdk.calls  # the bot doesn't stay in the waiting room
