"""The one lossless-model framework: declared fields, one generic converter
from and to codec element trees, for SyncML messages and DevInf alike.

A model class is a frozen, slotted dataclass whose fields are declared, in
DTD order, with :func:`text`, :func:`integer`, :func:`flag`, :func:`node`,
:func:`data`, :func:`raw` or :func:`group`; each names the element it stands
for and whether it is required, optional or repeated.  :func:`model` turns
the declarations into tables (:class:`Spec` per field, as data) that
:meth:`Node.from_element` and :meth:`Node.to_element` read.

Lossless by construction: ``to_element()`` of an object read from a tree
gives back that tree, element for element.  What the typed fields cannot
say is recorded in the object's :class:`Layout` (None when the element
followed the canonical form): children the class does not declare, the
order the children came in, the element's attributes.  Text that arrived
as WBXML opaque data is an :class:`OpaqueStr` (:func:`text_from_opaque`),
written back as the same bytes.

SyncML classes are strict: a repeated single child, an attribute on a leaf
or content in a flag is a :class:`~syncml_codec.errors.StructureError`.
DevInf classes are declared ``tolerant`` (devices do not write what the
DTD says): the first of repeated single children is read and the others
kept as extras; a leaf the value does not spell back (``<SyncType>01``,
attributes, text in pieces) is kept as written while the value stays the
same (``Layout.overrides``); a field absent from the element whose default
writes something (DevInf's ``VerDTD``, implied by the document type) is
not written back while it keeps that value (``Layout.omitted``); values
added after reading go right after their DTD neighbour.  Two more DevInf
needs are data too: a class may have other *forms* (:func:`form`: the same
fields under another tag, in another order, e.g. 1.0/1.1's flat CTCap), a
repeated field may sit in a wrapper element (``within``: ``SyncCap``), and a
:func:`group` field converts elements and values through two functions
(one flat ``<CTCap>`` holds several content types).

Errors name the element path: ``SyncBody/Sync[2]/Add[1]: Item missing``.
A lenient read leaves missing required fields None, and says so in its
type: SyncML classes are generic over :data:`Missing` (``Never`` by
default, ``None`` for a lenient read), :func:`missing` lists the holes and
:func:`complete` gives the strict type back once there are none.
Cost: one pass over the children; a tolerant class also builds each leaf's
canonical element once to compare it.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, TypeVar, overload

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # pragma: no cover - Python 3.10
    def dataclass_transform(**_: Any) -> Any:
        return lambda f: f

from ..codec.tree import Element
from ..errors import StructureError
from ._lossless import (
    DATA,
    FLAG,
    FORMS,
    GROUP,
    INT,
    MANY,
    NODE,
    ONE,
    OPT,
    RAW,
    REGISTRY,
    SOME,
    TEXT,
    Form,
    Group,
    Latin1OpaqueStr,
    Layout,
    OpaqueStr,
    Problem,
    Spec,
    make_form,
    opaque_bytes,
    read_fields,
    text_from_opaque,
    write_fields,
)

if TYPE_CHECKING:
    from typing import Literal

    from typing_extensions import Never
    from typing_extensions import TypeVar as TypeVarDefault

    #: the type a required field has when it may be missing: ``Never`` for
    #: an object read strictly (``str | Never`` is ``str``), ``None`` for one
    #: read leniently (``Message[None]``); covariant, so a strict object is
    #: also a lenient one
    Missing = TypeVarDefault("Missing", covariant=True, default=Never)
else:
    Missing = TypeVar("Missing", covariant=True)

__all__ = [
    "DATA",
    "FLAG",
    "GROUP",
    "INT",
    "MANY",
    "NODE",
    "ONE",
    "OPT",
    "RAW",
    "REGISTRY",
    "SOME",
    "TEXT",
    "Form",
    "FormDecl",
    "Group",
    "Latin1OpaqueStr",
    "Layout",
    "Missing",
    "Node",
    "OpaqueStr",
    "Problem",
    "Spec",
    "complete",
    "data",
    "fields_of",
    "flag",
    "form",
    "group",
    "integer",
    "layout",
    "missing",
    "model",
    "node",
    "opaque_bytes",
    "raw",
    "read_fields",
    "text",
    "text_from_opaque",
    "write_fields",
]

T = TypeVar("T", bound="Node[Any]")


class FormDecl(NamedTuple):
    """A declared :func:`form` (what :func:`model` builds a :class:`Form` from)."""

    tag: str
    order: tuple[str, ...] | None
    tags: dict[str, tuple[str, ...]]


def _field(kind: int, tags: tuple[str, ...], card: int, default: Any, **options: Any) -> Any:
    meta = {"syncml": (tags, kind, card, options)}
    if card in (MANY, SOME):
        return dataclasses.field(default=(), metadata=meta)
    if card == ONE:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def text(tag: str, *, required: bool = False, many: bool = False, default: str | None = None) -> Any:
    """A leaf holding character data (always ``str``; see :class:`OpaqueStr`)."""
    return _field(TEXT, (tag,), MANY if many else ONE if required else OPT, default)


def integer(*tags: str, many: bool = False, within: str | None = None) -> Any:
    """A leaf holding a non-negative number, written in decimal (DevInf)."""
    return _field(INT, tags, MANY if many else OPT, None, within=within)


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


def group(tag: str, conversion: Group) -> Any:
    """Repeated elements whose values ``conversion`` makes (one element may
    hold several values, several values may share one element)."""
    return _field(GROUP, (tag,), MANY, None, group=conversion)


def layout() -> Any:
    """The ``_layout`` field of a class whose equality ignores how it was
    written (DevInf: equal devices, however they spelled it)."""
    return dataclasses.field(default=None, repr=False, compare=False, kw_only=True)


def form(tag: str, order: tuple[str, ...] | None = None, **tags: tuple[str, ...]) -> FormDecl:
    """Another form of a class: the same fields as element ``tag``, in
    ``order`` (field names; default: the declared order), with other
    element names for some fields (``max_size=("Size", "MaxSize")``)."""
    return FormDecl(tag, order, tags)


@dataclass_transform(frozen_default=True, kw_only_default=True)
def fields_of(cls: type[T]) -> type[T]:
    """Class decorator for a base that only declares fields shared by
    several model classes (Add, Replace, Copy and Move have the same)."""
    return dataclasses.dataclass(frozen=True, slots=True, kw_only=True)(cls)


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(dataclasses.field,))
def model(tag: str, *, forms: tuple[FormDecl, ...] = (), tolerant: bool = False, kw_only: bool = True,
          error: type[StructureError] = StructureError) -> Any:
    """Class decorator: ``@model("Target")`` makes a frozen, slotted
    dataclass for the element ``<Target>`` from the declared fields
    (``forms``, ``tolerant``, ``error``: see the module docstring)."""

    def wrap(cls: type[T]) -> type[T]:
        cls.TAG = tag
        made: Any = dataclasses.dataclass(frozen=True, slots=True, kw_only=kw_only)(cls)
        specs: list[Spec] = []
        implied: dict[int, Any] = {}
        for f in dataclasses.fields(made):
            if "syncml" not in f.metadata:
                continue
            tags, kind, card, options = f.metadata["syncml"]
            if tolerant and f.default not in (None, False, (), dataclasses.MISSING):
                implied[len(specs)] = f.default
            specs.append(Spec(f.name, tags, kind, card, tolerant, options.get("within"), options.get("group")))
        own = tuple(specs)
        made._spec = own
        made.ERROR = error
        made._forms = {tag: make_form(tag, own, tuple(range(len(own))), tolerant, implied)}
        made._own = made._forms[tag]
        made._by_tag = made._own.by_tag
        names = [s.attr for s in own]
        for decl in forms:
            alt = tuple(s._replace(tags=decl.tags.get(s.attr, s.tags)) for s in own)
            rank = tuple(names.index(n) for n in decl.order) if decl.order else tuple(range(len(own)))
            made._forms[decl.tag] = make_form(decl.tag, alt, rank, tolerant, implied)
            FORMS[decl.tag] = made
        REGISTRY[tag] = made
        return made  # type: ignore[no-any-return]

    return wrap


# -- the base class ------------------------------------------------------------------

class Node(Generic[Missing]):
    """Base of every model class."""

    __slots__ = ()
    TAG: ClassVar[str]
    ERROR: ClassVar[type[StructureError]]
    _spec: ClassVar[tuple[Spec, ...]]
    _by_tag: ClassVar[dict[str, int]]
    _forms: ClassVar[dict[str, Form]]
    _own: ClassVar[Form]  # the form of the class's own tag
    # every model class declares ``_layout: Layout | None = None`` last

    # -- reading -----------------------------------------------------------
    @overload
    @classmethod
    def from_element(cls: type[T], element: Element, path: str = "", *, lenient: Literal[False] = False) -> T: ...

    @overload
    @classmethod
    def from_element(cls: type[T], element: Element, path: str = "", *, lenient: bool) -> Node[None]: ...

    @classmethod
    def from_element(cls: type[T], element: Element, path: str = "", *, lenient: bool = False) -> T | Node[None]:
        """Read an element tree (``path`` names ``element`` in errors).
        ``lenient`` leaves missing required fields as None instead of
        raising, for looking at fragments and broken messages (typed
        ``Node[None]``: narrow it with ``isinstance``)."""
        return cls._read_root(element, path, lenient, None)

    @classmethod
    def _read_root(cls: type[T], element: Element, path: str, lenient: bool,
                   implied: Mapping[str, Any] | None) -> T:
        try:
            return cls._read_element(element, lenient, implied)
        except Problem as problem:
            base = path or cls.TAG
            raise cls.ERROR(f"{base}/{problem.below}" if problem.below else base, problem.reason) from None

    @classmethod
    def _read_element(cls: type[T], element: Element, lenient: bool,
                      implied: Mapping[str, Any] | None = None) -> T:
        # errors travel up as Problem, each level adding its step to the
        # path, so nothing is formatted unless something is wrong
        form = cls._own if element.tag == cls.TAG else cls._forms.get(element.tag)
        if form is None:
            raise Problem(f"expected <{cls.TAG}>, found <{element.tag}>")
        values = read_fields(form, element, lenient, implied)
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
        lay: Layout | None = getattr(self, "_layout", None)
        children = write_fields(self._own, self, lay)
        return Element(self.TAG, children, dict(lay.attrs) if lay is not None and lay.attrs else None)

    def _element_as(self, tag: str) -> Element:
        """The element tree in the form called ``tag``."""
        lay: Layout | None = getattr(self, "_layout", None)
        children = write_fields(self._forms[tag], self, lay)
        return Element(tag, children, dict(lay.attrs) if lay is not None and lay.attrs else None)


# -- lenient reads ---------------------------------------------------------------------

def missing(obj: Node[Any]) -> tuple[str, ...]:
    """Where a leniently read object lacks required elements, as paths
    below it (``SyncBody/Alert[1]/CmdID``); empty for a complete object.

    >>> from syncml_codec.model import Target
    >>> missing(Target.from_element(Element("Target"), lenient=True))
    ('LocURI',)
    """
    found: list[str] = []
    _holes(obj, "", found)
    return tuple(found)


def _holes(obj: Node[Any], path: str, found: list[str]) -> None:
    for f in obj._spec:
        value = getattr(obj, f.attr)
        here = f"{path}{f.tags[0]}"
        if (value is None and f.card == ONE) or (value == () and f.card == SOME):
            found.append(here)
        elif f.kind == NODE and value is not None:
            if f.card >= MANY:
                seen: dict[str, int] = {}
                for child in value:
                    if isinstance(child, Node):
                        n = seen[child.TAG] = seen.get(child.TAG, 0) + 1
                        _holes(child, f"{path}{child.TAG}[{n}]/", found)
            elif isinstance(value, Node):
                _holes(value, f"{path}{value.TAG}/", found)


N = TypeVar("N", bound="Node[Any]")


def complete(obj: Node[None], cls: type[N]) -> N | None:
    """``obj`` (read leniently) typed as a strict ``cls`` when nothing
    required is missing from it (:func:`missing`), else None: how a caller
    of ``Message.from_bytes(..., lenient=True)`` gets back to the strict
    types once it has checked.

    >>> from syncml_codec.model import Target
    >>> complete(Target.from_element(Element("Target", [Element("LocURI", ["x"])]), lenient=True), Target)
    Target(loc_uri='x', loc_name=None, filter=None, _layout=None)
    """
    if not isinstance(obj, cls) or missing(obj):
        return None
    return obj
