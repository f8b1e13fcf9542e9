"""CTCap: what a device can do with one content type, in both wire styles.

DevInf 1.2 nests (``CTCap(CTType, VerCT, FieldLevel?, Property+)``,
``Property(PropName, DataType?, MaxOccur?, MaxSize?, NoTruncate?, ValEnum*,
DisplayName?, PropParam*)``, ``PropParam(ParamName, DataType?, ValEnum*,
DisplayName?)``), one ``<CTCap>`` per content type, inside ``<DataStore>``.

DevInf 1.0/1.1 is flat: one ``<CTCap>`` at the ``<DevInf>`` level holds a
sequence in which ``CTType`` starts a content type, ``PropName`` a property
and ``ParamName`` a parameter; ``ValEnum``, ``DataType``, ``Size`` and
``DisplayName`` belong to the nearest ``PropName`` or ``ParamName`` before
them.  There is no ``VerCT``, and ``Size`` is what 1.2 calls ``MaxSize``.

One model serves both: :class:`CTCap` is one content type's capabilities.
Reading a flat element first groups its children into *virtual* elements
(tags in parentheses, which no XML name can be: ``(CTCap)``, ``(Property)``,
``(PropParam)``) and reads those like nested ones; writing flat builds the
virtual elements and unwraps them.  So the layout records of
:mod:`._layout` work the same in both styles and a flat element comes back
exactly as read.  Which style an object is written in is decided by where
it sits (``DataStore``: nested, ``DevInf``: flat) unless it was read in the
other style; :mod:`._convert` moves CTCaps between the two places.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import KW_ONLY, dataclass, field
from typing import TypeVar

from ..codec.tree import Child, Element
from ..errors import DevInfError
from ._layout import Item, Layout, Reader, build, empty, leaf

__all__ = ["CTCap", "PropParam", "Property", "ctcap_elements", "ctcaps_from_element", "names_match"]

FLAT_CTCAP, FLAT_PROPERTY, FLAT_PARAM = "(CTCap)", "(Property)", "(PropParam)"
#: how a CTCap is written: None, the container's way; "nested"; "flat"
#: (sharing the previous flat CTCap's element); "flat-new" (a new element)
NESTED, FLAT, FLAT_NEW = "nested", "flat", "flat-new"

_T = TypeVar("_T")


def _set(obj: _T, name: str, value: object) -> _T:
    object.__setattr__(obj, name, value)
    return obj


def _finish(obj: _T, reader: Reader, items: list[Item], children: Iterable[object]) -> _T:
    """Record ``obj``'s layout.  ``items`` were made with ``parsing=True``:
    each child object stood in with the element it was read from (``_src``,
    equal to what it writes, so the comparison is quick); now the children
    let go of those elements, so that nothing keeps the input tree alive."""
    _set(obj, "_layout", reader.finish(items))
    for child in children:
        object.__setattr__(child, "_src", None)
    return obj


def names_match(pattern: str, name: str) -> bool:
    """Property and parameter names compare case-insensitively; a name
    ending in ``*`` (SyncEvolution's ``X-*``) matches every name with that
    prefix."""
    pattern, name = pattern.strip().upper(), name.strip().upper()
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return pattern == name


def _value_in(value: str, values: tuple[str, ...]) -> bool:
    wanted = value.strip().upper()
    return any(v.strip().upper() == wanted for v in values)


@dataclass(frozen=True, slots=True)
class PropParam:
    """A parameter of a property (``TYPE`` of ``TEL``).  ``max_size`` is
    the flat style's ``<Size>``; 1.2 has no size for parameters."""

    name: str
    _: KW_ONLY
    values: tuple[str, ...] = ()
    data_type: str | None = None
    display_name: str | None = None
    max_size: int | None = None
    _layout: Layout | None = field(default=None, repr=False, compare=False)
    _src: Element | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_element(cls, element: Element, path: str = "PropParam") -> PropParam:
        """Read ``<PropParam>`` (or a virtual flat one)."""
        r = Reader(element, path)
        obj = cls(r.required("name", "ParamName"), data_type=r.text("data_type", "DataType"),
                  values=r.texts("values", "ValEnum"), display_name=r.text("display_name", "DisplayName"),
                  max_size=r.integer("max_size", "Size", "MaxSize"))
        _set(obj, "_src", element)
        return _set(obj, "_layout", r.finish(obj._items(element.tag == FLAT_PARAM)))

    def _items(self, flat: bool) -> list[Item]:
        items: list[Item] = [("name", leaf("ParamName", self.name))]
        values: list[Item] = [("values", leaf("ValEnum", v)) for v in self.values]
        typed: list[Item] = [] if self.data_type is None else [("data_type", leaf("DataType", self.data_type))]
        size: list[Item] = ([] if self.max_size is None
                            else [("max_size", leaf("Size" if flat else "MaxSize", str(self.max_size)))])
        items += values + typed + size if flat else typed + size + values
        if self.display_name is not None:
            items.append(("display_name", leaf("DisplayName", self.display_name)))
        return items

    def to_element(self) -> Element:
        return build("PropParam", self._items(False), self._layout)

    def _virtual(self) -> Element:
        return build(FLAT_PARAM, self._items(True), self._layout)

    def accepts(self, value: str) -> bool:
        """True when ``value`` is allowed: listed in ``ValEnum``, or any
        value when there is no list (case-insensitive)."""
        return not self.values or _value_in(value, self.values)


@dataclass(frozen=True, slots=True)
class Property:
    """A property of a content type (``TEL``, ``DTSTART``).  ``max_size`` is
    ``<MaxSize>`` (1.2) or ``<Size>`` (flat); ``max_occur`` and
    ``no_truncate`` exist in 1.2 only."""

    name: str
    _: KW_ONLY
    values: tuple[str, ...] = ()
    data_type: str | None = None
    max_occur: int | None = None
    max_size: int | None = None
    no_truncate: bool = False
    display_name: str | None = None
    params: tuple[PropParam, ...] = ()
    _layout: Layout | None = field(default=None, repr=False, compare=False)
    _src: Element | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_element(cls, element: Element, path: str = "Property") -> Property:
        """Read ``<Property>`` (or a virtual flat one)."""
        flat = element.tag == FLAT_PROPERTY
        r = Reader(element, path)
        name = r.required("name", "PropName")
        param_tag, param_path = (FLAT_PARAM, "ParamName") if flat else ("PropParam", "PropParam")
        obj = cls(
            name, data_type=r.text("data_type", "DataType"), max_occur=r.integer("max_occur", "MaxOccur"),
            max_size=r.integer("max_size", "MaxSize", "Size"), no_truncate=r.flag("no_truncate", "NoTruncate"),
            values=r.texts("values", "ValEnum"), display_name=r.text("display_name", "DisplayName"),
            params=tuple(PropParam.from_element(el, f"{path}/{param_path}[{i}]")
                         for i, el in enumerate(r.many("params", param_tag), 1)),
        )
        _set(obj, "_src", element)
        return _finish(obj, r, obj._items(flat, parsing=True), obj.params)

    def _items(self, flat: bool, parsing: bool = False) -> list[Item]:
        items: list[Item] = [("name", leaf("PropName", self.name))]
        values: list[Item] = [("values", leaf("ValEnum", v)) for v in self.values]
        typed: list[Item] = [] if self.data_type is None else [("data_type", leaf("DataType", self.data_type))]
        occur: list[Item] = [] if self.max_occur is None else [("max_occur", leaf("MaxOccur", str(self.max_occur)))]
        size: list[Item] = ([] if self.max_size is None
                            else [("max_size", leaf("Size" if flat else "MaxSize", str(self.max_size)))])
        trunc: list[Item] = [("no_truncate", empty("NoTruncate"))] if self.no_truncate else []
        items += values + typed + size + occur + trunc if flat else typed + occur + size + trunc + values
        if self.display_name is not None:
            items.append(("display_name", leaf("DisplayName", self.display_name)))
        items += [("params", p._src if parsing and p._src is not None else p._virtual() if flat else p.to_element())
                  for p in self.params]
        return items

    def to_element(self) -> Element:
        return build("Property", self._items(False), self._layout)

    def _virtual(self) -> Element:
        return build(FLAT_PROPERTY, self._items(True), self._layout)

    def param(self, name: str) -> PropParam | None:
        """The parameter called ``name`` (case-insensitive), or None."""
        return next((p for p in self.params if names_match(p.name, name)), None)

    def accepts(self, value: str) -> bool:
        """True when ``value`` is allowed: listed in ``ValEnum``, or any
        value when there is no list (case-insensitive)."""
        return not self.values or _value_in(value, self.values)


@dataclass(frozen=True, slots=True)
class CTCap:
    """The capabilities for one content type and version.  ``ver_ct`` is
    None for a flat (1.0/1.1) CTCap, which has no ``VerCT``."""

    ct_type: str
    ver_ct: str | None = None
    _: KW_ONLY
    properties: tuple[Property, ...] = ()
    field_level: bool = False
    _layout: Layout | None = field(default=None, repr=False, compare=False)
    _src: Element | None = field(default=None, init=False, repr=False, compare=False)
    _style: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_element(cls, element: Element, path: str = "CTCap") -> CTCap:
        """Read a nested ``<CTCap>``, or a flat one that holds a single
        content type (see :func:`ctcaps_from_element` for several)."""
        found = ctcaps_from_element(element, path)
        if len(found) != 1:
            raise DevInfError(path, f"holds {len(found)} content types; read it with ctcaps_from_element()")
        return found[0]

    @classmethod
    def _read(cls, element: Element, path: str) -> CTCap:
        flat = element.tag == FLAT_CTCAP
        r = Reader(element, path)
        ct_type = r.required("ct_type", "CTType")
        prop_tag, prop_path = (FLAT_PROPERTY, "PropName") if flat else ("Property", "Property")
        obj = cls(
            ct_type, r.text("ver_ct", "VerCT"), field_level=r.flag("field_level", "FieldLevel"),
            properties=tuple(Property.from_element(el, f"{path}/{prop_path}[{i}]")
                             for i, el in enumerate(r.many("properties", prop_tag), 1)),
        )
        _set(obj, "_style", FLAT if flat else NESTED)
        _set(obj, "_src", element)
        return _finish(obj, r, obj._items(flat, parsing=True), obj.properties)

    def _items(self, flat: bool, parsing: bool = False) -> list[Item]:
        items: list[Item] = [("ct_type", leaf("CTType", self.ct_type))]
        if self.ver_ct is not None:
            items.append(("ver_ct", leaf("VerCT", self.ver_ct)))
        if self.field_level:
            items.append(("field_level", empty("FieldLevel")))
        items += [("properties", p._src if parsing and p._src is not None else p._virtual() if flat else p.to_element())
                  for p in self.properties]
        return items

    def to_element(self, *, flat: bool = False) -> Element:
        """``<CTCap>`` in the 1.2 nested style, or the flat style (a
        ``<CTCap>`` holding just this content type)."""
        if flat:
            return Element("CTCap", self._flat_children())
        return build("CTCap", self._items(False), self._layout)

    def _flat_children(self) -> list[Child]:
        return _unwrap(build(FLAT_CTCAP, self._items(True), self._layout).children)

    # -- queries ------------------------------------------------------------
    def property(self, name: str) -> Property | None:
        """The property called ``name`` (case-insensitive); a wildcard entry
        such as ``X-*`` answers for the names it covers."""
        exact = next((p for p in self.properties if names_match(p.name, name) and not p.name.endswith("*")), None)
        return exact or next((p for p in self.properties if names_match(p.name, name)), None)

    def property_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.properties)


def _unwrap(children: list[Child]) -> list[Child]:
    """Replace each virtual element by its (unwrapped) children."""
    out: list[Child] = []
    for child in children:
        if isinstance(child, Element) and child.tag.startswith("("):
            out += _unwrap(child.children)
        else:
            out.append(child)
    return out


def _is_flat(element: Element) -> bool:
    tags = [c.tag for c in element.children if isinstance(c, Element)]
    if "Property" in tags:
        return False
    return "PropName" in tags or tags.count("CTType") > 1 or "VerCT" not in tags


def _group_flat(element: Element, path: str) -> list[Element]:
    """Group a flat ``<CTCap>``'s children into virtual ``(CTCap)`` elements
    with ``(Property)`` and ``(PropParam)`` inside (see the module doc)."""
    groups: list[Element] = []
    leading: list[Child] = []  # children before the first CTType
    ctcap: Element | None = None
    prop: Element | None = None
    param: Element | None = None
    for child in element.children:
        tag = child.tag if isinstance(child, Element) else None
        if tag == "CTType":
            ctcap = Element(FLAT_CTCAP, [child], element.attrs if not groups else None)
            if not groups:
                ctcap.children[:0] = leading
            groups.append(ctcap)
            prop = param = None
        elif ctcap is None:
            if tag in ("PropName", "ParamName", "ValEnum", "DataType", "Size", "MaxSize"):
                raise DevInfError(path, f"{tag} before CTType")
            leading.append(child)
        elif tag == "PropName":
            prop = Element(FLAT_PROPERTY, [child])
            ctcap.children.append(prop)
            param = None
        elif tag == "ParamName":
            if prop is None:
                raise DevInfError(f"{path}/CTType[{len(groups)}]", "ParamName before PropName")
            param = Element(FLAT_PARAM, [child])
            prop.children.append(param)
        else:
            (param or prop or ctcap).children.append(child)
    if not groups:
        raise DevInfError(path, "CTType missing")
    return groups


def ctcaps_from_element(element: Element, path: str = "CTCap") -> tuple[CTCap, ...]:
    """Every content type of one ``<CTCap>`` element: one for the nested
    style, one per ``CTType`` for the flat style."""
    if element.tag != "CTCap":
        raise DevInfError(path, f"expected <CTCap>, found <{element.tag}>")
    if not _is_flat(element):
        return (CTCap._read(element, path),)
    groups = _group_flat(element, path)
    found = []
    for i, virtual in enumerate(groups, 1):
        ctcap = CTCap._read(virtual, f"{path}/CTType[{i}]")
        found.append(_set(ctcap, "_style", FLAT_NEW if i == 1 else FLAT))
    return tuple(found)


def ctcap_elements(ctcaps: tuple[CTCap, ...], flat: bool, parsing: bool = False) -> list[Element]:
    """The ``<CTCap>`` elements for ``ctcaps`` written where the container's
    style is ``flat`` (DevInf level) or nested (DataStore): consecutive flat
    CTCaps share one element unless one was read as starting its own.
    ``parsing``: the container is being read, and a nested CTCap's element
    is the one it was just read from."""
    out: list[Element] = []
    current: Element | None = None
    for ctcap in ctcaps:
        style = ctcap._style or (FLAT if flat else NESTED)
        if style == NESTED:
            source = ctcap._src
            out.append(source if parsing and source is not None and source.tag == "CTCap" else ctcap.to_element())
            current = None
            continue
        if current is None or style == FLAT_NEW:
            layout = ctcap._layout
            current = Element("CTCap", [], dict(layout.attrs) if layout is not None and layout.attrs else None)
            out.append(current)
        current.children.extend(ctcap._flat_children())
    return out
