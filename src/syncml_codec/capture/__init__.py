"""Captured SyncML traffic: messages cut out of pcaps, HTTP dumps, hex and
base64 dumps, OBEX packets, SANs and client logs (:func:`read_capture`)."""

from ._logs import read_syncevolution_dir, syncevolution_dumps
from ._read import detect_input, read_capture
from ._types import INPUT_KINDS, Capture, CapturedMessage, CaptureNote, Direction, HttpInfo, InputKind

__all__ = [
    "INPUT_KINDS",
    "Capture",
    "CaptureNote",
    "CapturedMessage",
    "Direction",
    "HttpInfo",
    "InputKind",
    "detect_input",
    "read_capture",
    "read_syncevolution_dir",
    "syncevolution_dumps",
]
