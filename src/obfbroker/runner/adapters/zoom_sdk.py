"""The real Zoom Meeting SDK for Linux as a meeting adapter, via the PyPI package ``zoom-meeting-sdk``.

Optional: ``pip install 'obfbroker[zoom-sdk]'``. Without it, :meth:`ZoomSdkClient.join` refuses with
``sdk_unavailable``; nothing here imports the SDK at module import time.

How the SDK is driven (see docs/zoom-sdk.md): one thread (:class:`_SdkHost`) makes every SDK call
and pumps GLib's default main context, where the SDK delivers its callbacks; callbacks are posted
to the asyncio loop. The SDK is a process-wide singleton, so a process is in one meeting at a time.
What maps to what is in the plain dicts of ``zoom_sdk_codes``, and the pure functions next to them
are what the tests exercise; only ``_SdkHost`` and ``load_sdk`` touch the SDK.
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

from obfbroker.runner.adapters.base import JoinRefusal, JoinRefused, JoinRequest
from obfbroker.runner.adapters.zoom_sdk_codes import (
    AUTH_RESULT_CODES,
    END_REASON_CODES,
    JOIN_CALL_CODES,
    MEETING_FAIL_CODES,
    _refused,
    build_join_param,
    end_reason_for,
    join_progress,
    refusal_for_auth_result,
    refusal_for_fail_code,
)

__all__ = ["AUTH_RESULT_CODES", "END_REASON_CODES", "JOIN_CALL_CODES", "MEETING_FAIL_CODES",
           "ZoomSdkClient", "ZoomSdkSession", "build_join_param", "end_reason_for", "join_progress",
           "load_sdk", "refusal_for_auth_result", "refusal_for_fail_code"]

log = logging.getLogger(__name__)

SDK_MODULE = "zoom_meeting_sdk"
INSTALL_HINT = ("install obfbroker[zoom-sdk] (pip install 'obfbroker[zoom-sdk]'; Linux x86_64 with "
                "glib, X11 and GL libraries) or set OBFBROKER_MEETING_ADAPTER=zoomsim")
WEB_DOMAIN = "https://zoom.us"
_PUMP_SECONDS = 0.01  # how long the SDK thread waits for a call before pumping GLib again

def load_sdk() -> tuple[Any, Any]:
    """The SDK module and libglib, or JoinRefused(JoinRefusal.SDK_UNAVAILABLE) saying what is missing."""
    try:
        sdk = importlib.import_module(SDK_MODULE)
    except ImportError as exc:  # not installed, or its native libraries don't load here
        raise _refused(JoinRefusal.SDK_UNAVAILABLE,
                       f"the Zoom Meeting SDK can't be loaded ({exc}); {INSTALL_HINT}",
                       type(exc).__name__) from exc
    try:
        glib = ctypes.CDLL("libglib-2.0.so.0")
    except OSError as exc:
        raise _refused(JoinRefusal.SDK_UNAVAILABLE, f"libglib-2.0 can't be loaded ({exc}); {INSTALL_HINT}",
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
            raise _refused(JoinRefusal.SDK_UNAVAILABLE, f"InitSDK failed ({result.name})", result.name)
        self._meeting, self._auth = sdk.CreateMeetingService(), sdk.CreateAuthService()
        self._keep["events"] = (
            sdk.MeetingServiceEventCallbacks(onMeetingStatusChangedCallback=self._on_status),
            sdk.AuthServiceEventCallbacks(onAuthenticationReturnCallback=self._on_auth))
        for service, events in zip((self._meeting, self._auth), self._keep["events"], strict=True):
            result = service.SetEvent(events)
            if result != sdk.SDKERR_SUCCESS:
                raise _refused(JoinRefusal.SDK_UNAVAILABLE, f"SetEvent failed ({result.name})", result.name)

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
            raise _refused(JoinRefusal.JOIN_FAILED, str(exc)) from exc
        if not _ONE_MEETING.acquire(blocking=False):
            raise _refused(JoinRefusal.JOIN_FAILED,
                           "this process is already in a Zoom meeting; the Meeting SDK "
                           "runs one meeting per process")
        events: asyncio.Queue = asyncio.Queue()
        host, join_sent = None, False
        try:
            host = await self._started_host(sdk, glib)
            host.listen(_poster(asyncio.get_running_loop(), events))
            result = await asyncio.wrap_future(host.call(host.authenticate, request.sdk_jwt))
            if result != "SDKERR_SUCCESS":
                raise _refused(JoinRefusal.SDK_AUTH_FAILED,
                               f"SDKAuth refused the Meeting SDK JWT ({result})", result)
            await self._wait_auth(events)
            result = await asyncio.wrap_future(host.call(host.join, fields))
            join_sent = True
            if result != "SDKERR_SUCCESS":
                raise _refused(JOIN_CALL_CODES.get(result, JoinRefusal.JOIN_FAILED),
                               f"Join failed ({result})", result)
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
            raise _refused(JoinRefusal.NETWORK_ERROR,
                           f"no answer to SDK authentication within {self.auth_timeout:g} s",
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
            raise _refused(JoinRefusal.JOIN_FAILED,
                           f"not in the meeting after {self.join_timeout:g} s (last status "
                           f"{last})", last) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.leave()
            self._session = None
        if self._host is not None:
            host, self._host = self._host, None
            await asyncio.to_thread(host.stop)
