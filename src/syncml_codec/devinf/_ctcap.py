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
``(PropParam)``) and reads those like nested ones: each class has a second
*form* under the virtual tag (the flat order, ``Size`` for ``MaxSize``);
writing flat writes the virtual elements and unwraps them.  So the model's
one layout record works the same in both styles and a flat element comes
back exactly as read.  The ``ctcaps`` of a DataStore or DevInf are a
:func:`~syncml_codec.model.group` field: :data:`NESTED_CTCAPS` and
:data:`FLAT_CTCAPS` convert between their elements and CTCaps.  Which style an object is written in is decided by where
it sits (``DataStore``: nested, ``DevInf``: flat) unless it was read in the
other style; :mod:`._convert` moves CTCaps between the two places.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, field, replace
from functools import partial

from ..codec.tree import Child, Element
from ..errors import DevInfError
from ..model import Group, Layout, Node, Problem, flag, form, integer, layout, model, node, text

__all__ = ["FLAT_CTCAPS", "NESTED_CTCAPS", "CTCap", "PropParam", "Property", "ctcap_elements",
           "ctcaps_from_element", "names_match"]

FLAT_CTCAP, FLAT_PROPERTY, FLAT_PARAM = "(CTCap)", "(Property)", "(PropParam)"
#: how a CTCap is written: None, the container's way; "nested"; "flat"
#: (sharing the previous flat CTCap's element); "flat-new" (a new element)
NESTED, FLAT, FLAT_NEW = "nested", "flat", "flat-new"


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


@model("PropParam", tolerant=True, kw_only=False, error=DevInfError,
       forms=(form(FLAT_PARAM, ("name", "values", "data_type", "max_size", "display_name"),
                   max_size=("Size", "MaxSize")),))
class PropParam(Node):
    """A parameter of a property (``TYPE`` of ``TEL``).  ``max_size`` is
    the flat style's ``<Size>``; 1.2 has no size for parameters."""

    name: str = text("ParamName", required=True)
    _: KW_ONLY
    data_type: str | None = text("DataType")
    max_size: int | None = integer("MaxSize", "Size")
    values: tuple[str, ...] = text("ValEnum", many=True)
    display_name: str | None = text("DisplayName")
    _layout: Layout | None = layout()

    def accepts(self, value: str) -> bool:
        """True when ``value`` is allowed: listed in ``ValEnum``, or any
        value when there is no list (case-insensitive)."""
        return not self.values or _value_in(value, self.values)


@model("Property", tolerant=True, kw_only=False, error=DevInfError,
       forms=(form(FLAT_PROPERTY, ("name", "values", "data_type", "max_size", "max_occur", "no_truncate",
                                   "display_name", "params"),
                   max_size=("Size", "MaxSize"), params=(FLAT_PARAM,)),))
class Property(Node):
    """A property of a content type (``TEL``, ``DTSTART``).  ``max_size`` is
    ``<MaxSize>`` (1.2) or ``<Size>`` (flat); ``max_occur`` and
    ``no_truncate`` exist in 1.2 only."""

    name: str = text("PropName", required=True)
    _: KW_ONLY
    data_type: str | None = text("DataType")
    max_occur: int | None = integer("MaxOccur")
    max_size: int | None = integer("MaxSize", "Size")
    no_truncate: bool = flag("NoTruncate")
    values: tuple[str, ...] = text("ValEnum", many=True)
    display_name: str | None = text("DisplayName")
    params: tuple[PropParam, ...] = node("PropParam", many=True)
    _layout: Layout | None = layout()

    def param(self, name: str) -> PropParam | None:
        """The parameter called ``name`` (case-insensitive), or None."""
        return next((p for p in self.params if names_match(p.name, name)), None)

    def accepts(self, value: str) -> bool:
        """True when ``value`` is allowed: listed in ``ValEnum``, or any
        value when there is no list (case-insensitive)."""
        return not self.values or _value_in(value, self.values)


@model("CTCap", tolerant=True, kw_only=False, error=DevInfError,
       forms=(form(FLAT_CTCAP, properties=(FLAT_PROPERTY,)),))
class CTCap(Node):
    """The capabilities for one content type and version.  ``ver_ct`` is
    None for a flat (1.0/1.1) CTCap, which has no ``VerCT``."""

    ct_type: str = text("CTType", required=True)
    ver_ct: str | None = text("VerCT")
    _: KW_ONLY
    field_level: bool = flag("FieldLevel")
    properties: tuple[Property, ...] = node("Property", many=True)
    _layout: Layout | None = layout()
    _style: str | None = field(default=None, repr=False, compare=False, kw_only=True)

    @classmethod
    def from_element(cls, element: Element, path: str = "CTCap", *,
                     lenient: bool = False) -> CTCap:
        """Read a nested ``<CTCap>``, or a flat one that holds a single
        content type (see :func:`ctcaps_from_element` for several)."""
        found = ctcaps_from_element(element, path)
        if len(found) != 1:
            raise DevInfError(path, f"holds {len(found)} content types; read it with ctcaps_from_element()")
        return found[0]

    def to_element(self, *, flat: bool = False) -> Element:
        """``<CTCap>`` in the 1.2 nested style, or the flat style (a
        ``<CTCap>`` holding just this content type)."""
        if flat:
            return Element("CTCap", self._flat_children())
        return self._element_as("CTCap")

    def _flat_children(self) -> list[Child]:
        return _unwrap(self._element_as(FLAT_CTCAP).children)

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


def _group_flat(element: Element) -> list[Element]:
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
                raise Problem(f"{tag} before CTType")
            leading.append(child)
        elif tag == "PropName":
            prop = Element(FLAT_PROPERTY, [child])
            ctcap.children.append(prop)
            param = None
        elif tag == "ParamName":
            if prop is None:
                raise Problem("ParamName before PropName", f"CTType[{len(groups)}]")
            param = Element(FLAT_PARAM, [child])
            prop.children.append(param)
        else:
            (param or prop or ctcap).children.append(child)
    if not groups:
        raise Problem("CTType missing")
    return groups


def _read_ctcaps(element: Element, lenient: bool) -> tuple[CTCap, ...]:
    """The content types of one ``<CTCap>`` element (raises :class:`Problem`)."""
    if not _is_flat(element):
        return (replace(CTCap._read_element(element, lenient), _style=NESTED),)
    found = []
    for i, virtual in enumerate(_group_flat(element), 1):
        try:
            ctcap = CTCap._read_element(virtual, lenient)
        except Problem as problem:
            problem.below = f"CTType[{i}]/{problem.below}" if problem.below else f"CTType[{i}]"
            raise
        found.append(replace(ctcap, _style=FLAT_NEW if i == 1 else FLAT))
    return tuple(found)


def ctcaps_from_element(element: Element, path: str = "CTCap") -> tuple[CTCap, ...]:
    """Every content type of one ``<CTCap>`` element: one for the nested
    style, one per ``CTType`` for the flat style."""
    try:
        if element.tag != "CTCap":
            raise Problem(f"expected <CTCap>, found <{element.tag}>")
        return _read_ctcaps(element, False)
    except Problem as problem:
        raise DevInfError(f"{path}/{problem.below}" if problem.below else path, problem.reason) from None


def ctcap_elements(ctcaps: tuple[CTCap, ...], flat: bool) -> list[Element]:
    """The ``<CTCap>`` elements for ``ctcaps`` written where the container's
    style is ``flat`` (DevInf level) or nested (DataStore): consecutive flat
    CTCaps share one element unless one was read as starting its own."""
    out: list[Element] = []
    current: Element | None = None
    for ctcap in ctcaps:
        style = ctcap._style or (FLAT if flat else NESTED)
        if style == NESTED:
            out.append(ctcap.to_element())
            current = None
            continue
        if current is None or style == FLAT_NEW:
            lay = ctcap._layout
            current = Element("CTCap", [], dict(lay.attrs) if lay is not None and lay.attrs else None)
            out.append(current)
        current.children.extend(ctcap._flat_children())
    return out


#: the ``ctcaps`` of a DataStore (1.2: nested) and of a DevInf (1.0/1.1: flat)
NESTED_CTCAPS = Group(_read_ctcaps, partial(ctcap_elements, flat=False))
FLAT_CTCAPS = Group(_read_ctcaps, partial(ctcap_elements, flat=True))
