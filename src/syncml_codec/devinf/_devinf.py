"""DevInf: the device, its datastores and (1.0/1.1) its CTCaps; bytes in
and out.

``DevInf(VerDTD, Man?, Mod?, OEM?, FwV?, SwV?, HwV?, DevID, DevTyp, UTC?,
SupportLargeObjs?, SupportNumberOfChanges?, DataStore+, CTCap?, Ext*)``;
1.2 drops the DevInf-level CTCap (each DataStore has its own) and adds
``SupportHierarchicalSync``.  A DevInf travels as a document of its own
(``application/vnd.syncml-devinf+wbxml``) or nested in ``<Data>`` of a
``Put`` or ``Results``; both are :class:`~syncml_codec.codec.tree.Document`
trees here.  Required: ``DevID`` (the device's identity); a missing
``VerDTD`` is taken from the document type and not written back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..codec import wbxml as _wbxml
from ..codec.codepages import DEVINF_BY_VERSION
from ..codec.detect import looks_like_wbxml
from ..codec.tree import Document, Element
from ..codec.xml import parse_xml, write_xml
from ..errors import DevInfError
from ._convert import convert_devinf
from ._ctcap import CTCap, _finish, _set, ctcap_elements, ctcaps_from_element
from ._datastore import DataStore, norm_type
from ._layout import Item, Layout, Reader, build, empty, leaf

__all__ = ["VERSIONS", "DevInf", "Ext"]

#: the DevInf versions there are
VERSIONS = ("1.0", "1.1", "1.2")

_TEXTS = (("man", "Man"), ("mod", "Mod"), ("oem", "OEM"), ("fwv", "FwV"), ("swv", "SwV"), ("hwv", "HwV"))
_FLAGS = (("utc", "UTC"), ("support_large_objs", "SupportLargeObjs"),
          ("support_number_of_changes", "SupportNumberOfChanges"),
          ("support_hierarchical_sync", "SupportHierarchicalSync"))


@dataclass(frozen=True, slots=True)
class Ext:
    """A non-standard extension: ``Ext(XNam, XVal*)``."""

    xnam: str
    xvals: tuple[str, ...] = ()
    _layout: Layout | None = field(default=None, repr=False, compare=False)
    _src: Element | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_element(cls, element: Element, path: str = "Ext") -> Ext:
        r = Reader(element, path)
        obj = cls(r.required("xnam", "XNam"), r.texts("xvals", "XVal"))
        _set(obj, "_src", element)
        return _set(obj, "_layout", r.finish(obj._items()))

    def _items(self) -> list[Item]:
        return [("xnam", leaf("XNam", self.xnam))] + [("xvals", leaf("XVal", v)) for v in self.xvals]

    def to_element(self) -> Element:
        return build("Ext", self._items(), self._layout)


@dataclass(frozen=True, slots=True, kw_only=True)
class DevInf:
    """A device's information.  ``ctcaps`` are the DevInf-level CTCaps of
    1.0/1.1 (flat); in 1.2 they live in each :class:`DataStore`.

    >>> d = DevInf(dev_id="IMEI:1", dev_typ="phone", ver_dtd="1.2",
    ...            datastores=(DataStore("./contacts", sync_types=(1, 2)),))
    >>> DevInf.from_bytes(d.to_bytes()) == d
    True
    """

    dev_id: str
    dev_typ: str | None = None
    ver_dtd: str = "1.2"
    man: str | None = None
    mod: str | None = None
    oem: str | None = None
    fwv: str | None = None
    swv: str | None = None
    hwv: str | None = None
    utc: bool = False
    support_large_objs: bool = False
    support_number_of_changes: bool = False
    support_hierarchical_sync: bool = False
    datastores: tuple[DataStore, ...] = ()
    ctcaps: tuple[CTCap, ...] = ()
    exts: tuple[Ext, ...] = ()
    _layout: Layout | None = field(default=None, repr=False, compare=False)

    # -- elements -----------------------------------------------------------
    @classmethod
    def from_element(cls, element: Element, path: str = "DevInf", *, version: str | None = None) -> DevInf:
        """Read a ``<DevInf>`` tree; ``version`` (the document type's) stands
        in for a missing ``VerDTD``."""
        if element.tag != "DevInf":
            raise DevInfError(path, f"expected <DevInf>, found <{element.tag}>")
        r = Reader(element, path)
        ver_dtd = r.text("ver_dtd", "VerDTD")
        man, mod, oem, fwv, swv, hwv = (r.text(key, tag) for key, tag in _TEXTS)
        dev_id = r.required("dev_id", "DevID")
        dev_typ = r.text("dev_typ", "DevTyp")
        utc, large_objs, number_of_changes, hierarchical = (r.flag(key, tag) for key, tag in _FLAGS)
        datastores = tuple(DataStore.from_element(el, f"{path}/DataStore[{i}]")
                           for i, el in enumerate(r.many("datastores", "DataStore"), 1))
        ctcaps = tuple(c for i, el in enumerate(r.many("ctcaps", "CTCap"), 1)
                       for c in ctcaps_from_element(el, f"{path}/CTCap[{i}]"))
        exts = tuple(Ext.from_element(el, f"{path}/Ext[{i}]") for i, el in enumerate(r.many("exts", "Ext"), 1))
        obj = cls(dev_id=dev_id, dev_typ=dev_typ, ver_dtd=ver_dtd if ver_dtd is not None else version or "1.2",
                  man=man, mod=mod, oem=oem, fwv=fwv, swv=swv, hwv=hwv, utc=utc, support_large_objs=large_objs,
                  support_number_of_changes=number_of_changes, support_hierarchical_sync=hierarchical,
                  datastores=datastores, ctcaps=ctcaps, exts=exts)
        return _finish(obj, r, obj._items(parsing=True), datastores + ctcaps + exts)

    def _items(self, parsing: bool = False) -> list[Item]:
        items: list[Item] = [("ver_dtd", leaf("VerDTD", self.ver_dtd))]
        items += [(key, leaf(tag, value)) for key, tag in _TEXTS if (value := getattr(self, key)) is not None]
        items.append(("dev_id", leaf("DevID", self.dev_id)))
        if self.dev_typ is not None:
            items.append(("dev_typ", leaf("DevTyp", self.dev_typ)))
        items += [(key, empty(tag)) for key, tag in _FLAGS if getattr(self, key)]
        items += [("datastores", ds._src if parsing and ds._src is not None else ds.to_element())
                  for ds in self.datastores]
        items += [("ctcaps", el) for el in ctcap_elements(self.ctcaps, flat=True, parsing=parsing)]
        items += [("exts", ext._src if parsing and ext._src is not None else ext.to_element()) for ext in self.exts]
        return items

    def to_element(self) -> Element:
        """The ``<DevInf>`` tree; for a parsed DevInf, the tree it was read from."""
        return build("DevInf", self._items(), self._layout)

    # -- documents and bytes ------------------------------------------------
    @property
    def version(self) -> str:
        """``"1.0"``, ``"1.1"`` or ``"1.2"`` from ``VerDTD`` (1.2 if unknown)."""
        version = self.ver_dtd.strip()
        return version if version in VERSIONS else "1.2"

    @classmethod
    def from_document(cls, doc: Document) -> DevInf:
        if doc.language.family != "devinf":
            raise DevInfError("", f"not a DevInf document but {doc.language.key} (<{doc.root.tag}>); "
                                  "find_devinf() looks inside messages")
        return cls.from_element(doc.root, version=doc.language.version)

    def to_document(self, version: str | None = None) -> Document:
        """A DevInf document of ``version`` (default: this DevInf's own),
        converted (:meth:`converted`) when that is another version."""
        devinf = self if version is None else self.converted(version)
        return Document(DEVINF_BY_VERSION[devinf.version], devinf.to_element())

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> DevInf:
        """Read a standalone DevInf document, WBXML or XML (told apart by
        the first byte)."""
        doc = _wbxml.decode(data) if looks_like_wbxml(data) else parse_xml(data)
        return cls.from_document(doc)

    def to_bytes(self, encoding: str = "wbxml", version: str | None = None, *, pretty: bool = False,
                 string_table: bool = False) -> bytes:
        """The DevInf as a standalone ``"wbxml"`` or ``"xml"`` document
        (``pretty``: indented XML; ``string_table``: WBXML with a string
        table, which also carries elements the code pages lack as literals)."""
        doc = self.to_document(version)
        if encoding == "wbxml":
            data: bytes = _wbxml.encode(doc, string_table=string_table)
            return data
        if encoding == "xml":
            return write_xml(doc, pretty=pretty)
        raise ValueError(f"encoding must be 'wbxml' or 'xml', not {encoding!r}")

    # -- queries ------------------------------------------------------------
    def datastore(self, source_ref: str) -> DataStore | None:
        """The datastore called ``source_ref`` (``./contacts`` = ``contacts``)."""
        return next((ds for ds in self.datastores if ds.ref_matches(source_ref)), None)

    def ctcaps_for(self, datastore: DataStore) -> tuple[CTCap, ...]:
        """The CTCaps that describe ``datastore``: its own (1.2) and the
        DevInf-level ones (1.0/1.1) for the types it receives or sends."""
        types = {norm_type(c.ct_type) for c in datastore.receives + datastore.transmits}
        return datastore.ctcaps + tuple(c for c in self.ctcaps if norm_type(c.ct_type) in types)

    def converted(self, version: str) -> DevInf:
        """This DevInf as ``version`` says it: to 1.2, the DevInf-level
        CTCaps move into the datastores that use their types (``VerCT`` from
        the datastore's Rx/Tx); to 1.0/1.1, the datastores' CTCaps move to
        the DevInf level (flat).  What the target cannot carry is left out
        (see :func:`.convert_devinf`)."""
        return convert_devinf(self, version)
