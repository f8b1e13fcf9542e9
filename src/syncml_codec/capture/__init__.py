"""Captured SyncML traffic: messages cut out of pcaps, HTTP dumps, hex and
base64 dumps, OBEX packets, SANs and client logs (:func:`read_capture`), grouped into sessions
(:func:`group_sessions`) and told package by package (:func:`transcribe`)."""

from ._logs import read_syncevolution_dir, syncevolution_dumps
from ._read import detect_input, read_capture
from ._records import (
    SCHEMA,
    AuthCredential,
    AuthRecord,
    AuthVerdict,
    ChunkedItem,
    CommandRecord,
    DatastoreRecord,
    InputRecord,
    MessageRecord,
    PackageRecord,
    SanDatastore,
    SanRecord,
    SessionTranscript,
    StatusRef,
    Transcript,
)
from ._sessions import CapturedSession, SessionMessage, group_sessions, read_messages
from ._transcript import transcribe, transcribe_session
from ._types import INPUT_KINDS, Capture, CapturedMessage, CaptureNote, Direction, HttpInfo, InputKind

__all__ = [
    "INPUT_KINDS",
    "SCHEMA",
    "AuthCredential",
    "AuthRecord",
    "AuthVerdict",
    "Capture",
    "CaptureNote",
    "CapturedMessage",
    "CapturedSession",
    "ChunkedItem",
    "CommandRecord",
    "DatastoreRecord",
    "Direction",
    "HttpInfo",
    "InputKind",
    "InputRecord",
    "MessageRecord",
    "PackageRecord",
    "SanDatastore",
    "SanRecord",
    "SessionMessage",
    "SessionTranscript",
    "StatusRef",
    "Transcript",
    "detect_input",
    "group_sessions",
    "read_capture",
    "read_messages",
    "read_syncevolution_dir",
    "syncevolution_dumps",
    "transcribe",
    "transcribe_session",
]
