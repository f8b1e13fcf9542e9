"""Captured SyncML traffic: messages cut out of pcaps, HTTP dumps, hex and
base64 dumps, OBEX packets, SANs and client logs (:func:`read_capture`)."""

from ._read import detect_input, read_capture
from ._sessions import CapturedSession, SessionMessage, group_sessions, read_messages
from ._types import INPUT_KINDS, Capture, CapturedMessage, CaptureNote, Direction, HttpInfo, InputKind

__all__ = [
    "INPUT_KINDS",
    "Capture",
    "CaptureNote",
    "CapturedMessage",
    "CapturedSession",
    "Direction",
    "HttpInfo",
    "InputKind",
    "SessionMessage",
    "detect_input",
    "group_sessions",
    "read_capture",
    "read_messages",
]
