"""SyncML status codes (101-516) and alert codes (100-126, 200-210,
221-226) with their meanings from the OMA DS 1.2 representation protocol."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["AlertCode", "StatusCode", "alert_meaning", "status_meaning"]


class StatusCode(IntEnum):
    """The status codes of OMA DS 1.2 by name; :func:`status_meaning` tells what one means."""

    IN_PROGRESS = 101
    OK = 200
    ITEM_ADDED = 201
    ACCEPTED_FOR_PROCESSING = 202
    NON_AUTHORITATIVE_RESPONSE = 203
    NO_CONTENT = 204
    RESET_CONTENT = 205
    PARTIAL_CONTENT = 206
    CONFLICT_RESOLVED_WITH_MERGE = 207
    CONFLICT_RESOLVED_CLIENT_WINS = 208
    CONFLICT_RESOLVED_WITH_DUPLICATE = 209
    DELETE_WITHOUT_ARCHIVE = 210
    ITEM_NOT_DELETED = 211
    AUTHENTICATION_ACCEPTED = 212
    CHUNKED_ITEM_ACCEPTED = 213
    OPERATION_CANCELLED = 214
    NOT_EXECUTED = 215
    ATOMIC_ROLLBACK_OK = 216
    MULTIPLE_CHOICES = 300
    MOVED_PERMANENTLY = 301
    FOUND = 302
    SEE_OTHER = 303
    NOT_MODIFIED = 304
    USE_PROXY = 305
    BAD_REQUEST = 400
    INVALID_CREDENTIALS = 401
    PAYMENT_REQUIRED = 402
    FORBIDDEN = 403
    NOT_FOUND = 404
    COMMAND_NOT_ALLOWED = 405
    OPTIONAL_FEATURE_NOT_SUPPORTED = 406
    MISSING_CREDENTIALS = 407
    REQUEST_TIMEOUT = 408
    CONFLICT = 409
    GONE = 410
    SIZE_REQUIRED = 411
    INCOMPLETE_COMMAND = 412
    REQUEST_ENTITY_TOO_LARGE = 413
    URI_TOO_LONG = 414
    UNSUPPORTED_MEDIA_TYPE = 415
    REQUESTED_SIZE_TOO_BIG = 416
    RETRY_LATER = 417
    ALREADY_EXISTS = 418
    CONFLICT_RESOLVED_SERVER_WINS = 419
    DEVICE_FULL = 420
    UNKNOWN_SEARCH_GRAMMAR = 421
    BAD_CGI_SCRIPT = 422
    SOFT_DELETE_CONFLICT = 423
    SIZE_MISMATCH = 424
    PERMISSION_DENIED = 425
    PARTIAL_ITEM_NOT_ACCEPTED = 426
    ITEM_NOT_EMPTY = 427
    MOVE_FAILED = 428
    COMMAND_FAILED = 500
    COMMAND_NOT_IMPLEMENTED = 501
    BAD_GATEWAY = 502
    SERVICE_UNAVAILABLE = 503
    GATEWAY_TIMEOUT = 504
    DTD_VERSION_NOT_SUPPORTED = 505
    PROCESSING_ERROR = 506
    ATOMIC_FAILED = 507
    REFRESH_REQUIRED = 508
    RECIPIENT_EXCEPTION_RESERVED = 509
    DATASTORE_FAILURE = 510
    SERVER_FAILURE = 511
    SYNCHRONIZATION_FAILED = 512
    PROTOCOL_VERSION_NOT_SUPPORTED = 513
    OPERATION_CANCELLED_FAILURE = 514
    ATOMIC_ROLLBACK_FAILED = 516


class AlertCode(IntEnum):
    """The alert codes of OMA DS 1.2 by name (sync types are 200-210); :func:`alert_meaning` tells
    what one means."""

    DISPLAY = 100
    # 101-150 client and server initiated user alerts
    FIRST_USER_ALERT = 101
    TWO_WAY = 200
    SLOW_SYNC = 201
    ONE_WAY_FROM_CLIENT = 202
    REFRESH_FROM_CLIENT = 203
    ONE_WAY_FROM_SERVER = 204
    REFRESH_FROM_SERVER = 205
    TWO_WAY_BY_SERVER = 206
    ONE_WAY_FROM_CLIENT_BY_SERVER = 207
    REFRESH_FROM_CLIENT_BY_SERVER = 208
    ONE_WAY_FROM_SERVER_BY_SERVER = 209
    REFRESH_FROM_SERVER_BY_SERVER = 210
    RESULT_ALERT = 221
    NEXT_MESSAGE = 222
    NO_END_OF_DATA = 223
    ALERT_SUSPEND = 224
    ALERT_RESUME = 225
    ALERT_UNKNOWN = 226


_STATUS_MEANINGS = {
    101: "In progress", 200: "OK", 201: "Item added", 202: "Accepted for processing",
    203: "Non-authoritative response", 204: "No content", 205: "Reset content",
    206: "Partial content", 207: "Conflict resolved with merge",
    208: "Conflict resolved with client's command winning", 209: "Conflict resolved with duplicate",
    210: "Delete without archive", 211: "Item not deleted", 212: "Authentication accepted",
    213: "Chunked item accepted", 214: "Operation cancelled", 215: "Not executed",
    216: "Atomic roll back OK", 300: "Multiple choices", 301: "Moved permanently", 302: "Found",
    303: "See other", 304: "Not modified", 305: "Use proxy", 400: "Bad request",
    401: "Invalid credentials", 402: "Payment required", 403: "Forbidden", 404: "Not found",
    405: "Command not allowed", 406: "Optional feature not supported", 407: "Missing credentials",
    408: "Request timeout", 409: "Conflict", 410: "Gone", 411: "Size required",
    412: "Incomplete command", 413: "Request entity too large", 414: "URI too long",
    415: "Unsupported media type or format", 416: "Requested size too big", 417: "Retry later",
    418: "Already exists", 419: "Conflict resolved with server data", 420: "Device full",
    421: "Unknown search grammar", 422: "Bad CGI script", 423: "Soft-delete conflict",
    424: "Size mismatch", 425: "Permission denied", 426: "Partial item not accepted",
    427: "Item not empty", 428: "Move failed", 500: "Command failed",
    501: "Command not implemented", 502: "Bad gateway", 503: "Service unavailable",
    504: "Gateway timeout", 505: "DTD version not supported", 506: "Processing error",
    507: "Atomic failed", 508: "Refresh required", 509: "Reserved", 510: "Data store failure",
    511: "Server failure", 512: "Synchronization failed", 513: "Protocol version not supported",
    514: "Operation cancelled", 516: "Atomic roll back failed",
}

_ALERT_MEANINGS = {
    100: "Display", 200: "Two-way sync", 201: "Slow sync", 202: "One-way sync from client",
    203: "Refresh sync from client", 204: "One-way sync from server", 205: "Refresh sync from server",
    206: "Two-way sync alerted by server", 207: "One-way from client alerted by server",
    208: "Refresh from client alerted by server", 209: "One-way from server alerted by server",
    210: "Refresh from server alerted by server", 221: "Result alert", 222: "Next message",
    223: "No end of data", 224: "Suspend", 225: "Resume", 226: "Unknown alert",
}


def status_meaning(code: int) -> str:
    """The spec's name for a status code (ranges for unlisted ones)."""
    if code in _STATUS_MEANINGS:
        return _STATUS_MEANINGS[code]
    return {1: "Informational", 2: "Successful", 3: "Redirection", 4: "Originator exception",
            5: "Recipient exception"}.get(code // 100, "Unknown status")


def alert_meaning(code: int) -> str:
    """The spec's name for an alert code."""
    if code in _ALERT_MEANINGS:
        return _ALERT_MEANINGS[code]
    if 101 <= code <= 150:
        return "User alert"
    return "Unknown alert"
