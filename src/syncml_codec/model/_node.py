"""The machinery behind every model class: declared fields, one generic
converter from and to codec element trees.

A model class is a frozen, slotted dataclass whose fields are declared, in
DTD order, with :func:`text`, :func:`flag`, :func:`node`, :func:`data` or
:func:`raw`; each names the element it stands for and whether it is
required, optional or repeated.  :func:`model` turns the declarations into
a table that :meth:`Node.from_element` and :meth:`Node.to_element` read.

Lossless by construction: children the class does not declare, children in
an order other than the DTD's, attributes, and strings that arrived as
WBXML opaque data are recorded (``_layout``, :class:`OpaqueStr`), so
``to_element()`` gives back the tree that was read, element for element.
Errors name the element path: ``SyncBody/Sync[2]/Add[1]: Item missing``.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from typing import Any, ClassVar, NamedTuple, TypeVar

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # pragma: no cover - Python 3.10
    def dataclass_transform(**_: Any) -> Any:
        return lambda f: f

from ..codec.tree import Document, Element
from ..errors import StructureError

__all__ = ["Layout", "Node", "OpaqueStr", "Problem", "data", "fields_of", "flag", "model", "node", "raw", "text"]

TEXT, FLAG, NODE, DATA, RAW = range(5)
ONE, OPT, MANY, SOME = range(4)  # SOME: one or more

T = TypeVar("T", bound="Node")


class OpaqueStr(str):
    """Text that arrived as WBXML opaque data (some devices send strings
    that way); it is written back as opaque data."""

    __slots__ = ()


class Spec(NamedTuple):
    attr: str
    tags: tuple[str, ...]
    kind: int
    card: int


#: element name -> model class, filled by @model
REGISTRY: dict[str, type[Node]] = {}


class Layout(NamedTuple):
    """How the children of an element that did not follow the DTD were
    laid out: per child, the index of its field (-1: one of ``extras``)."""

    order: tuple[int, ...]
    extras: tuple[Any, ...]
    attrs: dict[str, str] | None


def _field(kind: int, tags: tuple[str, ...], card: int, default: Any) -> Any:
    meta = {"syncml": (tags, kind, card)}
    if card in (MANY, SOME):
        return dataclasses.field(default=(), metadata=meta)
    if card == ONE:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def text(tag: str, *, required: bool = False, many: bool = False) -> Any:
    """A leaf holding character data (``str``)."""
    return _field(TEXT, (tag,), MANY if many else ONE if required else OPT, None)


def flag(tag: str) -> Any:
    """An empty element whose presence means true (``<Final/>``)."""
    return _field(FLAG, (tag,), OPT, False)


def node(*tags: str, required: bool = False, many: bool = False) -> Any:
    """A child element read by its model class (with several names, any of
    them: the commands of a ``<Sync>``)."""
    return _field(NODE, tags, (SOME if required else MANY) if many else ONE if required else OPT, None)


def data(tag: str = "Data", *, required: bool = False) -> Any:
    """``<Data>`` of an item: ``str``, ``bytes`` (opaque), a nested
    :class:`~syncml_codec.codec.tree.Document` (DevInf), an
    :class:`~syncml_codec.codec.tree.Element` (an ``<Anchor>``), or a tuple
    of several of these."""
    return _field(DATA, (tag,), ONE if required else OPT, None)


def raw(tag: str, *, many: bool = False) -> Any:
    """A child kept as a codec element, unparsed."""
    return _field(RAW, (tag,), MANY if many else OPT, None)


@dataclass_transform(frozen_default=True, kw_only_default=True)
def fields_of(cls: type[T]) -> type[T]:
    """Class decorator for a base that only declares fields shared by
    several model classes (Add, Replace, Copy and Move have the same)."""
    return dataclasses.dataclass(frozen=True, slots=True, kw_only=True)(cls)


@dataclass_transform(frozen_default=True, kw_only_default=True)
def model(tag: str) -> Any:
    """Class decorator: ``@model("Target")`` makes a frozen, slotted
    dataclass for the element ``<Target>`` from the declared fields."""

    def wrap(cls: type[T]) -> type[T]:
        cls.TAG = tag
        made: Any = dataclasses.dataclass(frozen=True, slots=True, kw_only=True)(cls)
        specs: list[Spec] = []
        by_tag: dict[str, int] = {}
        for f in dataclasses.fields(made):
            if "syncml" not in f.metadata:
                continue
            tags, kind, card = f.metadata["syncml"]
            for t in tags:
                by_tag[t] = len(specs)
            specs.append(Spec(f.name, tags, kind, card))
        made._spec = tuple(specs)
        made._by_tag = by_tag
        REGISTRY[tag] = made
        return made  # type: ignore[no-any-return]

    return wrap


class Node:
    """Base of every model class."""

    __slots__ = ()
    TAG: ClassVar[str]
    _spec: ClassVar[tuple[Spec, ...]]
    _by_tag: ClassVar[dict[str, int]]
    # every model class declares ``_layout: Layout | None = None`` last

    # -- reading -----------------------------------------------------------
    @classmethod
    def from_element(cls: type[T], element: Element, path: str = "", *, lenient: bool = False) -> T:
        """Read an element tree (``path`` names ``element`` in errors).
        ``lenient`` leaves missing required fields as None instead of
        raising, for looking at fragments and broken messages."""
        try:
            return cls._read_element(element, lenient)
        except Problem as problem:
            base = path or cls.TAG
            raise StructureError(f"{base}/{problem.below}" if problem.below else base,
                                 problem.reason) from None

    @classmethod
    def _read_element(cls: type[T], element: Element, lenient: bool) -> T:
        # errors travel up as Problem, each level adding its step to the
        # path, so nothing is formatted unless something is wrong
        if element.tag != cls.TAG:
            raise Problem(f"expected <{cls.TAG}>, found <{element.tag}>")
        spec = cls._spec
        by_tag = cls._by_tag
        values: dict[str, Any] = {}
        order: list[int] = []
        extras: list[Any] = []
        in_order = True
        last = -1
        for position, child in enumerate(element.children):
            index = by_tag.get(child.tag, -1) if isinstance(child, Element) else -1
            order.append(index)
            if index < 0:
                extras.append(child)
                in_order = False
                continue
            assert isinstance(child, Element)
            if index < last:
                in_order = False
            last = index
            f = spec[index]
            try:
                if f.card >= MANY:
                    values.setdefault(f.attr, []).append(_read(f, child, lenient))
                elif f.attr in values:
                    raise Problem(f"<{child.tag}> more than once", up=True)
                else:
                    values[f.attr] = _read(f, child, lenient)
            except Problem as problem:
                problem.step_into(element, position, f.card >= MANY)
                raise
        for f in spec:
            if (f.card == ONE or f.card == SOME) and f.attr not in values:
                if not lenient:
                    raise Problem(f"{f.tags[0]} missing")
                if f.card == ONE:
                    values[f.attr] = None
            if f.card >= MANY and f.attr in values:
                values[f.attr] = tuple(values[f.attr])
        if not in_order or element.attrs:
            values["_layout"] = Layout(tuple(order), tuple(extras), element.attrs)
        made = cls(**values)
        if not lenient:
            made._check()
        return made

    def _check(self) -> None:
        """Rules beyond the element structure (overridden where needed);
        raises :class:`Problem` with the path below this element."""

    # -- writing -----------------------------------------------------------
    def to_element(self) -> Element:
        """The element tree of this object (a new tree each call)."""
        spec = self._spec
        layout: Layout | None = getattr(self, "_layout", None)
        children: list[Any] = []
        if layout is None:
            for f in spec:
                _write(f, getattr(self, f.attr), children)
            return Element(self.TAG, children)
        pending: list[Iterator[Any]] = []
        for f in spec:
            value = getattr(self, f.attr)
            pending.append(iter(value if f.card >= MANY else (value,)))
        extras = iter(layout.extras)
        for index in layout.order:
            if index < 0:
                children.append(next(extras))
                continue
            value = next(pending[index], None)
            if value is not None:
                _write(spec[index], value, children, single=True)
        # values added after reading (dataclasses.replace) go in DTD order
        for f, rest in zip(spec, pending, strict=True):
            for value in rest:
                _write(f, value, children, single=True)
        return Element(self.TAG, children, dict(layout.attrs) if layout.attrs else None)


class Problem(Exception):
    """What is wrong, and where below the element reading it (internal:
    :meth:`Node.from_element` turns it into a StructureError)."""

    def __init__(self, reason: str, below: str = "", *, up: bool = False) -> None:
        self.reason = reason
        self.below = below
        self.up = up  # the problem is the parent's (a repeated child), not the child's

    def step_into(self, parent: Element, position: int, many: bool) -> None:
        """Add the step from ``parent`` to its child at ``position``."""
        if self.up:
            self.up = False
            return
        child = parent.children[position]
        assert isinstance(child, Element)
        step = child.tag
        if many:
            n = sum(1 for c in parent.children[:position + 1] if isinstance(c, Element) and c.tag == step)
            step += f"[{n}]"
        self.below = f"{step}/{self.below}" if self.below else step


_XML_SPACE = " \t\r\n"  # XML's white space (str.strip would also take U+00A0 and others)


def _read(f: Spec, el: Element, lenient: bool) -> Any:
    kind = f.kind
    if kind == NODE:
        return REGISTRY[el.tag]._read_element(el, lenient)
    if kind == TEXT:
        if el.attrs:
            raise Problem("attributes are not allowed here")
        kids = el.children
        if not kids:
            return ""
        if len(kids) == 1:
            value = kids[0]
            if type(value) is str:
                return value
            if type(value) is bytes:
                try:
                    return OpaqueStr(value.decode("utf-8"))
                except UnicodeDecodeError:
                    return value
        raise Problem("expected text only")
    if kind == FLAG:
        # white space alone is layout, not content (a pretty-printed
        # <Final>\n</Final>): read as empty, strict or lenient (issue 10)
        if el.attrs or any(type(c) is not str or c.strip(_XML_SPACE) for c in el.children):
            raise Problem("must be empty")
        return True
    if kind == DATA:
        if el.attrs:
            return Element(el.tag, list(el.children), dict(el.attrs))  # kept whole
        kids = el.children
        if not kids:
            return ""
        if len(kids) == 1:
            return kids[0]
        return tuple(kids)
    return el  # RAW


def _write(f: Spec, value: Any, out: list[Any], single: bool = False) -> None:
    if value is None or value is False:
        return
    if f.card >= MANY and not single:
        for v in value:
            _write(f, v, out, single=True)
        return
    kind = f.kind
    if kind == NODE:
        out.append(value.to_element())
    elif kind == TEXT:
        tag = f.tags[0]
        if type(value) is OpaqueStr:
            out.append(Element(tag, [value.encode("utf-8")]))
        else:
            out.append(Element(tag, [value] if value else []))
    elif kind == FLAG:
        out.append(Element(f.tags[0]))
    elif kind == DATA:
        if isinstance(value, Element) and value.tag == f.tags[0]:
            out.append(Element(value.tag, list(value.children), value.attrs))
        elif isinstance(value, tuple):
            out.append(Element(f.tags[0], list(value)))
        else:
            out.append(Element(f.tags[0], [value] if value != "" else []))
    else:
        out.append(value)


def is_document(value: Any) -> bool:
    return isinstance(value, Document)
