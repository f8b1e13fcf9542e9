"""OMA DS Data Sync Notification: the server-alerted sync message
("package #0", SAN) an SMS or WAP-push gateway delivers to a device, which
then starts a session of the sync types the notification names.

The message is binary (OMA-TS-DS_DataSyncNotification 1.2; bits are numbered
from the most significant)::

    digest        16 bytes   MD5, see below
    trigger-hdr   version 10 bits (SyncML 1.1 -> 11, 1.2 -> 12), ui-mode 2 bits,
                  initiator 1 bit, future-use 27 bits (zero), session-id 16 bits,
                  server-identifier-length 8 bits, server-identifier (that many bytes)
    trigger-body  num-syncs 4 bits, future-use 4 bits, then per sync:
                  sync-type 4 bits (6-10: alerts 206-210), future-use 4 bits,
                  content-type 24 bits (a WSP/OMNA content type code, 0: not said),
                  server-URI-length 8 bits, server-URI; the rest is vendor-specific

``num-syncs`` 0 means "every datastore".  The digest authenticates the
notification to the device: ``H(B64(H(server-identifier:password)):nonce:
B64(H(trigger)))`` with H = MD5, B64 = base64, ``trigger`` every byte after the
digest, ``password`` and ``nonce`` those the device keeps for the server
(many devices, Nokia's PC Suite among them, send an empty password and nonce).

A decoded notification keeps the exact bytes its digest covers
(:attr:`Notification.trigger`), so :meth:`Notification.verify` checks what was
sent, not a re-encoding.  Decoding is bounded by the input (every length is
checked against what is left) and linear in its size.

>>> n = Notification(server_id="syncml-codec", alerts=(SyncAlert(206, "Contacts", "text/x-vcard"),))
>>> wire = n.to_bytes(password="secret", nonce=b"n1")
>>> back = Notification.from_bytes(wire)
>>> back.alerts[0].sync_type, back.alerts[0].server_uri, back.verify("secret", b"n1"), back.verify("x", b"n1")
(206, 'Contacts', True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from enum import IntEnum

from ..errors import NotificationError

__all__ = ["CONTENT_TYPE", "Initiator", "Notification", "SyncAlert", "UIMode", "looks_like_notification",
           "notification_digest"]

#: the MIME type a notification travels under (Nokia's software uses the WBXML one)
CONTENT_TYPE = "application/vnd.syncml.ds.notification"

_DIGEST = 16
_HEADER = 8  # version .. server-identifier-length
_VERSIONS = {11: "1.1", 12: "1.2"}
_VERSION_CODES = {text: code for code, text in _VERSIONS.items()}
#: WSP well-known content type codes (WAP-230 table 40) of the types a datastore holds;
#: a type not listed goes out as 0 ("not specified": the server URI names the datastore)
_WSP_TYPES = {0x03: "text/plain", 0x06: "text/x-vcalendar", 0x07: "text/x-vcard"}
_WSP_CODES = {ctype: code for code, ctype in _WSP_TYPES.items()}
_MAX_FIELD = 255  # server identifier and server URIs: one length byte


class UIMode(IntEnum):
    """What the device shows the user before it syncs."""

    NOT_SPECIFIED = 0
    BACKGROUND = 1
    INFORMATIVE = 2
    USER_INTERACTION = 3


class Initiator(IntEnum):
    """Who asked for the sync: the user (on the server side) or the server."""

    USER = 0
    SERVER = 1


@dataclass(frozen=True, slots=True)
class SyncAlert:
    """One datastore the notification alerts: ``sync_type`` 206-210,
    ``server_uri`` the server's datastore as the device addresses it,
    ``content_type`` its MIME type (None: not said, or a code this module does
    not name: ``content_type_code`` keeps the code as sent)."""

    sync_type: int
    server_uri: str
    content_type: str | None = None
    content_type_code: int = -1  # -1: from content_type when encoded

    @property
    def code(self) -> int:
        """The 24-bit content type code sent for this datastore."""
        if self.content_type_code >= 0:
            return self.content_type_code
        return _WSP_CODES.get((self.content_type or "").strip().lower(), 0)


@dataclass(frozen=True, slots=True)
class Notification:
    """A Data Sync Notification.  ``alerts`` empty means every datastore;
    ``vendor`` the vendor-specific bytes after the last alert; ``digest`` and
    ``trigger`` are what :meth:`from_bytes` read (``b""`` for one made here:
    :meth:`to_bytes` computes them)."""

    server_id: str
    alerts: tuple[SyncAlert, ...] = ()
    version: str = "1.2"
    ui_mode: UIMode = UIMode.BACKGROUND
    initiator: Initiator = Initiator.SERVER
    session_id: int = 0
    vendor: bytes = b""
    digest: bytes = field(default=b"", compare=False)
    trigger: bytes = field(default=b"", compare=False, repr=False)

    # -- encode ------------------------------------------------------------
    def trigger_bytes(self) -> bytes:
        """The notification without its digest (what the digest covers)."""
        if self.version not in _VERSION_CODES:
            raise ValueError(f"SyncML version {self.version!r} has no notification (1.1 or 1.2)")
        if not 0 <= self.session_id <= 0xFFFF:
            raise ValueError(f"session id {self.session_id} does not fit 16 bits")
        if len(self.alerts) > 15:
            raise ValueError(f"{len(self.alerts)} datastores: a notification names at most 15")
        head = (_VERSION_CODES[self.version] << 30) | (int(self.ui_mode) << 28) | (int(self.initiator) << 27)
        out = bytearray(head.to_bytes(5, "big"))  # the 27 future-use bits zero
        out += self.session_id.to_bytes(2, "big")
        out += _counted(self.server_id, "server identifier")
        out.append(len(self.alerts) << 4)
        for alert in self.alerts:
            if not 206 <= alert.sync_type <= 210:
                raise ValueError(f"sync type {alert.sync_type}: a notification alerts 206-210")
            if not 0 <= alert.code <= 0xFFFFFF:
                raise ValueError(f"content type code {alert.code} does not fit 24 bits")
            out.append((alert.sync_type - 200) << 4)
            out += alert.code.to_bytes(3, "big")
            out += _counted(alert.server_uri, "server URI")
        out += self.vendor
        return bytes(out)

    def to_bytes(self, password: str | bytes = "", nonce: str | bytes = b"") -> bytes:
        """The notification as sent: its digest (with the server ``password``
        and ``nonce`` the device keeps), then its trigger."""
        trigger = self.trigger_bytes()
        return notification_digest(self.server_id, password, nonce, trigger) + trigger

    # -- decode ------------------------------------------------------------
    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Notification:
        """Read a notification; :class:`~syncml_codec.errors.NotificationError`
        (a ``ValueError`` with the byte ``offset``) when it is not one."""
        raw = bytes(data)
        reader = _Reader(raw)
        digest = reader.take(_DIGEST, "digest")
        head = int.from_bytes(reader.take(5, "header"), "big")
        code = head >> 30
        if code not in _VERSIONS:
            raise NotificationError(f"version field {code} is not SyncML 1.1 (11) or 1.2 (12)", _DIGEST)
        ui_mode = UIMode((head >> 28) & 3)
        initiator = Initiator((head >> 27) & 1)
        session_id = int.from_bytes(reader.take(2, "session id"), "big")
        server_id = reader.text("server identifier")
        count = reader.take(1, "number of syncs")[0] >> 4
        alerts = []
        for _ in range(count):
            at = reader.pos
            kind = reader.take(1, "sync type")[0] >> 4
            if not 6 <= kind <= 10:
                raise NotificationError(f"sync type {kind} is not one of 6-10 (alerts 206-210)", at)
            ctype = int.from_bytes(reader.take(3, "content type"), "big")
            uri = reader.text("server URI")
            alerts.append(SyncAlert(200 + kind, uri, _WSP_TYPES.get(ctype), ctype))
        return cls(server_id=server_id, alerts=tuple(alerts), version=_VERSIONS[code], ui_mode=ui_mode,
                   initiator=initiator, session_id=session_id, vendor=raw[reader.pos:], digest=digest,
                   trigger=raw[_DIGEST:])

    def verify(self, password: str | bytes, nonce: str | bytes = b"") -> bool:
        """Whether the digest read is the one ``password`` and ``nonce`` make
        (constant-time comparison).  A notification made here, not read,
        has no digest: False."""
        if len(self.digest) != _DIGEST:
            return False
        expected = notification_digest(self.server_id, password, nonce, self.trigger or self.trigger_bytes())
        return hmac.compare_digest(expected, self.digest)


def notification_digest(server_id: str | bytes, password: str | bytes, nonce: str | bytes,
                        trigger: bytes) -> bytes:
    """``H(B64(H(server-identifier:password)):nonce:B64(H(trigger)))``, H = MD5
    (16 bytes).  Text is taken as UTF-8.

    >>> notification_digest("PC Suite Data Sync", "", "", b"").hex()[:8], len(notification_digest("a", "b", "", b"x"))
    ('f7e0bd7d', 16)
    """
    first = base64.b64encode(hashlib.md5(_bytes(server_id) + b":" + _bytes(password)).digest())
    body = base64.b64encode(hashlib.md5(trigger).digest())
    return hashlib.md5(first + b":" + _bytes(nonce) + b":" + body).digest()


def looks_like_notification(data: bytes | bytearray | memoryview) -> bool:
    """Whether ``data`` reads as a whole notification: SyncML 1.1 or 1.2,
    future-use bits zero, every length within the input, sync types 6-10
    (a WBXML or XML SyncML message does not)."""
    raw = bytes(data[:4096])
    if len(raw) < _DIGEST + _HEADER + 1 or raw[:1] == b"<":
        return False
    head = int.from_bytes(raw[_DIGEST:_DIGEST + 5], "big")
    if head >> 30 not in _VERSIONS or head & ((1 << 27) - 1):
        return False
    try:
        Notification.from_bytes(data)
    except NotificationError:
        return False
    return True


class _Reader:
    """Bounded reads from a notification: every length against what is left."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise NotificationError(f"truncated: {what} needs {n} bytes, {len(self.data) - self.pos} left",
                                    len(self.data))
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def text(self, what: str) -> str:
        length = self.take(1, f"{what} length")[0]
        at = self.pos
        raw = self.take(length, what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise NotificationError(f"{what} is not UTF-8 text", at) from None


def _counted(text: str, what: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > _MAX_FIELD:
        raise ValueError(f"{what} of {len(raw)} bytes: at most {_MAX_FIELD}")
    return bytes([len(raw)]) + raw


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value
