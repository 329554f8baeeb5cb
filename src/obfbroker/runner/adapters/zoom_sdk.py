"""The real Zoom Meeting SDK for Linux as a meeting adapter, via the PyPI package ``zoom-meeting-sdk``.

Optional: ``pip install 'obfbroker[zoom-sdk]'``. Without it, :meth:`ZoomSdkClient.join` refuses with
``sdk_unavailable``; nothing here imports the SDK at module import time.

How the SDK is driven (see docs/zoom-sdk.md): one thread (:class:`_SdkHost`) makes every SDK call
and pumps GLib's default main context, where the SDK delivers its callbacks; callbacks are posted
to the asyncio loop. The SDK is a process-wide singleton, so a process is in one meeting at a time.
What maps to what is in the plain dicts below, and the pure functions next to them are what the
tests exercise; only ``_SdkHost`` and ``load_sdk`` touch the SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib
import logging
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

from obfbroker.runner.adapters.base import RETRYABLE_CODES, JoinRefused, JoinRequest

__all__ = ["AUTH_RESULT_CODES", "END_REASON_CODES", "JOIN_CALL_CODES", "MEETING_FAIL_CODES",
           "ZoomSdkClient", "ZoomSdkSession", "build_join_param", "end_reason_for", "join_progress",
           "load_sdk", "refusal_for_auth_result", "refusal_for_fail_code"]

log = logging.getLogger(__name__)

SDK_MODULE = "zoom_meeting_sdk"
INSTALL_HINT = ("install obfbroker[zoom-sdk] (pip install 'obfbroker[zoom-sdk]'; Linux x86_64 with "
                "glib, X11 and GL libraries) or set OBFBROKER_MEETING_ADAPTER=zoomsim")
WEB_DOMAIN = "https://zoom.us"
_PUMP_SECONDS = 0.01  # how long the SDK thread waits for a call before pumping GLib again

#: ``AuthResult`` of the SDK's authentication callback -> our refusal code (AUTHRET_SUCCESS: none).
#: Offline, the SDK answers AUTHRET_UNKNOWN (not AUTHRET_NETWORKISSUE) after about 12 s.
AUTH_RESULT_CODES: dict[str, str] = {
    "AUTHRET_NETWORKISSUE": "network_error",
    "AUTHRET_OVERTIME": "network_error",
    "AUTHRET_SERVICE_BUSY": "network_error",
    "AUTHRET_KEYORSECRETEMPTY": "sdk_auth_failed",
    "AUTHRET_KEYORSECRETWRONG": "sdk_auth_failed",
    "AUTHRET_JWTTOKENWRONG": "sdk_auth_failed",
    "AUTHRET_ACCOUNTNOTSUPPORT": "sdk_auth_failed",
    "AUTHRET_ACCOUNTNOTENABLESDK": "sdk_auth_failed",
    "AUTHRET_CLIENT_INCOMPATIBLE": "sdk_auth_failed",
    "AUTHRET_LIMIT_EXCEEDED_EXCEPTION": "sdk_auth_failed",
    "AUTHRET_UNKNOWN": "sdk_auth_failed",
    "AUTHRET_NONE": "sdk_auth_failed",
}

#: ``SDKError`` returned synchronously by ``IMeetingService.Join`` -> our code (default join_failed).
JOIN_CALL_CODES: dict[str, str] = {
    "SDKERR_UNAUTHENTICATION": "sdk_auth_failed",
    "SDKERR_UNINITIALIZE": "sdk_unavailable",
    "SDKERR_MODULE_LOAD_FAILED": "sdk_unavailable",
}

#: ``MeetingFailCode`` (``iResult`` of MEETING_STATUS_FAILED) -> our code (default join_failed).
MEETING_FAIL_CODES: dict[str, str] = {
    "MEETING_FAIL_AUTHORIZED_USER_NOT_INMEETING": "authorized_user_not_in_meeting",  # 501
    "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID": "obf_token_invalid",  # 505
    "MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING": "obf_token_not_match_meeting",  # 506
    "MEETING_FAIL_ON_BEHALF_TOKEN_CONFLICT_LOGIN_ERROR": "obf_token_invalid",  # 502
    "MEETING_FAIL_USER_LEVEL_TOKEN_NOT_HAVE_HOST_ZAK_OBF": "obf_token_invalid",  # 503
    "MEETING_FAIL_APP_CAN_NOT_ANONYMOUS_JOIN_MEETING": "obf_token_invalid",  # 504
    "MEETING_FAIL_PASSWORD_ERR": "wrong_passcode",
    "MEETING_FAIL_MEETING_NOT_EXIST": "meeting_not_found",
    "MEETING_FAIL_MEETING_OVER": "meeting_ended",
    "CONF_FAIL_VANITY_NOT_EXIST": "meeting_not_found",
    "MEETING_FAIL_CONNECTION_ERR": "network_error",
    "MEETING_FAIL_RECONNECT_ERR": "network_error",
    "MEETING_FAIL_MMR_ERR": "network_error",
    "MEETING_FAIL_SESSION_ERR": "network_error",
    "MEETING_FAIL_NO_MMR": "network_error",
    "MEETING_FAIL_CANNOT_EMIT_WEBREQUEST": "network_error",
    # The meeting or an account's policy keeps this bot out: another attempt cannot help.
    "MEETING_FAIL_BLOCKED_BY_ACCOUNT_ADMIN": "join_denied",
    "MEETING_FAIL_HOST_DISALLOW_OUTSIDE_USER_JOIN": "join_denied",
    "MEETING_FAIL_UNABLE_TO_JOIN_EXTERNAL_MEETING": "join_denied",
    "MEETING_FAIL_FORBID_TO_JOIN_INTERNAL_MEETING": "join_denied",
    "MEETING_FAIL_CONFLOCKED": "join_denied",
    "MEETING_FAIL_MEETING_RESTRICTED": "join_denied",
    "MEETING_FAIL_MEETING_RESTRICTED_JBH": "join_denied",
    "MEETING_FAIL_ENFORCE_LOGIN": "join_denied",
}
#: Token failures that concern the ZAK instead when the request carried a ZAK and no OBF token.
_TOKEN_CODES = {"obf_token_invalid", "obf_token_not_match_meeting"}

#: ``MeetingEndReason`` (``iResult`` of MEETING_STATUS_ENDED) -> our end reason (default meeting_ended).
END_REASON_CODES: dict[str, str] = {
    "EndMeetingReason_DueToAuthorizedUserLeave": "authorizing_user_left",
    "EndMeetingReason_KickByHost": "removed",
    "EndMeetingReason_EndByHost": "meeting_ended",
    "EndMeetingReason_JBHTimeOut": "meeting_ended",
    "EndMeetingReason_NoAttendee": "meeting_ended",
    "EndMeetingReason_HostStartAnotherMeeting": "meeting_ended",
    "EndMeetingReason_FreeMeetingTimeOut": "meeting_ended",
    "EndMeetingReason_Undefined": "meeting_ended",
    "EndMeetingReason_None": "meeting_ended",
}


def _refused(code: str, message: str, sdk_error: str | None = None) -> JoinRefused:
    return JoinRefused(code, message, retryable=code in RETRYABLE_CODES, sdk_error=sdk_error)


def refusal_for_auth_result(name: str) -> JoinRefused | None:
    """The refusal for the SDK's authentication result, None for AUTHRET_SUCCESS."""
    if name == "AUTHRET_SUCCESS":
        return None
    code = AUTH_RESULT_CODES.get(name, "sdk_auth_failed")
    return _refused(code, f"Zoom Meeting SDK authentication failed ({name}): check the app's client "
                          "id/secret and that this host can reach zoom.us", name)


#: What the SDK sometimes answers instead of MEETING_FAIL_AUTHORIZED_USER_NOT_INMEETING when an
#: OBF join is refused because the authorizing user is away (code 65535).
AMBIGUOUS_OBF_FAIL_CODE = "MEETING_FAIL_UNKNOWN"


def refusal_for_fail_code(name: str, *, zak_only: bool = False, obf: bool = False) -> JoinRefused:
    """The refusal for a MeetingFailCode; token failures name the ZAK when only a ZAK was sent.
    For an OBF join, 65535 reads as "the authorizing user is not in the meeting" (retried)."""
    code = MEETING_FAIL_CODES.get(name, "join_failed")
    if obf and name == AMBIGUOUS_OBF_FAIL_CODE:
        code = "authorized_user_not_in_meeting"
    if zak_only and code in _TOKEN_CODES:
        code = "zak_token_invalid"
    return _refused(code, f"Zoom refused the join ({name})", name)


def join_progress(status: str, detail: str | None, *, zak_only: bool = False,
                  obf: bool = False) -> bool | JoinRefused:
    """While joining: True once in the meeting, a refusal if the join failed, False to keep waiting.
    The meeting ending before the bot got in is ``meeting_ended``; the runner reads one that comes
    right after a refused OBF join as the authorizing user still being away (base.read_refusal)."""
    if status == "MEETING_STATUS_INMEETING":
        return True
    if status == "MEETING_STATUS_FAILED":
        return refusal_for_fail_code(detail or AMBIGUOUS_OBF_FAIL_CODE, zak_only=zak_only, obf=obf)
    if status == "MEETING_STATUS_ENDED":
        return _refused("meeting_ended", f"the meeting ended before the bot got in ({detail})", detail)
    return False


def end_reason_for(status: str, detail: str | None, *, leave_requested: bool) -> str | None:
    """While in the meeting: our end reason once the bot is out, None while it is still in."""
    if status == "MEETING_STATUS_ENDED":
        return "left" if leave_requested else END_REASON_CODES.get(detail or "", "meeting_ended")
    if status in ("MEETING_STATUS_FAILED", "MEETING_STATUS_IDLE"):
        if leave_requested:
            return "left"
        return "removed" if detail == "CONF_FAIL_REMOVED_BY_HOST" else "meeting_ended"
    return None


def build_join_param(request: JoinRequest) -> dict[str, Any]:
    """The ``JoinParam4WithoutLogin`` fields for a request (fields not named keep the SDK's defaults).

    The bot joins with video and audio off: this adapter joins and leaves, it captures no media.
    """
    number = request.meeting_number
    if not (number.isascii() and number.isdigit()):
        raise ValueError("the meeting number must be digits")
    fields: dict[str, Any] = {"meetingNumber": int(number), "userName": request.bot_name,
                              "isVideoOff": True, "isAudioOff": True}
    if request.passcode:
        fields["psw"] = request.passcode
    if request.obf_token:
        fields["onBehalfToken"] = request.obf_token
    if request.zak_token:
        fields["userZAK"] = request.zak_token
    return fields


def load_sdk() -> tuple[Any, Any]:
    """The SDK module and libglib, or JoinRefused("sdk_unavailable") saying what is missing."""
    try:
        sdk = importlib.import_module(SDK_MODULE)
    except ImportError as exc:  # not installed, or its native libraries don't load here
        raise _refused("sdk_unavailable", f"the Zoom Meeting SDK can't be loaded ({exc}); {INSTALL_HINT}",
                       type(exc).__name__) from exc
    try:
        glib = ctypes.CDLL("libglib-2.0.so.0")
    except OSError as exc:
        raise _refused("sdk_unavailable", f"libglib-2.0 can't be loaded ({exc}); {INSTALL_HINT}",
                       "OSError") from exc
    glib.g_main_context_iteration.argtypes = [ctypes.c_void_p, ctypes.c_int]
    glib.g_main_context_iteration.restype = ctypes.c_int
    return sdk, glib


@contextlib.contextmanager
def _stdout_hidden() -> Iterator[None]:
    """Point fd 1 at /dev/null: the binding's Join prints its JoinParam, passcode and ZAK included."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        ctypes.CDLL(None).fflush(None)  # C stdio buffers still aimed at /dev/null
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _name(enum: Any, value: int) -> str:
    try:
        return enum(value).name
    except ValueError:
        return str(value)


class _SdkHost:
    """The one thread that calls the SDK and pumps GLib's default main context for its callbacks.

    The binding keeps raw pointers into the Python strings given to InitParam, AuthContext and
    JoinParam fields (it does not copy them), so those strings are held in ``_keep`` until replaced.
    """

    def __init__(self, sdk: Any, glib: Any) -> None:
        self.sdk, self._glib = sdk, glib
        self._calls: queue.SimpleQueue[tuple[Callable[..., Any], tuple, Future]] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zoom-meeting-sdk", daemon=True)
        self._listener: Callable[[tuple], None] | None = None
        self._keep: dict[str, Any] = {}
        self._meeting: Any = None
        self._auth: Any = None

    def start(self) -> Future:
        self._thread.start()
        return self.call(self._init)

    def listen(self, listener: Callable[[tuple], None] | None) -> None:
        self._listener = listener

    def call(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run ``fn(*args)`` on the SDK thread."""
        future: Future = Future()
        if self._stopping.is_set():
            future.set_exception(RuntimeError("the Zoom SDK thread has stopped"))
        else:
            self._calls.put((fn, args, future))
        return future

    def stop(self, timeout: float = 30.0) -> None:
        """Clean the SDK up and end the thread (blocking)."""
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self.call(self._cleanup).result(timeout)
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                fn, args, future = self._calls.get(timeout=_PUMP_SECONDS)
            except queue.Empty:
                pass
            else:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args))
                    except BaseException as exc:
                        future.set_exception(exc)
            for _ in range(1000):  # dispatch what is pending, never block
                if not self._glib.g_main_context_iteration(None, 0):
                    break
        while not self._calls.empty():
            _, _, future = self._calls.get()
            if future.set_running_or_notify_cancel():
                future.set_exception(RuntimeError("the Zoom SDK thread has stopped"))

    def _emit(self, event: tuple) -> None:
        listener = self._listener
        if listener is not None:
            listener(event)

    # Callbacks, on this thread while GLib dispatches. An exception must not reach C++.
    def _on_auth(self, result: Any) -> None:
        try:
            self._emit(("auth", result.name))
        except Exception:
            log.exception("zoom sdk: auth callback failed")

    def _on_status(self, status: Any, result: int) -> None:
        try:
            detail = None
            if status.name == "MEETING_STATUS_FAILED":
                detail = _name(self.sdk.MeetingFailCode, result)
            elif status.name == "MEETING_STATUS_ENDED":
                detail = _name(self.sdk.MeetingEndReason, result)
            log.info("zoom sdk: meeting status %s (%s)", status.name, detail or result)
            self._emit(("status", status.name, detail))
        except Exception:
            log.exception("zoom sdk: status callback failed")

    # Calls below run on the SDK thread only.
    def _init(self) -> None:
        sdk = self.sdk
        param = sdk.InitParam()
        param.strWebDomain = WEB_DOMAIN
        param.strSupportUrl = WEB_DOMAIN
        param.emLanguageID = sdk.SDK_LANGUAGE_ID.LANGUAGE_English
        param.enableLogByDefault = False
        param.enableGenerateDump = False
        self._keep["init"] = param
        result = sdk.InitSDK(param)
        if result != sdk.SDKERR_SUCCESS:
            raise _refused("sdk_unavailable", f"InitSDK failed ({result.name})", result.name)
        self._meeting, self._auth = sdk.CreateMeetingService(), sdk.CreateAuthService()
        self._keep["events"] = (
            sdk.MeetingServiceEventCallbacks(onMeetingStatusChangedCallback=self._on_status),
            sdk.AuthServiceEventCallbacks(onAuthenticationReturnCallback=self._on_auth))
        for service, events in zip((self._meeting, self._auth), self._keep["events"], strict=True):
            result = service.SetEvent(events)
            if result != sdk.SDKERR_SUCCESS:
                raise _refused("sdk_unavailable", f"SetEvent failed ({result.name})", result.name)

    def authenticate(self, sdk_jwt: str) -> str:
        context = self.sdk.AuthContext()
        context.jwt_token = sdk_jwt
        self._keep["auth"] = (context, sdk_jwt)
        return self._auth.SDKAuth(context).name

    def join(self, fields: dict[str, Any]) -> str:
        param = self.sdk.JoinParam()
        param.userType = self.sdk.SDKUserType.SDK_UT_WITHOUT_LOGIN
        inner = param.param  # a reference into `param`
        for key, value in fields.items():
            setattr(inner, key, value)
        self._keep["join"] = (param, inner, dict(fields))
        with _stdout_hidden():
            return self._meeting.Join(param).name

    def leave(self) -> str:
        if self._meeting is None:
            return "SDKERR_UNINITIALIZE"
        status = self._meeting.GetMeetingStatus().name
        if status in ("MEETING_STATUS_IDLE", "MEETING_STATUS_ENDED", "MEETING_STATUS_FAILED"):
            return status
        return self._meeting.Leave(self.sdk.LEAVE_MEETING).name

    def _cleanup(self) -> None:
        sdk = self.sdk
        if self._meeting is not None:
            self.leave()
            sdk.DestroyMeetingService(self._meeting)
        if self._auth is not None:
            sdk.DestroyAuthService(self._auth)
        self._meeting = self._auth = None
        sdk.CleanUPSDK()
        self._keep.clear()
        self._stopping.set()


#: The SDK holds one meeting per process, whatever the number of clients.
_ONE_MEETING = threading.Lock()


def _poster(loop: asyncio.AbstractEventLoop, events: asyncio.Queue) -> Callable[[tuple], None]:
    def post(event: tuple) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            loop.call_soon_threadsafe(events.put_nowait, event)
    return post


class ZoomSdkSession:
    """A bot in a meeting through the Meeting SDK."""

    def __init__(self, host: _SdkHost, events: asyncio.Queue, *, leave_timeout: float) -> None:
        self._host, self._events, self._leave_timeout = host, events, leave_timeout
        self._ended = asyncio.Event()
        self._reason: str | None = None
        self._leave_requested = False
        #: The SDK's last status and detail when the session ended (for logs).
        self.sdk_end_detail: tuple[str, str | None] | None = None
        self._watcher = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            event = await self._events.get()
            if event[0] != "status":
                continue
            reason = end_reason_for(event[1], event[2], leave_requested=self._leave_requested)
            if reason is not None:
                self.sdk_end_detail = (event[1], event[2])
                self._finish(reason)
                return

    def _finish(self, reason: str) -> None:
        if self._reason is None:
            self._reason = reason
            self._host.listen(None)
            _ONE_MEETING.release()
            self._ended.set()

    async def wait_end(self) -> str:
        await self._ended.wait()
        assert self._reason is not None
        return self._reason

    async def leave(self) -> None:
        if self._ended.is_set():
            return
        if not self._leave_requested:
            self._leave_requested = True
            try:
                await asyncio.wrap_future(self._host.call(self._host.leave))
            except Exception:
                log.exception("zoom sdk: Leave failed")
        try:
            async with asyncio.timeout(self._leave_timeout):
                await self._ended.wait()
        except TimeoutError:  # the SDK never confirmed; as far as we can tell we are out
            self._watcher.cancel()
            self._finish("left")


class ZoomSdkClient:
    """Joins real Zoom meetings with the Zoom Meeting SDK for Linux (one meeting per process)."""

    name = "zoom_sdk"

    def __init__(self, *, auth_timeout: float = 30.0, join_timeout: float = 300.0,
                 leave_timeout: float = 10.0) -> None:
        self.auth_timeout, self.join_timeout, self.leave_timeout = auth_timeout, join_timeout, leave_timeout
        self._host: _SdkHost | None = None
        self._session: ZoomSdkSession | None = None

    async def join(self, request: JoinRequest) -> ZoomSdkSession:
        sdk, glib = load_sdk()
        try:
            fields = build_join_param(request)
        except ValueError as exc:
            raise _refused("join_failed", str(exc)) from exc
        if not _ONE_MEETING.acquire(blocking=False):
            raise _refused("join_failed", "this process is already in a Zoom meeting; the Meeting SDK "
                                          "runs one meeting per process")
        events: asyncio.Queue = asyncio.Queue()
        host, join_sent = None, False
        try:
            host = await self._started_host(sdk, glib)
            host.listen(_poster(asyncio.get_running_loop(), events))
            result = await asyncio.wrap_future(host.call(host.authenticate, request.sdk_jwt))
            if result != "SDKERR_SUCCESS":
                raise _refused("sdk_auth_failed", f"SDKAuth refused the Meeting SDK JWT ({result})", result)
            await self._wait_auth(events)
            result = await asyncio.wrap_future(host.call(host.join, fields))
            join_sent = True
            if result != "SDKERR_SUCCESS":
                raise _refused(JOIN_CALL_CODES.get(result, "join_failed"), f"Join failed ({result})", result)
            zak_only = bool(request.zak_token) and not request.obf_token
            await self._wait_in_meeting(events, zak_only=zak_only, obf=bool(request.obf_token))
        except BaseException:
            if host is not None:
                host.listen(None)
                if join_sent:  # never leave a bot half-way in
                    host.call(host.leave)
            _ONE_MEETING.release()
            raise
        self._session = ZoomSdkSession(host, events, leave_timeout=self.leave_timeout)
        return self._session

    async def _started_host(self, sdk: Any, glib: Any) -> _SdkHost:
        if self._host is None:
            host = _SdkHost(sdk, glib)
            try:
                await asyncio.wrap_future(host.start())
            except BaseException:
                await asyncio.to_thread(host.stop)
                raise
            self._host = host
        return self._host

    async def _wait_auth(self, events: asyncio.Queue) -> None:
        try:
            async with asyncio.timeout(self.auth_timeout):
                while (event := await events.get())[0] != "auth":
                    pass
        except TimeoutError:
            raise _refused("network_error", f"no answer to SDK authentication within {self.auth_timeout:g} s",
                           "auth_timeout") from None
        refusal = refusal_for_auth_result(event[1])
        if refusal is not None:
            raise refusal

    async def _wait_in_meeting(self, events: asyncio.Queue, *, zak_only: bool, obf: bool = False) -> None:
        last = "MEETING_STATUS_IDLE"
        try:
            async with asyncio.timeout(self.join_timeout):
                while True:
                    event = await events.get()
                    if event[0] != "status":
                        continue
                    last = event[1]
                    outcome = join_progress(event[1], event[2], zak_only=zak_only, obf=obf)
                    if isinstance(outcome, JoinRefused):
                        raise outcome
                    if outcome:
                        return
        except TimeoutError:
            raise _refused("join_failed", f"not in the meeting after {self.join_timeout:g} s (last status "
                                          f"{last})", last) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.leave()
            self._session = None
        if self._host is not None:
            host, self._host = self._host, None
            await asyncio.to_thread(host.stop)
