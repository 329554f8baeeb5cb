"""What the Zoom Meeting SDK's answers mean to the runner: plain tables and pure functions, no
SDK import (``zoom_sdk`` drives the SDK; the tests exercise these directly)."""

from __future__ import annotations

from typing import Any

from obfbroker.runner.adapters.base import RETRYABLE_CODES, EndReason, JoinRefusal, JoinRefused, JoinRequest

#: ``AuthResult`` of the SDK's authentication callback -> our refusal code (AUTHRET_SUCCESS: none).
#: Offline, the SDK answers AUTHRET_UNKNOWN (not AUTHRET_NETWORKISSUE) after about 12 s.
AUTH_RESULT_CODES: dict[str, JoinRefusal] = {
    "AUTHRET_NETWORKISSUE": JoinRefusal.NETWORK_ERROR,
    "AUTHRET_OVERTIME": JoinRefusal.NETWORK_ERROR,
    "AUTHRET_SERVICE_BUSY": JoinRefusal.NETWORK_ERROR,
    "AUTHRET_KEYORSECRETEMPTY": JoinRefusal.SDK_AUTH_FAILED,
    "AUTHRET_KEYORSECRETWRONG": JoinRefusal.SDK_AUTH_FAILED,
    "AUTHRET_JWTTOKENWRONG": JoinRefusal.SDK_AUTH_FAILED,
    "AUTHRET_ACCOUNTNOTSUPPORT": JoinRefusal.SDK_AUTH_FAILED,
    "AUTHRET_ACCOUNTNOTENABLESDK": JoinRefusal.SDK_AUTH_FAILED,
    "AUTHRET_CLIENT_INCOMPATIBLE": JoinRefusal.SDK_AUTH_FAILED,
    "AUTHRET_LIMIT_EXCEEDED_EXCEPTION": JoinRefusal.SDK_AUTH_FAILED,
    "AUTHRET_UNKNOWN": JoinRefusal.SDK_AUTH_FAILED,
    "AUTHRET_NONE": JoinRefusal.SDK_AUTH_FAILED,
}

#: ``SDKError`` returned synchronously by ``IMeetingService.Join`` -> our code (default join_failed).
JOIN_CALL_CODES: dict[str, JoinRefusal] = {
    "SDKERR_UNAUTHENTICATION": JoinRefusal.SDK_AUTH_FAILED,
    "SDKERR_UNINITIALIZE": JoinRefusal.SDK_UNAVAILABLE,
    "SDKERR_MODULE_LOAD_FAILED": JoinRefusal.SDK_UNAVAILABLE,
}

#: ``MeetingFailCode`` (``iResult`` of MEETING_STATUS_FAILED) -> our code (default join_failed).
MEETING_FAIL_CODES: dict[str, JoinRefusal] = {
    "MEETING_FAIL_AUTHORIZED_USER_NOT_INMEETING": JoinRefusal.AUTHORIZED_USER_NOT_IN_MEETING,  # 501
    "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID": JoinRefusal.OBF_TOKEN_INVALID,  # 505
    "MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING": JoinRefusal.OBF_TOKEN_NOT_MATCH_MEETING,  # 506
    "MEETING_FAIL_ON_BEHALF_TOKEN_CONFLICT_LOGIN_ERROR": JoinRefusal.OBF_TOKEN_INVALID,  # 502
    "MEETING_FAIL_USER_LEVEL_TOKEN_NOT_HAVE_HOST_ZAK_OBF": JoinRefusal.OBF_TOKEN_INVALID,  # 503
    "MEETING_FAIL_APP_CAN_NOT_ANONYMOUS_JOIN_MEETING": JoinRefusal.OBF_TOKEN_INVALID,  # 504
    "MEETING_FAIL_PASSWORD_ERR": JoinRefusal.WRONG_PASSCODE,
    "MEETING_FAIL_MEETING_NOT_EXIST": JoinRefusal.MEETING_NOT_FOUND,
    "MEETING_FAIL_MEETING_OVER": JoinRefusal.MEETING_ENDED,
    "CONF_FAIL_VANITY_NOT_EXIST": JoinRefusal.MEETING_NOT_FOUND,
    "MEETING_FAIL_CONNECTION_ERR": JoinRefusal.NETWORK_ERROR,
    "MEETING_FAIL_RECONNECT_ERR": JoinRefusal.NETWORK_ERROR,
    "MEETING_FAIL_MMR_ERR": JoinRefusal.NETWORK_ERROR,
    "MEETING_FAIL_SESSION_ERR": JoinRefusal.NETWORK_ERROR,
    "MEETING_FAIL_NO_MMR": JoinRefusal.NETWORK_ERROR,
    "MEETING_FAIL_CANNOT_EMIT_WEBREQUEST": JoinRefusal.NETWORK_ERROR,
    # The meeting or an account's policy keeps this bot out: another attempt cannot help.
    "MEETING_FAIL_BLOCKED_BY_ACCOUNT_ADMIN": JoinRefusal.JOIN_DENIED,
    "MEETING_FAIL_HOST_DISALLOW_OUTSIDE_USER_JOIN": JoinRefusal.JOIN_DENIED,
    "MEETING_FAIL_UNABLE_TO_JOIN_EXTERNAL_MEETING": JoinRefusal.JOIN_DENIED,
    "MEETING_FAIL_FORBID_TO_JOIN_INTERNAL_MEETING": JoinRefusal.JOIN_DENIED,
    "MEETING_FAIL_CONFLOCKED": JoinRefusal.JOIN_DENIED,
    "MEETING_FAIL_MEETING_RESTRICTED": JoinRefusal.JOIN_DENIED,
    "MEETING_FAIL_MEETING_RESTRICTED_JBH": JoinRefusal.JOIN_DENIED,
    "MEETING_FAIL_ENFORCE_LOGIN": JoinRefusal.JOIN_DENIED,
}
#: Token failures that concern the ZAK instead when the request carried a ZAK and no OBF token.
_TOKEN_CODES = {JoinRefusal.OBF_TOKEN_INVALID, JoinRefusal.OBF_TOKEN_NOT_MATCH_MEETING}

#: ``MeetingEndReason`` (``iResult`` of MEETING_STATUS_ENDED) -> our end reason (default meeting_ended).
END_REASON_CODES: dict[str, EndReason] = {
    "EndMeetingReason_DueToAuthorizedUserLeave": EndReason.AUTHORIZING_USER_LEFT,
    "EndMeetingReason_KickByHost": EndReason.REMOVED,
    "EndMeetingReason_EndByHost": EndReason.MEETING_ENDED,
    "EndMeetingReason_JBHTimeOut": EndReason.MEETING_ENDED,
    "EndMeetingReason_NoAttendee": EndReason.MEETING_ENDED,
    "EndMeetingReason_HostStartAnotherMeeting": EndReason.MEETING_ENDED,
    "EndMeetingReason_FreeMeetingTimeOut": EndReason.MEETING_ENDED,
    "EndMeetingReason_Undefined": EndReason.MEETING_ENDED,
    "EndMeetingReason_None": EndReason.MEETING_ENDED,
}


def _refused(code: str, message: str, sdk_error: str | None = None) -> JoinRefused:
    return JoinRefused(code, message, retryable=code in RETRYABLE_CODES, sdk_error=sdk_error)


def refusal_for_auth_result(name: str) -> JoinRefused | None:
    """The refusal for the SDK's authentication result, None for AUTHRET_SUCCESS."""
    if name == "AUTHRET_SUCCESS":
        return None
    code = AUTH_RESULT_CODES.get(name, JoinRefusal.SDK_AUTH_FAILED)
    return _refused(code, f"Zoom Meeting SDK authentication failed ({name}): check the app's client "
                          "id/secret and that this host can reach zoom.us", name)


#: What the SDK sometimes answers instead of MEETING_FAIL_AUTHORIZED_USER_NOT_INMEETING when an
#: OBF join is refused because the authorizing user is away (code 65535).
AMBIGUOUS_OBF_FAIL_CODE = "MEETING_FAIL_UNKNOWN"


def refusal_for_fail_code(name: str, *, zak_only: bool = False, obf: bool = False) -> JoinRefused:
    """The refusal for a MeetingFailCode; token failures name the ZAK when only a ZAK was sent.
    For an OBF join, 65535 reads as "the authorizing user is not in the meeting" (retried)."""
    code = MEETING_FAIL_CODES.get(name, JoinRefusal.JOIN_FAILED)
    if obf and name == AMBIGUOUS_OBF_FAIL_CODE:
        code = JoinRefusal.AUTHORIZED_USER_NOT_IN_MEETING
    if zak_only and code in _TOKEN_CODES:
        code = JoinRefusal.ZAK_TOKEN_INVALID
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
        return _refused(JoinRefusal.MEETING_ENDED,
                        f"the meeting ended before the bot got in ({detail})", detail)
    return False


def end_reason_for(status: str, detail: str | None, *, leave_requested: bool) -> EndReason | None:
    """While in the meeting: our end reason once the bot is out, None while it is still in."""
    if status == "MEETING_STATUS_ENDED":
        if leave_requested:
            return EndReason.LEFT
        return END_REASON_CODES.get(detail or "", EndReason.MEETING_ENDED)
    if status in ("MEETING_STATUS_FAILED", "MEETING_STATUS_IDLE"):
        if leave_requested:
            return EndReason.LEFT
        return EndReason.REMOVED if detail == "CONF_FAIL_REMOVED_BY_HOST" else EndReason.MEETING_ENDED
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
