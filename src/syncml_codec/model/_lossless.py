"""How the model reads and writes element trees losslessly (the machinery
behind :mod:`._node`'s declarations; see its docstring for the rules).

Reading (:func:`read_fields`) takes the children of one element in one
pass: each child goes to the field its tag names (``Form.by_tag``) or is
kept as an extra; the :class:`Layout` records the order when it was not
the canonical one, and, for tolerant (DevInf) classes, leaves the value
does not spell back (``overrides``), defaults the element did not write
(``omitted``) and the layouts of wrapper elements (``inner``).  Writing
(:func:`write_fields`) replays the layout over the current values: a value
takes the place of the child it was read from (its original spelling while
it still has the same canonical element); a strict class writes values
added since in DTD order at the end, a tolerant one right after their DTD
neighbour.  Both are linear in the number of children, except that a
tolerant class's added values are each placed by a scan of the children.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ..codec.tree import Child, Element

if TYPE_CHECKING:
    from ._node import Node

__all__ = [
    "FORMS",
    "REGISTRY",
    "Form",
    "Group",
    "Latin1OpaqueStr",
    "Layout",
    "OpaqueStr",
    "Problem",
    "Spec",
    "make_form",
    "opaque_bytes",
    "read_fields",
    "text_from_opaque",
    "wrapper_form",
    "write_fields",
]

TEXT, FLAG, NODE, DATA, RAW, INT, GROUP = range(7)
ONE, OPT, MANY, SOME = range(4)  # SOME: one or more
_LEAVES = (TEXT, FLAG, INT)
# how a field takes its elements: one; one wrapper holding them; each; each, through its group
# (so: taken once when < _REPEATED, a tuple when >= _REPEATED, special when odd)
_SINGLE, _WRAPPED, _REPEATED, _GROUPED = range(4)


# -- text ----------------------------------------------------------------------------

class OpaqueStr(str):
    """Text that arrived as WBXML opaque data (some devices send strings
    that way); it is written back as the same opaque bytes."""

    __slots__ = ()


class Latin1OpaqueStr(OpaqueStr):
    """Opaque text that is not UTF-8: read as Latin-1, as the codec reads
    such inline strings (device quirk "undeclared-latin1"), so it is still
    text, and written back as the same bytes."""

    __slots__ = ()


_OPAQUE_ENCODING: dict[type, str] = {OpaqueStr: "utf-8", Latin1OpaqueStr: "latin-1"}


def text_from_opaque(raw: bytes) -> str:
    """The text of a TEXT leaf that arrived as opaque data: the one place
    that decides it (the model's fast path calls it too).

    >>> text_from_opaque(b"9210"), type(text_from_opaque(b"\\xe9")).__name__
    ('9210', 'Latin1OpaqueStr')
    """
    try:
        return OpaqueStr(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Latin1OpaqueStr(raw.decode("latin-1"))


def opaque_bytes(value: object) -> bytes | None:
    """The opaque bytes a TEXT value is written as (None: plain text)."""
    encoding = _OPAQUE_ENCODING.get(type(value))
    return None if encoding is None else value.encode(encoding)  # type: ignore[attr-defined]


# -- tables --------------------------------------------------------------------------

class Group(NamedTuple):
    """How a :func:`group` field's elements and values convert: ``read``
    turns one element into its values (raising :class:`Problem`), ``write``
    all the field's values into their elements."""

    read: Callable[[Element, bool], tuple[Any, ...]]
    write: Callable[[tuple[Any, ...]], list[Element]]


class Spec(NamedTuple):
    """One declared field, as data: which elements (``tags``; the first is
    written), what it holds (``kind``) and how many (``card``).  Fields
    appended for DevInf have defaults that are SyncML's rules (the only
    ones the model's fast path takes)."""

    attr: str
    tags: tuple[str, ...]
    kind: int
    card: int
    tolerant: bool = False         # odd input kept as written (see the module docstring)
    within: str | None = None      # the values' elements sit in this wrapper element
    group: Group | None = None     # kind GROUP: the conversion


class Form(NamedTuple):
    """A class's fields as one element writes them: the class's own tag
    (``_spec``), or another (:func:`form`).  ``specs`` are indexed like the
    class's fields; ``rank`` lists them in this form's canonical order."""

    tag: str
    specs: tuple[Spec, ...]
    by_tag: dict[str, int]
    rank: tuple[int, ...]
    place: tuple[int, ...]         # field index -> position in ``rank``
    tolerant: bool
    implied: dict[int, Any]        # field index -> its default, for defaults that write something
    mode: tuple[int, ...]          # field index -> _SINGLE, _REPEATED, _GROUPED or _WRAPPED


class Layout(NamedTuple):
    """How the children of an element that did not follow the canonical
    form were laid out: per child, the index of its field (-1: one of
    ``extras``).  The rest only tolerant (DevInf) classes record:
    ``overrides`` are (child position, canonical element, element as read);
    ``omitted``, canonical elements the element did not have; ``inner``,
    (field index, layout of its wrapper element)."""

    order: tuple[int, ...]
    extras: tuple[Any, ...]
    attrs: dict[str, str] | None
    overrides: tuple[tuple[int, Element, Element], ...] = ()
    omitted: tuple[Child, ...] = ()
    inner: tuple[tuple[int, Layout | None], ...] = ()


#: element name -> model class, filled by @model (each class by its own tag)
REGISTRY: dict[str, type[Node[Any]]] = {}
#: other forms' tags -> model class
FORMS: dict[str, type[Node[Any]]] = {}
#: a ``within`` field -> the form of its wrapper element (built once)
_WRAPPERS: dict[tuple[str, tuple[str, ...], int, bool], Form] = {}


def make_form(tag: str, specs: tuple[Spec, ...], rank: tuple[int, ...], tolerant: bool,
              implied: dict[int, Any]) -> Form:
    """A form's tables (``rank``: field indexes in its canonical order)."""
    by_tag: dict[str, int] = {}
    for i, s in enumerate(specs):
        for t in (s.within,) if s.within else s.tags:
            by_tag[t] = i
    place = [0] * len(specs)
    for position, i in enumerate(rank):
        place[i] = position
    mode = tuple(_WRAPPED if s.within else _GROUPED if s.kind == GROUP else _REPEATED if s.card >= MANY
                 else _SINGLE for s in specs)
    return Form(tag, specs, by_tag, rank, tuple(place), tolerant, implied, mode)


def wrapper_form(f: Spec) -> Form:
    """The form of the element a ``within`` field's values sit in."""
    assert f.within is not None
    key = (f.within, f.tags, f.kind, f.tolerant)
    found = _WRAPPERS.get(key)
    if found is None:
        inner = Spec("values", f.tags, f.kind, MANY, f.tolerant)
        found = _WRAPPERS[key] = make_form(f.within, (inner,), (0,), f.tolerant, {})
    return found


class Problem(Exception):
    """What is wrong, and where below the element reading it (internal:
    :meth:`Node.from_element` turns it into a StructureError)."""

    def __init__(self, reason: str, below: str = "") -> None:
        self.reason = reason
        self.below = below

    def step_into(self, parent: Element, position: int, many: bool) -> None:
        """Add the step from ``parent`` to its child at ``position`` (a
        virtual element, ``(Property)``, is named by its first child)."""
        child = parent.children[position]
        assert isinstance(child, Element)
        tag = child.tag
        step = _path_name(child)
        if many:
            n = sum(1 for c in parent.children[:position + 1] if isinstance(c, Element) and c.tag == tag)
            step += f"[{n}]"
        self.below = f"{step}/{self.below}" if self.below else step


def _path_name(el: Element) -> str:
    if el.tag.startswith("("):
        first = next(el.elements(), None)
        return first.tag if first is not None else el.tag
    return el.tag


# -- the reader ------------------------------------------------------------------------

_XML_SPACE = " \t\r\n"  # XML's white space (str.strip would also take U+00A0 and others)
_DIGITS = re.compile(r"\s*\+?[0-9]+\s*\Z")


def read_fields(form: Form, element: Element, lenient: bool, implied: Mapping[str, Any] | None) -> dict[str, Any]:
    """The constructor arguments for ``element`` read in ``form``, with
    ``_layout`` when it did not follow the form."""
    spec = form.specs
    by_tag = form.by_tag
    place = form.place
    mode = form.mode
    tolerant = form.tolerant
    values: dict[str, Any] = {}
    order: list[int] = []
    extras: list[Any] = []
    overrides: list[tuple[int, Element, Element]] = []
    inner: list[tuple[int, Layout | None]] = []
    in_order = True
    last = -1
    for position, child in enumerate(element.children):
        index = by_tag.get(child.tag, -1) if isinstance(child, Element) else -1
        if index < 0:
            order.append(-1)
            extras.append(child)
            in_order = False
            continue
        assert isinstance(child, Element)
        f = spec[index]
        m = mode[index]
        if m < _REPEATED and f.attr in values:
            if not tolerant:
                raise Problem(f"<{child.tag}> more than once")
            order.append(-1)  # the first one counts, the others are kept as they are
            extras.append(child)
            in_order = False
            continue
        order.append(index)
        p = place[index]
        if p < last:
            in_order = False
        last = p
        try:
            if m & 1:  # _WRAPPED, _GROUPED
                _read_special(f, index, child, lenient, values, inner)
                continue
            value = _read(f, child, lenient)
            if m == _REPEATED:
                values.setdefault(f.attr, []).append(value)
            else:
                values[f.attr] = value
            if tolerant and f.kind in _LEAVES:
                canonical = leaf(f, value)
                if canonical != child:
                    overrides.append((position, canonical, child))
        except Problem as problem:
            problem.step_into(element, position, m >= _REPEATED)
            raise
    omitted: list[Child] = []
    for i, f in enumerate(spec):
        attr = f.attr
        if attr in values:
            if mode[i] >= _REPEATED:
                values[attr] = tuple(values[attr])
        elif f.card == ONE or f.card == SOME:
            if not lenient:
                raise Problem(f"{f.tags[0]} missing")
            if f.card == ONE:
                values[attr] = None
        elif tolerant and i in form.implied:
            value = implied.get(f.attr) if implied else None
            if value is not None:
                values[f.attr] = value
            else:
                value = form.implied[i]
            _emit(f, value, omitted)
    if not in_order or element.attrs or overrides or omitted or inner:
        values["_layout"] = Layout(tuple(order), tuple(extras), element.attrs,
                                   tuple(overrides), tuple(omitted), tuple(inner))
    return values


def _read_special(f: Spec, index: int, child: Element, lenient: bool, values: dict[str, Any],
                  inner: list[tuple[int, Layout | None]]) -> None:
    """A wrapper's values (and its layout), or a group's values from one element."""
    if f.within:
        wrapped = read_fields(wrapper_form(f), child, lenient, None)
        got = values[f.attr] = wrapped.get("values", ())
        kept = wrapped.get("_layout")
        if kept is not None or not got:
            inner.append((index, kept))
    else:
        assert f.group is not None
        values.setdefault(f.attr, []).extend(f.group.read(child, lenient))


def _read(f: Spec, el: Element, lenient: bool) -> Any:
    kind = f.kind
    if kind == NODE:
        cls = REGISTRY.get(el.tag) or FORMS[el.tag]
        return cls._read_element(el, lenient)
    if kind == TEXT:
        kids = el.children
        if el.attrs:
            if f.tolerant:
                return el.text
            raise Problem("attributes are not allowed here")
        if not kids:
            return ""
        if len(kids) == 1:
            value = kids[0]
            if type(value) is str:
                return value
            if type(value) is bytes:
                return text_from_opaque(value)
        if f.tolerant:
            return el.text
        raise Problem("expected text only")
    if kind == FLAG:
        # white space alone is layout, not content (a pretty-printed
        # <Final>\n</Final>): read as empty, strict or lenient (issue 10)
        if not f.tolerant and (el.attrs or any(type(c) is not str or c.strip(_XML_SPACE) for c in el.children)):
            raise Problem("must be empty")
        return True
    if kind == INT:
        digits = el.text
        if not _DIGITS.match(digits):
            raise Problem(f"not a number: {digits!r}")
        return int(digits)
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


# -- the writer ------------------------------------------------------------------------

def write_fields(form: Form, obj: object, lay: Layout | None) -> list[Child]:
    """The children of ``obj``'s element in ``form``, laid out as ``lay`` says."""
    spec = form.specs
    children: list[Child] = []
    if lay is None:
        mode = form.mode
        for i in form.rank:
            f = spec[i]
            value = getattr(obj, f.attr)
            if value is None or value is False:
                continue
            m = mode[i]
            if m == _SINGLE:
                _emit_one(f, value, children)
            elif m == _REPEATED:
                for v in value:
                    _emit_one(f, v, children)
            elif f.within:
                children += _wrapped(f, value, None)
            else:
                _emit(f, value, children)
        return children
    # per field, what is left to write: its values, or the elements of a group or a wrapper
    pending: list[Iterator[Any]] = []
    inner = dict(lay.inner)
    for i, f in enumerate(spec):
        value = getattr(obj, f.attr)
        if f.within:
            pending.append(iter(_wrapped(f, value, inner, i)))
        elif f.kind == GROUP:
            assert f.group is not None
            pending.append(iter(f.group.write(value)))
        else:
            pending.append(iter(value if f.card >= MANY else (value,)))
    extras = iter(lay.extras)
    if not form.tolerant:
        for index in lay.order:
            if index < 0:
                children.append(next(extras))
                continue
            value = next(pending[index], None)
            if value is not None:
                _emit_unit(spec[index], value, children)
        # values added after reading (dataclasses.replace) go in DTD order
        for i in form.rank:
            for value in pending[i]:
                _emit_unit(spec[i], value, children)
        return children
    overrides = {position: (canonical, original) for position, canonical, original in lay.overrides}
    placed: list[tuple[int, Child]] = []  # (rank of the field, child); -1: an extra
    for position, index in enumerate(lay.order):
        if index < 0:
            placed.append((-1, next(extras)))
            continue
        value = next(pending[index], None)
        if value is None:
            continue  # the field no longer has this many values
        made: list[Child] = []
        _emit_unit(spec[index], value, made)
        override = overrides.get(position)
        placed += [(form.place[index], override[1] if override is not None and override[0] == el else el)
                   for el in made]
    omitted = list(lay.omitted)
    for i in form.rank:
        rank = form.place[i]
        made = []
        for value in pending[i]:
            _emit_unit(spec[i], value, made)
        for el in made:
            if el in omitted:
                omitted.remove(el)
                continue
            # right after the last placed child the DTD puts before it, wherever that is
            before = [k for k, (r, _) in enumerate(placed) if 0 <= r <= rank]
            at = before[-1] + 1 if before else next((k for k, (r, _) in enumerate(placed) if r >= 0), len(placed))
            placed.insert(at, (rank, el))
    return [child for _, child in placed]


class _Values(NamedTuple):
    values: tuple[Any, ...]


def _wrapped(f: Spec, values: tuple[Any, ...], inner: dict[int, Layout | None] | None, index: int = -1) -> list[Child]:
    """A ``within`` field's wrapper element: written when it has values or was read."""
    read = inner is not None and index in inner
    if not values and not read:
        return []
    kept = inner.get(index) if inner is not None else None
    wrapper = wrapper_form(f)
    children = write_fields(wrapper, _Values(tuple(values)), kept)
    return [Element(wrapper.tag, children, dict(kept.attrs) if kept is not None and kept.attrs else None)]


def _emit(f: Spec, value: Any, out: list[Child]) -> None:
    """Append the elements of a field's whole value."""
    if value is None or value is False:
        return
    if f.card >= MANY:
        if f.kind == GROUP:
            assert f.group is not None
            out += f.group.write(value)
            return
        for v in value:
            _emit_one(f, v, out)
        return
    _emit_one(f, value, out)


def _emit_unit(f: Spec, value: Any, out: list[Child]) -> None:
    """Append what one pending unit writes (a group's or a wrapper's units are elements)."""
    if f.within or f.kind == GROUP:
        out.append(value)
    else:
        _emit_one(f, value, out)


def _emit_one(f: Spec, value: Any, out: list[Child]) -> None:
    """Append the element of one value."""
    if value is None or value is False:
        return
    kind = f.kind
    tag = f.tags[0]
    if kind == NODE:
        out.append(value.to_element() if tag not in FORMS else value._element_as(tag))
    elif kind == TEXT:
        if type(value) is str:
            out.append(Element(tag, [value] if value else []))
        else:
            encoding = _OPAQUE_ENCODING.get(type(value))
            out.append(Element(tag, [value.encode(encoding)] if encoding is not None else [value] if value else []))
    elif kind == FLAG:
        out.append(Element(tag))
    elif kind == INT:
        out.append(Element(tag, [str(value)]))
    elif kind == DATA:
        if isinstance(value, Element) and value.tag == tag:
            out.append(Element(value.tag, list(value.children), value.attrs))
        elif isinstance(value, tuple):
            out.append(Element(tag, list(value)))
        else:
            out.append(Element(tag, [value] if value != "" else []))
    else:
        out.append(value)  # RAW


def leaf(f: Spec, value: Any) -> Element:
    """The canonical element of a leaf value."""
    out: list[Child] = []
    _emit_one(f, value, out)
    return out[0]  # type: ignore[return-value]
