"""The elements inside SyncML commands: addresses, credentials, meta
information, items, filters.  Field order follows the SyncML 1.2 DTD (and
MetInf 1.2 for ``Meta``); leaves are text (``str``, an :class:`~._node.OpaqueStr` when it came as
opaque data), kept exactly as sent.

Every class is generic over ``Missing``: what a required field holds when
it is missing.  ``Target`` (``Target[Never]``) is read strictly, and its
``loc_uri`` is a ``str``; ``Target[None]`` comes from a lenient read, and
its ``loc_uri`` may be None (``str | None``)."""

from __future__ import annotations

from typing import Any

from ._node import Layout, Missing, Node, data, fields_of, flag, model, node, text

__all__ = [
    "Anchor",
    "Chal",
    "Cred",
    "Field",
    "Filter",
    "Item",
    "MapItem",
    "Mem",
    "MetInf",
    "Meta",
    "Record",
    "Source",
    "SourceParent",
    "Target",
    "TargetParent",
]


@model("Anchor")
class Anchor(Node[Missing]):
    """The sync anchors of a datastore (``<Anchor>`` in ``<Meta>``): ``last``, the anchor of the
    previous sync (None on a first sync), and ``next``, the one of this sync."""

    last: str | None = text("Last")
    next: str | Missing = text("Next", required=True)
    _layout: Layout | None = None


@model("Mem")
class Mem(Node[Missing]):
    """A datastore's memory (``<Mem>``): free bytes, free item IDs, and whether it is shared."""

    shared_mem: bool = flag("SharedMem")
    free_mem: str | None = text("FreeMem")
    free_id: str | None = text("FreeID")
    _layout: Layout | None = None


@fields_of
class _MetInfFields(Node[Missing]):
    """The MetInf elements, in ``<Meta>`` and in a standalone ``<MetInf>``."""

    field_level: bool = flag("FieldLevel")
    format: str | None = text("Format")
    type: str | None = text("Type")
    mark: str | None = text("Mark")
    size: str | None = text("Size")
    anchor: Anchor[Missing] | None = node("Anchor")
    version: str | None = text("Version")
    next_nonce: str | None = text("NextNonce")
    max_msg_size: str | None = text("MaxMsgSize")
    max_obj_size: str | None = text("MaxObjSize")
    emi: tuple[str, ...] = text("EMI", many=True)
    mem: Mem[Missing] | None = node("Mem")
    _layout: Layout | None = None

    @property
    def max_msg_size_int(self) -> int | None:
        return _int(self.max_msg_size)

    @property
    def max_obj_size_int(self) -> int | None:
        return _int(self.max_obj_size)

    @property
    def size_int(self) -> int | None:
        return _int(self.size)


@model("Meta")
class Meta(_MetInfFields[Missing]):
    """Meta information of a command, an item or the header."""


@model("MetInf")
class MetInf(_MetInfFields[Missing]):
    """A standalone MetInf document's root (same fields as ``<Meta>``)."""


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


@model("Cred")
class Cred(Node[Missing]):
    """Credentials (``<Cred>``): ``data`` in the auth scheme its ``meta`` names (:attr:`type`); see
    :mod:`syncml_codec.model.auth` to make and check them."""

    meta: Meta[Missing] | None = node("Meta")
    data: str | Missing = text("Data", required=True)
    _layout: Layout | None = None

    @property
    def type(self) -> str:
        """The auth scheme, ``syncml:auth-basic`` when not given."""
        return (self.meta.type if self.meta and self.meta.type else "syncml:auth-basic").strip()


@model("Chal")
class Chal(Node[Missing]):
    """A challenge (``<Chal>``, in a Status): its ``meta`` names the auth scheme asked for and, for
    MD5, the nonce to use next."""

    meta: Meta[Missing] | Missing = node("Meta", required=True)
    _layout: Layout | None = None


@model("Filter")
class Filter(Node[Missing]):
    """A filter on a sync target (``<Filter>``, SyncML 1.2): a :class:`Field` and/or :class:`Record`
    expression in the grammar its ``meta`` type names; ``filter_type`` is INCLUSIVE or EXCLUSIVE."""

    meta: Meta[Missing] | Missing = node("Meta", required=True)
    field: Field[Missing] | None = node("Field")
    record: Record[Missing] | None = node("Record")
    filter_type: str | None = text("FilterType")
    _layout: Layout | None = None


@model("Target")
class Target(Node[Missing]):
    """Where a message, command or item goes (``<Target>``): its URI (``LocURI``), an optional
    name and, SyncML 1.2, a filter."""

    loc_uri: str | Missing = text("LocURI", required=True)
    loc_name: str | None = text("LocName")
    filter: Filter[Missing] | None = node("Filter")
    _layout: Layout | None = None


@model("Source")
class Source(Node[Missing]):
    """Where a message, command or item comes from (``<Source>``): its URI (``LocURI``) and an
    optional name."""

    loc_uri: str | Missing = text("LocURI", required=True)
    loc_name: str | None = text("LocName")
    _layout: Layout | None = None


@model("SourceParent")
class SourceParent(Node[Missing]):
    """The sender's URI of an item's parent folder (``<SourceParent>``, SyncML 1.2)."""

    loc_uri: str | Missing = text("LocURI", required=True)
    _layout: Layout | None = None


@model("TargetParent")
class TargetParent(Node[Missing]):
    """The receiver's URI of an item's parent folder (``<TargetParent>``, SyncML 1.2)."""

    loc_uri: str | Missing = text("LocURI", required=True)
    _layout: Layout | None = None


@model("Item")
class Item(Node[Missing]):
    """One item of a command (``<Item>``): its target and source, parent folders, meta, its
    ``data``, and ``more_data`` when that data is one chunk of a larger object."""

    target: Target[Missing] | None = node("Target")
    source: Source[Missing] | None = node("Source")
    source_parent: SourceParent | None = node("SourceParent")
    target_parent: TargetParent | None = node("TargetParent")
    meta: Meta[Missing] | None = node("Meta")
    data: Any = data()
    more_data: bool = flag("MoreData")
    _layout: Layout | None = None


@model("Field")
class Field(Node[Missing]):
    """The field-level part of a :class:`Filter` (``<Field>``): the properties to send, as an item."""

    item: Item[Missing] | Missing = node("Item", required=True)
    _layout: Layout | None = None


@model("Record")
class Record(Node[Missing]):
    """The record-level part of a :class:`Filter` (``<Record>``): which records to sync, as an item."""

    item: Item[Missing] | Missing = node("Item", required=True)
    _layout: Layout | None = None


@model("MapItem")
class MapItem(Node[Missing]):
    """One ID mapping of a :class:`Map` (``<MapItem>``): ``target`` is the server's ID of an item,
    ``source`` the client's."""

    target: Target[Missing] | Missing = node("Target", required=True)
    source: Source[Missing] | Missing = node("Source", required=True)
    _layout: Layout | None = None

