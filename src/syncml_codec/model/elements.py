"""The elements inside SyncML commands: addresses, credentials, meta
information, items, filters.  Field order follows the SyncML 1.2 DTD (and
MetInf 1.2 for ``Meta``); leaves are text, kept exactly as sent."""

from __future__ import annotations

from typing import Any

from ._node import Layout, Node, data, fields_of, flag, model, node, text

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
class Anchor(Node):
    last: str | None = text("Last")
    next: str = text("Next", required=True)
    _layout: Layout | None = None


@model("Mem")
class Mem(Node):
    shared_mem: bool = flag("SharedMem")
    free_mem: str | None = text("FreeMem")
    free_id: str | None = text("FreeID")
    _layout: Layout | None = None


@fields_of
class _MetInfFields(Node):
    """The MetInf elements, in ``<Meta>`` and in a standalone ``<MetInf>``."""

    field_level: bool = flag("FieldLevel")
    format: str | None = text("Format")
    type: str | None = text("Type")
    mark: str | None = text("Mark")
    size: str | None = text("Size")
    anchor: Anchor | None = node("Anchor")
    version: str | None = text("Version")
    next_nonce: str | bytes | None = text("NextNonce")
    max_msg_size: str | None = text("MaxMsgSize")
    max_obj_size: str | None = text("MaxObjSize")
    emi: tuple[str, ...] = text("EMI", many=True)
    mem: Mem | None = node("Mem")
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
class Meta(_MetInfFields):
    """Meta information of a command, an item or the header."""


@model("MetInf")
class MetInf(_MetInfFields):
    """A standalone MetInf document's root (same fields as ``<Meta>``)."""


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


@model("Cred")
class Cred(Node):
    meta: Meta | None = node("Meta")
    data: str | bytes = text("Data", required=True)
    _layout: Layout | None = None

    @property
    def type(self) -> str:
        """The auth scheme, ``syncml:auth-basic`` when not given."""
        return (self.meta.type if self.meta and self.meta.type else "syncml:auth-basic").strip()


@model("Chal")
class Chal(Node):
    meta: Meta = node("Meta", required=True)
    _layout: Layout | None = None


@model("Filter")
class Filter(Node):
    meta: Meta = node("Meta", required=True)
    field: Field | None = node("Field")
    record: Record | None = node("Record")
    filter_type: str | None = text("FilterType")
    _layout: Layout | None = None


@model("Target")
class Target(Node):
    loc_uri: str = text("LocURI", required=True)
    loc_name: str | None = text("LocName")
    filter: Filter | None = node("Filter")
    _layout: Layout | None = None


@model("Source")
class Source(Node):
    loc_uri: str = text("LocURI", required=True)
    loc_name: str | None = text("LocName")
    _layout: Layout | None = None


@model("SourceParent")
class SourceParent(Node):
    loc_uri: str = text("LocURI", required=True)
    _layout: Layout | None = None


@model("TargetParent")
class TargetParent(Node):
    loc_uri: str = text("LocURI", required=True)
    _layout: Layout | None = None


@model("Item")
class Item(Node):
    target: Target | None = node("Target")
    source: Source | None = node("Source")
    source_parent: SourceParent | None = node("SourceParent")
    target_parent: TargetParent | None = node("TargetParent")
    meta: Meta | None = node("Meta")
    data: Any = data()
    more_data: bool = flag("MoreData")
    _layout: Layout | None = None


@model("Field")
class Field(Node):
    item: Item = node("Item", required=True)
    _layout: Layout | None = None


@model("Record")
class Record(Node):
    item: Item = node("Item", required=True)
    _layout: Layout | None = None


@model("MapItem")
class MapItem(Node):
    target: Target = node("Target", required=True)
    source: Source = node("Source", required=True)
    _layout: Layout | None = None

