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

from typing import Literal

from ..codec import wbxml as _wbxml
from ..codec.codepages import DEVINF_BY_VERSION
from ..codec.detect import looks_like_wbxml
from ..codec.tree import Document, Element
from ..codec.xml import parse_xml, write_xml
from ..errors import DevInfError
from ..model import Layout, Node, flag, group, layout, model, node, text
from ._convert import convert_devinf
from ._ctcap import FLAT_CTCAPS, CTCap
from ._datastore import DataStore, norm_type

__all__ = ["VERSIONS", "DevInf", "Ext"]

#: the DevInf versions there are
VERSIONS = ("1.0", "1.1", "1.2")


@model("Ext", tolerant=True, kw_only=False, error=DevInfError)
class Ext(Node):
    """A non-standard extension: ``Ext(XNam, XVal*)``."""

    xnam: str = text("XNam", required=True)
    xvals: tuple[str, ...] = text("XVal", many=True)
    _layout: Layout | None = layout()


@model("DevInf", tolerant=True, error=DevInfError)
class DevInf(Node):
    """A device's information.  ``ctcaps`` are the DevInf-level CTCaps of
    1.0/1.1 (flat); in 1.2 they live in each :class:`DataStore`.

    >>> d = DevInf(dev_id="IMEI:1", dev_typ="phone", ver_dtd="1.2",
    ...            datastores=(DataStore("./contacts", sync_types=(1, 2)),))
    >>> DevInf.from_bytes(d.to_bytes()) == d
    True
    """

    ver_dtd: str = text("VerDTD", default="1.2")
    man: str | None = text("Man")
    mod: str | None = text("Mod")
    oem: str | None = text("OEM")
    fwv: str | None = text("FwV")
    swv: str | None = text("SwV")
    hwv: str | None = text("HwV")
    dev_id: str = text("DevID", required=True)
    dev_typ: str | None = text("DevTyp")
    utc: bool = flag("UTC")
    support_large_objs: bool = flag("SupportLargeObjs")
    support_number_of_changes: bool = flag("SupportNumberOfChanges")
    support_hierarchical_sync: bool = flag("SupportHierarchicalSync")
    datastores: tuple[DataStore, ...] = node("DataStore", many=True)
    ctcaps: tuple[CTCap, ...] = group("CTCap", FLAT_CTCAPS)
    exts: tuple[Ext, ...] = node("Ext", many=True)
    _layout: Layout | None = layout()

    # -- elements -----------------------------------------------------------
    @classmethod
    def from_element(cls, element: Element, path: str = "DevInf", *,  # type: ignore[override]
                     version: str | None = None, lenient: Literal[False] = False) -> DevInf:
        """Read a ``<DevInf>`` tree; ``version`` (the document type's) stands
        in for a missing ``VerDTD`` (which is then not written back)."""
        return cls._read_root(element, path, lenient, {"ver_dtd": version} if version else None)

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
