"""The records of a transcript (:func:`~syncml_codec.capture.transcribe`):
plain dataclasses, one per thing a session is told in (message, package,
datastore, authentication, chunked item, notification), whose ``to_json``
is the ``--json`` output of ``syncml inspect``, documented field by field in
``docs/transcript-json.md``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "SCHEMA",
    "AuthCredential",
    "AuthRecord",
    "AuthVerdict",
    "ChunkedItem",
    "CommandRecord",
    "DatastoreRecord",
    "InputRecord",
    "MessageRecord",
    "PackageRecord",
    "SanDatastore",
    "SanRecord",
    "SessionTranscript",
    "StatusRef",
    "Transcript",
]

#: the ``schema`` of the JSON document (bumped when a field changes meaning or goes)
SCHEMA = "syncml-codec/transcript/1"


def _json(obj: Any) -> Any:
    return asdict(obj)


@dataclass
class StatusRef:
    """What a Status answers: the command's name, its CmdID and message
    (``cmd_ref``, ``msg_ref``), and how many TargetRef / SourceRef it names."""

    cmd: str | None
    cmd_ref: str | None
    msg_ref: str | None
    target_refs: int
    source_refs: int


@dataclass
class CommandRecord:
    """One command of a message.  ``code``/``meaning`` for Status and Alert;
    ``answers`` for Status (and Results); ``chal_type``/``next_nonce`` when a
    Status challenges; ``target``/``source`` the datastore URIs (Alert, Sync,
    Map, first item of others); ``items`` the Item (or MapItem) count;
    ``changes`` the item counts by operation inside a Sync, Atomic or Sequence
    (nested containers included; a soft delete counts as ``SftDel``);
    ``commands`` the containers nested inside it; ``more_data`` how many
    items are chunks with more to come; ``cred`` the auth scheme when the
    command carries credentials."""

    name: str
    cmd_id: str | None
    code: int | None = None
    meaning: str | None = None
    answers: StatusRef | None = None
    chal_type: str | None = None
    next_nonce: bool = False
    target: str | None = None
    source: str | None = None
    items: int = 0
    changes: dict[str, int] = field(default_factory=dict)
    commands: list[CommandRecord] = field(default_factory=list)
    more_data: int = 0
    cred: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready data."""
        out: dict[str, Any] = _json(self)
        return out


@dataclass
class MessageRecord:
    """One message: ``index`` in the session (from 1), ``direction``
    (``client``/``server``/``unknown``), ``msg_id``, ``size`` in bytes,
    ``encoding`` (``xml``/``wbxml``/``san``), ``origin`` (where the capture
    had it), ``time`` since the session's first message and ``gap`` since the
    previous one (seconds; None when the capture has no times), the HTTP
    ``http_status`` of a response, ``final``, ``resp_uri``, the header's
    credentials scheme ``cred``, the ``commands``, ``error`` when the
    message could not be read, ``problem`` when it was read leniently (not
    valid SyncML: what a strict read said)."""

    index: int
    direction: str
    msg_id: str | None
    size: int
    encoding: str
    origin: str
    time: float | None = None
    gap: float | None = None
    http_status: int | None = None
    final: bool = False
    resp_uri: str | None = None
    cred: str | None = None
    commands: list[CommandRecord] = field(default_factory=list)
    error: str | None = None
    problem: str | None = None


@dataclass
class PackageRecord:
    """One package: its OMA DS ``numbers`` (usually one; ``[1, 3]`` for a
    client that sends its changes with its initialization; empty when it
    cannot be told), ``name``, ``sender``, whether it ended with ``Final``
    (``complete``), and its ``messages`` (the other side's in-between
    messages included)."""

    numbers: list[int]
    name: str
    sender: str
    complete: bool
    messages: list[MessageRecord] = field(default_factory=list)


@dataclass
class DatastoreRecord:
    """One datastore of a session: ``client_uri`` -> ``server_uri``, the sync
    type the client ``asked`` and the one the server ``granted`` (Alert codes,
    with their meanings), the Status the server gave the client's Alert
    (``alert_status``), the anchors of both sides, and the item counts sent
    each way (``from_client``, ``from_server``: by operation, ``Map`` for
    mappings; an item sent in chunks counts once)."""

    client_uri: str | None
    server_uri: str | None
    asked: int | None = None
    asked_meaning: str | None = None
    granted: int | None = None
    granted_meaning: str | None = None
    alert_status: int | None = None
    client_last: str | None = None
    client_next: str | None = None
    server_last: str | None = None
    server_next: str | None = None
    from_client: dict[str, int] = field(default_factory=dict)
    from_server: dict[str, int] = field(default_factory=dict)


@dataclass
class AuthCredential:
    """Credentials the client sent: ``scheme`` (``basic``, ``md5``, or the
    type as written), ``where`` (``SyncHdr`` or a command's name), in which
    message (``message``: index in the session)."""

    scheme: str
    where: str
    message: int


@dataclass
class AuthVerdict:
    """The server's Status for a client's SyncHdr: ``code`` and ``meaning``,
    the challenge's scheme (``chal_type``) and whether it carried a
    ``next_nonce``, in which ``message``."""

    code: int | None
    meaning: str
    chal_type: str | None
    next_nonce: bool
    message: int


@dataclass
class AuthRecord:
    """Authentication in a session: the ``credentials`` sent (empty: none),
    the server's ``verdicts``, and the ``outcome``: ``authenticated`` (212,
    or 200 to credentials), ``refused`` (the last verdict 401/407 or another
    error), ``not required`` (200 without credentials), ``unknown`` (no
    verdict in the capture)."""

    credentials: list[AuthCredential] = field(default_factory=list)
    verdicts: list[AuthVerdict] = field(default_factory=list)
    outcome: str = "unknown"


@dataclass
class ChunkedItem:
    """An item sent in chunks (MoreData): by whom (``sender``), in which
    command, its URI, the number of ``chunks``, the ``declared_size`` (Meta
    Size of the first chunk), the ``received_size`` (bytes of data in all
    chunks), and ``complete``: the last chunk came without MoreData and the
    sizes agree (when one was declared)."""

    sender: str
    command: str
    uri: str | None
    chunks: int
    declared_size: int | None
    received_size: int
    complete: bool


@dataclass
class SanDatastore:
    """One datastore a notification alerts: ``sync_type`` (206-210) and its
    meaning, the ``server_uri``, the ``content_type`` when given."""

    sync_type: int
    meaning: str
    server_uri: str
    content_type: str | None


@dataclass
class SanRecord:
    """A decoded Data Sync Notification (package #0); ``error`` instead when
    it could not be decoded."""

    version: str | None = None
    ui_mode: str | None = None
    initiator: str | None = None
    session_id: int | None = None
    server_id: str | None = None
    datastores: list[SanDatastore] = field(default_factory=list)
    error: str | None = None


@dataclass
class SessionTranscript:
    """One session: ``kind`` (``syncml`` or ``san``), its ``session_id``,
    ``device``, ``server`` URL, the ``resp_uris`` the server gave (in order,
    no repeats), the SyncML ``version``, the ``encoding`` (``xml``, ``wbxml``,
    ``mixed``, ``san``), ``duration`` (seconds, None without times), the
    ``packages``, ``datastores``, ``auth``, ``chunked_items``, the control
    ``alerts`` seen (221-226, as commands), the ``errors`` (Status 4xx/5xx
    other than an authentication challenge that was then met, unreadable
    messages), the ``san`` of a notification, and the ``outcome``
    (``completed``, ``failed``, ``incomplete``) with its ``reason``."""

    index: int
    kind: str
    session_id: str | None
    device: str | None
    server: str | None
    resp_uris: list[str] = field(default_factory=list)
    version: str | None = None
    encoding: str | None = None
    duration: float | None = None
    packages: list[PackageRecord] = field(default_factory=list)
    datastores: list[DatastoreRecord] = field(default_factory=list)
    auth: AuthRecord = field(default_factory=AuthRecord)
    chunked_items: list[ChunkedItem] = field(default_factory=list)
    alerts: list[CommandRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    san: SanRecord | None = None
    outcome: str = "incomplete"
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """The session as JSON-ready data."""
        out: dict[str, Any] = _json(self)
        return out

    @property
    def messages(self) -> list[MessageRecord]:
        """Every message, in capture order."""
        return [m for p in self.packages for m in p.messages]


@dataclass
class InputRecord:
    """One input: its ``name``, the ``kind`` read, how many ``messages`` it
    gave, and its ``notes`` (``origin``, ``text``, ``error``)."""

    name: str
    kind: str
    messages: int
    notes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Transcript:
    """The whole run: the ``inputs`` and the ``sessions`` found in them."""

    inputs: list[InputRecord] = field(default_factory=list)
    sessions: list[SessionTranscript] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``{"schema": SCHEMA, "inputs": [...], "sessions": [...]}``."""
        return {"schema": SCHEMA, "inputs": [_json(i) for i in self.inputs],
                "sessions": [s.to_json() for s in self.sessions]}
