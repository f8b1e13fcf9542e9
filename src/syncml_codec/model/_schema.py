"""The model described as data, for its fast path (``model._fast``).

The fast path reads WBXML straight into model objects and writes them back
without an element tree.  It must give exactly what the reference converter
(``Node._read_element`` / ``Node.to_element`` in ``_node``) gives, so it is
handed this description instead of finding the model's names by itself:
per class its tag, its fields (name, element names, kind, cardinality,
default, slot), which element names go to which field, whether it has a
``_check``, and whether the fast path may read / write it at all.

A class the fast path cannot vouch for is marked so (``fast_read`` /
``fast_write`` false, ``why`` says why) and the fast path hands it to the
reference converter: a class that overrides the converter, a field of a
kind or cardinality it does not know, a field option of ``Spec`` beyond
``attr, tags, kind, card`` that is not at its default (new options of the
framework stay correct without touching the fast path), a slot it cannot
find.  What a TEXT leaf becomes when it is not plain text (opaque data,
several pieces, nothing) is the model's own rule: :meth:`ModelSchema.read_text`
calls it.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, NamedTuple

from ..codec.tree import Element
from . import _lossless
from ._node import DATA, FLAG, MANY, NODE, ONE, OPT, RAW, REGISTRY, SOME, TEXT, Layout, Node, Spec

__all__ = ["SCHEMA", "ClassSchema", "FieldSchema", "ModelSchema"]

_KINDS = {TEXT: "text", FLAG: "flag", NODE: "node", DATA: "data", RAW: "raw"}
_CARDS = {ONE: "one", OPT: "opt", MANY: "many", SOME: "some"}
_KNOWN_OPTIONS = ("attr", "tags", "kind", "card")


class FieldSchema(NamedTuple):
    name: str
    tags: tuple[str, ...]
    kind: str                # "text", "flag", "node", "data" or "raw"
    card: str                # "one", "opt", "many" (zero or more) or "some" (one or more)
    default: Any             # the value when absent: None, False or ()
    slot: Any                # the member descriptor of its slot
    spec: Spec               # the framework's own description


class ClassSchema(NamedTuple):
    cls: type[Node]
    tag: str
    fields: tuple[FieldSchema, ...]
    by_tag: dict[str, int]   # element name -> field index
    nodes: dict[str, type[Node] | None]  # element name of a node field -> its class (None: unknown)
    layout_slot: Any
    checked: bool            # has rules beyond the structure (its own _check)
    fast_read: bool          # the fast path may read it ...
    fast_write: bool         # ... and write it
    fast_root: bool          # ... and read it as a document root (from_element not overridden)
    why: str                 # why not, when it may not


def _own(cls: type, name: str) -> Any:
    """The function behind a method as the class sees it."""
    value = getattr(cls, name, None)
    return getattr(value, "__func__", value)


class ModelSchema:
    """The description of every class of one model layer (the registry of
    ``_node``); ``describe(cls)`` is computed once per class and again
    when the registry grows."""

    def __init__(self, registry: dict[str, type[Node]]) -> None:
        self.registry = registry
        self.layout = Layout
        self._cache: dict[type, ClassSchema | None] = {}
        self._size = len(registry)

    @property
    def generation(self) -> int:
        """Changes when classes are added: descriptions made before are stale."""
        return len(self.registry)

    def describe(self, cls: Any) -> ClassSchema | None:
        """The description of model class ``cls`` (None: not a model class)."""
        if len(self.registry) != self._size:
            self._cache.clear()
            self._size = len(self.registry)
        try:
            return self._cache[cls]
        except (KeyError, TypeError):
            pass
        described = _describe(cls, self.registry) if isinstance(cls, type) and issubclass(cls, Node) else None
        self._cache[cls] = described
        return described

    def read_text(self, field: FieldSchema, children: list[Any], lenient: bool) -> Any:
        """A TEXT field from the children its element had (as the tree holds
        them), by the model's own rule; raises ``_lossless.Problem`` where the
        reference converter does."""
        return _lossless._read(field.spec, Element(field.tags[0], children), lenient)

    def write_field(self, field: FieldSchema, value: Any) -> list[Any]:
        """What one value of a field becomes (its elements), by the model's
        own rule: for the values the fast path does not write itself (a
        TEXT value that is not a plain ``str``)."""
        out: list[Any] = []
        _lossless._emit_one(field.spec, value, out)
        return out


def _describe(cls: type[Node], registry: dict[str, type[Node]]) -> ClassSchema:
    why = _refusal(cls)
    fields: list[FieldSchema] = []
    spec = tuple(getattr(cls, "_spec", ()))
    declared: dict[str, dataclasses.Field[Any]] = (
        {f.name: f for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {})
    for s in spec:
        f = declared.get(s.attr)
        slot = _slot(cls, s.attr)
        if f is None or slot is None:
            why = why or f"no slot for {s.attr}"
            continue
        default = None if f.default is dataclasses.MISSING else f.default
        unknown = [n for n in type(s)._fields if n not in _KNOWN_OPTIONS
                   and getattr(s, n) != type(s)._field_defaults.get(n, object())]
        if unknown:
            why = why or f"{s.attr}: field options {unknown}"
        elif s.kind not in _KINDS or s.card not in _CARDS or not s.tags:
            why = why or f"{s.attr}: kind {s.kind} / cardinality {s.card}"
        elif f.default_factory is not dataclasses.MISSING or not f.init:
            why = why or f"{s.attr}: a default factory or no __init__ argument"
        fields.append(FieldSchema(s.attr, tuple(s.tags), _KINDS.get(s.kind, "?"), _CARDS.get(s.card, "?"),
                                  default, slot, s))
    if set(declared) != {s.attr for s in spec} | {"_layout"} or declared["_layout"].default is not None:
        why = why or "fields other than the declared ones and _layout"
    by_tag = dict(getattr(cls, "_by_tag", {}))
    if any(not (type(i) is int and 0 <= i < len(fields)) for i in by_tag.values()):
        why = why or "a tag table that does not match the fields"
    nodes: dict[str, type[Node] | None] = {}
    for f_ in fields:
        if f_.kind == "node":
            for t in f_.tags:
                child = registry.get(t)
                nodes[t] = child if isinstance(child, type) and getattr(child, "TAG", None) == t else None
    layout_slot = _slot(cls, "_layout")
    if layout_slot is None:
        why = why or "no _layout slot"
    tag = getattr(cls, "TAG", None)
    if type(tag) is not str:
        why = why or "no TAG"
        tag = ""
    base_ok = not why
    reads = base_ok and _own(cls, "_read_element") is _own(Node, "_read_element") \
        and cls.__new__ is object.__new__ and not hasattr(cls, "__post_init__") \
        and not getattr(cls, "__abstractmethods__", None)
    writes = base_ok and _own(cls, "to_element") is _own(Node, "to_element")
    root = reads and _own(cls, "from_element") is _own(Node, "from_element")
    if base_ok and not (reads and writes):
        why = "its own converter"
    return ClassSchema(cls, tag, tuple(fields), by_tag, nodes, layout_slot,
                       _own(cls, "_check") is not _own(Node, "_check"), reads, writes, root, why)


def _refusal(cls: type) -> str:
    if not (dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__):
        return "not a slotted dataclass"
    return ""


def _slot(cls: type, name: str) -> Any:
    """The member descriptor of slot ``name`` (None if it is not a slot)."""
    for k in cls.__mro__:
        d = k.__dict__.get(name)
        if d is not None:
            return d if type(d) is types.MemberDescriptorType else None
    return None


#: the model layer's description, handed to model._fast by Message
SCHEMA = ModelSchema(REGISTRY)
