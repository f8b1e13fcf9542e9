"""SyncML commands (SyncML 1.2 DTD order).  Every command has ``cmd_id``;
the containers (Sync, Atomic, Sequence) hold commands of their own."""

from __future__ import annotations

from typing import Any

from ._node import Layout, Missing, Node, Problem, fields_of, flag, model, node, text
from .codes import AlertCode, StatusCode
from .elements import Chal, Cred, Item, MapItem, Meta, Source, Target

__all__ = [
    "COMMANDS",
    "Add",
    "Alert",
    "Atomic",
    "Command",
    "Copy",
    "Delete",
    "Exec",
    "Get",
    "Map",
    "Move",
    "Put",
    "Replace",
    "Results",
    "Search",
    "Sequence",
    "Status",
    "Sync",
]


class Command(Node[Missing]):
    """Base of every command (generic over ``Missing`` as the elements are:
    ``Command[None]`` comes from a lenient read, its ``cmd_id`` may be None)."""

    __slots__ = ()
    cmd_id: str | Missing


@fields_of
class _ItemCommand(Command[Missing]):
    """The fields of Add, Replace, Copy and Move."""

    cmd_id: str | Missing = text("CmdID", required=True)
    no_resp: bool = flag("NoResp")
    cred: Cred[Missing] | None = node("Cred")
    meta: Meta[Missing] | None = node("Meta")
    items: tuple[Item[Missing], ...] = node("Item", many=True, required=True)
    _layout: Layout | None = None


def _code(value: object, enum: type[StatusCode] | type[AlertCode]) -> int | None:
    """``<Data>`` as a code (None: missing, or not a number)."""
    if not isinstance(value, str):
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    try:
        return enum(number)
    except ValueError:
        return number


@model("Add")
class Add(_ItemCommand[Missing]):
    """A Add command."""


@model("Replace")
class Replace(_ItemCommand[Missing]):
    """A Replace command."""


@model("Copy")
class Copy(_ItemCommand[Missing]):
    """A Copy command."""


@model("Move")
class Move(_ItemCommand[Missing]):
    """A Move command."""


@model("Delete")
class Delete(Command[Missing]):
    """A Delete command: the items to delete, by URI, with the Archive (archive it before deleting)
    and SftDel (a soft delete) flags."""

    cmd_id: str | Missing = text("CmdID", required=True)
    no_resp: bool = flag("NoResp")
    archive: bool = flag("Archive")
    sft_del: bool = flag("SftDel")
    cred: Cred[Missing] | None = node("Cred")
    meta: Meta[Missing] | None = node("Meta")
    items: tuple[Item[Missing], ...] = node("Item", many=True, required=True)
    _layout: Layout | None = None


@model("Alert")
class Alert(Command[Missing]):
    """An Alert command: the code in ``data`` (:class:`AlertCode`), e.g. the sync type asked for a
    datastore, whose URIs and anchors its items carry."""

    cmd_id: str | Missing = text("CmdID", required=True)
    no_resp: bool = flag("NoResp")
    cred: Cred[Missing] | None = node("Cred")
    data: str | None = text("Data")
    correlator: str | None = text("Correlator")
    items: tuple[Item[Missing], ...] = node("Item", many=True)
    _layout: Layout | None = None

    @property
    def code(self) -> int | None:
        """The alert code (an :class:`AlertCode` when known)."""
        return _code(self.data, AlertCode)


@model("Exec")
class Exec(Command[Missing]):
    """An Exec command: asks the receiver to run the executable its item names."""

    cmd_id: str | Missing = text("CmdID", required=True)
    no_resp: bool = flag("NoResp")
    cred: Cred[Missing] | None = node("Cred")
    meta: Meta[Missing] | None = node("Meta")
    correlator: str | None = text("Correlator")
    item: Item[Missing] | Missing = node("Item", required=True)
    _layout: Layout | None = None


@fields_of
class _LangItemCommand(Command[Missing]):
    """The fields of Get and Put."""

    cmd_id: str | Missing = text("CmdID", required=True)
    no_resp: bool = flag("NoResp")
    lang: str | None = text("Lang")
    cred: Cred[Missing] | None = node("Cred")
    meta: Meta[Missing] | None = node("Meta")
    items: tuple[Item[Missing], ...] = node("Item", many=True, required=True)
    _layout: Layout | None = None


@model("Get")
class Get(_LangItemCommand[Missing]):
    """A Get command."""


@model("Put")
class Put(_LangItemCommand[Missing]):
    """A Put command."""


@model("Map")
class Map(Command[Missing]):
    """A Map command: the client's IDs of the items the server added, one :class:`MapItem` each,
    for the datastores ``target`` (server) and ``source`` (client)."""

    cmd_id: str | Missing = text("CmdID", required=True)
    target: Target[Missing] | Missing = node("Target", required=True)
    source: Source[Missing] | Missing = node("Source", required=True)
    cred: Cred[Missing] | None = node("Cred")
    meta: Meta[Missing] | None = node("Meta")
    map_items: tuple[MapItem[Missing], ...] = node("MapItem", many=True, required=True)
    _layout: Layout | None = None


@model("Results")
class Results(Command[Missing]):
    """A Results command: what a Get or Search asked for (e.g. DevInf), naming it by ``cmd_ref``."""

    cmd_id: str | Missing = text("CmdID", required=True)
    msg_ref: str | None = text("MsgRef")
    cmd_ref: str | Missing = text("CmdRef", required=True)
    meta: Meta[Missing] | None = node("Meta")
    target_ref: str | None = text("TargetRef")
    source_ref: str | None = text("SourceRef")
    items: tuple[Item[Missing], ...] = node("Item", many=True, required=True)
    _layout: Layout | None = None


@model("Search")
class Search(Command[Missing]):
    """A Search command: a query in ``data``, in the grammar ``meta`` names, over the ``sources``."""

    cmd_id: str | Missing = text("CmdID", required=True)
    no_resp: bool = flag("NoResp")
    no_results: bool = flag("NoResults")
    cred: Cred[Missing] | None = node("Cred")
    target: Target[Missing] | None = node("Target")
    sources: tuple[Source[Missing], ...] = node("Source", many=True)
    lang: str | None = text("Lang")
    meta: Meta[Missing] | Missing = node("Meta", required=True)
    data: str | Missing = text("Data", required=True)
    _layout: Layout | None = None


@model("Status")
class Status(Command[Missing]):
    """The answer to one command: its code in ``<Data>``.  Build one with
    :meth:`of`, which takes the code as an ``int``; ``data`` is the wire
    text, as read (a lenient read of a broken message may find it
    non-numeric, and it is written back as it came), and :attr:`code` the
    number (a :class:`StatusCode` when known).

    >>> s = Status.of(cmd_id="1", msg_ref="1", cmd_ref="0", cmd="SyncHdr", code=StatusCode.AUTHENTICATION_ACCEPTED)
    >>> s.data, s.code
    ('212', <StatusCode.AUTHENTICATION_ACCEPTED: 212>)
    """

    cmd_id: str | Missing = text("CmdID", required=True)
    msg_ref: str | Missing = text("MsgRef", required=True)
    cmd_ref: str | Missing = text("CmdRef", required=True)
    cmd: str | Missing = text("Cmd", required=True)
    target_refs: tuple[str, ...] = text("TargetRef", many=True)
    source_refs: tuple[str, ...] = text("SourceRef", many=True)
    cred: Cred[Missing] | None = node("Cred")
    chal: Chal[Missing] | None = node("Chal")
    data: str | Missing = text("Data", required=True)
    items: tuple[Item[Missing], ...] = node("Item", many=True)
    _layout: Layout | None = None

    # Why a classmethod and not a field kind that holds the int: the field
    # stays TEXT so that what is read keeps its spelling (" 200", "2OO" in
    # a broken message) without a Layout entry, and so that the model's
    # fast path and size counting, which know the five SyncML kinds, read
    # and measure Status like any other command.
    @classmethod
    def of(cls, *, cmd_id: str, msg_ref: str, cmd_ref: str, cmd: str, code: int,
           target_refs: tuple[str, ...] = (), source_refs: tuple[str, ...] = (), cred: Cred | None = None,
           chal: Chal | None = None, items: tuple[Item, ...] = ()) -> Status:
        """The Status answering with ``code`` (an ``int``, e.g. a
        :class:`StatusCode`; a ``bool`` or ``str`` raises TypeError)."""
        return Status(cmd_id=cmd_id, msg_ref=msg_ref, cmd_ref=cmd_ref, cmd=cmd, target_refs=target_refs,
                      source_refs=source_refs, cred=cred, chal=chal, data=_wire_code(code), items=items)

    @property
    def code(self) -> int | None:
        """The status code (a :class:`StatusCode` when known; None when
        ``<Data>`` is not a number, as a lenient read may find it)."""
        return _code(self.data, StatusCode)


def _wire_code(code: int) -> str:
    """A status code as ``<Data>`` text (``int(code)``: a StatusCode is written as its number)."""
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"a status code is an int, not {type(code).__name__}")
    return str(int(code))


# the commands a container may hold (SyncML 1.2 DTD)
_IN_SYNC = ("Add", "Atomic", "Copy", "Delete", "Move", "Replace", "Sequence")
_IN_ATOMIC = ("Add", "Delete", "Copy", "Atomic", "Map", "Move", "Replace", "Sequence", "Sync", "Get",
              "Exec", "Alert")


@model("Sync")
class Sync(Command[Missing]):
    """A Sync command: the changes (Add, Replace, Delete ...) to one datastore, ``target`` on the
    receiver and ``source`` on the sender, with the number of changes when announced."""

    cmd_id: str | Missing = text("CmdID", required=True)
    no_resp: bool = flag("NoResp")
    cred: Cred[Missing] | None = node("Cred")
    target: Target[Missing] | None = node("Target")
    source: Source[Missing] | None = node("Source")
    meta: Meta[Missing] | None = node("Meta")
    number_of_changes: str | None = text("NumberOfChanges")
    commands: tuple[Command[Missing], ...] = node(*_IN_SYNC, many=True)
    _layout: Layout | None = None

    def _check(self) -> None:
        # data sync: what is added or replaced must come with its data (an
        # OMA DM Add of an interior node has none, but DM has no <Sync>)
        seen: dict[str, int] = {}
        for command in self.commands:
            n = seen[command.TAG] = seen.get(command.TAG, 0) + 1
            if isinstance(command, (Add, Replace)):
                for k, item in enumerate(command.items, 1):
                    if item.data is None and not item.more_data:
                        raise Problem("Data missing", f"{command.TAG}[{n}]/Item[{k}]")


@model("Atomic")
class Atomic(Command[Missing]):
    """An Atomic command: its commands succeed all together or none does."""

    cmd_id: str | Missing = text("CmdID", required=True)
    no_resp: bool = flag("NoResp")
    meta: Meta[Missing] | None = node("Meta")
    commands: tuple[Command[Missing], ...] = node(*_IN_ATOMIC, many=True)
    _layout: Layout | None = None


@model("Sequence")
class Sequence(Command[Missing]):
    """A Sequence command: its commands run in the order given."""

    cmd_id: str | Missing = text("CmdID", required=True)
    no_resp: bool = flag("NoResp")
    meta: Meta[Missing] | None = node("Meta")
    commands: tuple[Command[Missing], ...] = node(*_IN_ATOMIC, many=True)
    _layout: Layout | None = None


#: every command class by element name
COMMANDS: dict[str, type[Command[Any]]] = {
    cls.TAG: cls for cls in (Add, Alert, Atomic, Copy, Delete, Exec, Get, Map, Move, Put, Replace,
                             Results, Search, Sequence, Status, Sync)
}
