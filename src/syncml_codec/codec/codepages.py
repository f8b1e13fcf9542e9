"""WBXML code pages, public identifiers and charsets for the SyncML family.

Plain data, shared by the Cython extension and its pure-Python twin.  The
token values are facts from the SyncML / OMA DS / OMA DM specifications (as
also used by libwbxml); see ``../shared/reference/libwbxml.md`` section 2.

Notes on the tables:
* SyncML 1.0 uses the SyncML 1.1 table (a superset of the 1.0 tokens), as
  libwbxml does, so 1.0 devices that send 1.1 tokens still decode.
* 0x39 ``SourceParent`` is in the 1.1 table (a Nokia extension before 1.2).
* Standalone MetInf documents use code page 1, like MetInf inside SyncML.
* DM DDF 1.2 lives on code page 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CHARSETS",
    "LANGUAGES",
    "WBXML_NS",
    "Language",
    "charset_codec",
    "language_by_key",
    "language_by_public_id",
    "language_by_xml_public_id",
]

#: Namespace of the explicit ``wbxml:`` elements used to keep WBXML
#: constructs that have no SyncML meaning (unknown tokens, extensions, PIs)
#: and binary opaque data, so that nothing decoded is ever lost.
WBXML_NS = "urn:syncml-codec:wbxml"

_SYNCML11_PAGE0 = {
    0x05: "Add", 0x06: "Alert", 0x07: "Archive", 0x08: "Atomic", 0x09: "Chal",
    0x0A: "Cmd", 0x0B: "CmdID", 0x0C: "CmdRef", 0x0D: "Copy", 0x0E: "Cred",
    0x0F: "Data", 0x10: "Delete", 0x11: "Exec", 0x12: "Final", 0x13: "Get",
    0x14: "Item", 0x15: "Lang", 0x16: "LocName", 0x17: "LocURI", 0x18: "Map",
    0x19: "MapItem", 0x1A: "Meta", 0x1B: "MsgID", 0x1C: "MsgRef", 0x1D: "NoResp",
    0x1E: "NoResults", 0x1F: "Put", 0x20: "Replace", 0x21: "RespURI",
    0x22: "Results", 0x23: "Search", 0x24: "Sequence", 0x25: "SessionID",
    0x26: "SftDel", 0x27: "Source", 0x28: "SourceRef", 0x29: "Status",
    0x2A: "Sync", 0x2B: "SyncBody", 0x2C: "SyncHdr", 0x2D: "SyncML",
    0x2E: "Target", 0x2F: "TargetRef", 0x31: "VerDTD", 0x32: "VerProto",
    0x33: "NumberOfChanges", 0x34: "MoreData", 0x39: "SourceParent",
}
# 0x30 is "reserved for future use" in every SyncML table: left out, so it
# decodes as an unknown token instead of a tag name with spaces in it.

_SYNCML12_PAGE0 = dict(_SYNCML11_PAGE0)
_SYNCML12_PAGE0.update({
    0x35: "Field", 0x36: "Filter", 0x37: "Record", 0x38: "FilterType",
    0x3A: "TargetParent", 0x3B: "Move", 0x3C: "Correlator",
})

_METINF11 = {
    0x05: "Anchor", 0x06: "EMI", 0x07: "Format", 0x08: "FreeID", 0x09: "FreeMem",
    0x0A: "Last", 0x0B: "Mark", 0x0C: "MaxMsgSize", 0x0D: "Mem", 0x0E: "MetInf",
    0x0F: "Next", 0x10: "NextNonce", 0x11: "SharedMem", 0x12: "Size",
    0x13: "Type", 0x14: "Version", 0x15: "MaxObjSize",
}
_METINF12 = dict(_METINF11)
_METINF12[0x16] = "FieldLevel"

_DEVINF11 = {
    0x05: "CTCap", 0x06: "CTType", 0x07: "DataStore", 0x08: "DataType",
    0x09: "DevID", 0x0A: "DevInf", 0x0B: "DevTyp", 0x0C: "DisplayName",
    0x0D: "DSMem", 0x0E: "Ext", 0x0F: "FwV", 0x10: "HwV", 0x11: "Man",
    0x12: "MaxGUIDSize", 0x13: "MaxID", 0x14: "MaxMem", 0x15: "Mod", 0x16: "OEM",
    0x17: "ParamName", 0x18: "PropName", 0x19: "Rx", 0x1A: "Rx-Pref",
    0x1B: "SharedMem", 0x1C: "Size", 0x1D: "SourceRef", 0x1E: "SwV",
    0x1F: "SyncCap", 0x20: "SyncType", 0x21: "Tx", 0x22: "Tx-Pref",
    0x23: "ValEnum", 0x24: "VerCT", 0x25: "VerDTD", 0x26: "XNam", 0x27: "XVal",
    0x28: "UTC", 0x29: "SupportNumberOfChanges", 0x2A: "SupportLargeObjs",
}
_DEVINF12 = dict(_DEVINF11)
_DEVINF12.update({
    0x1C: "MaxSize", 0x2B: "Property", 0x2C: "PropParam", 0x2D: "MaxOccur",
    0x2E: "NoTruncate", 0x30: "Filter-Rx", 0x31: "FilterCap",
    0x32: "FilterKeyword", 0x33: "FieldLevel", 0x34: "SupportHierarchicalSync",
})

_DDF12 = {
    0x05: "AccessType", 0x06: "ACL", 0x07: "Add", 0x08: "b64", 0x09: "bin",
    0x0A: "bool", 0x0B: "chr", 0x0C: "CaseSense", 0x0D: "CIS", 0x0E: "Copy",
    0x0F: "CS", 0x10: "date", 0x11: "DDFName", 0x12: "DefaultValue",
    0x13: "Delete", 0x14: "Description", 0x15: "DFFormat", 0x16: "DFProperties",
    0x17: "DFTitle", 0x18: "DFType", 0x19: "Dynamic", 0x1A: "Exec", 0x1B: "float",
    0x1C: "Format", 0x1D: "Get", 0x1E: "int", 0x1F: "Man", 0x20: "MgmtTree",
    0x21: "MIME", 0x22: "Mod", 0x23: "Name", 0x24: "Node", 0x25: "node",
    0x26: "NodeName", 0x27: "null", 0x28: "Occurrence", 0x29: "One",
    0x2A: "OneOrMore", 0x2B: "OneOrN", 0x2C: "Path", 0x2D: "Permanent",
    0x2E: "Replace", 0x2F: "RTProperties", 0x30: "Scope", 0x31: "Size",
    0x32: "time", 0x33: "Title", 0x34: "TStamp", 0x35: "Type", 0x36: "Value",
    0x37: "VerDTD", 0x38: "VerNo", 0x39: "xml", 0x3A: "ZeroOrMore",
    0x3B: "ZeroOrN", 0x3C: "ZeroOrOne",
}


@dataclass(frozen=True)
class Language:
    """One WBXML/XML document type: its identifiers and code pages."""

    key: str                   #: short name, e.g. ``"syncml12"``
    family: str                #: ``syncml``, ``devinf``, ``metinf`` or ``ddf``
    version: str               #: ``"1.0"``, ``"1.1"`` or ``"1.2"``
    root: str                  #: root element name
    public_id: int             #: numeric WBXML public ID, 0 if it has none
    xml_public_id: str         #: the DOCTYPE public identifier
    system_id: str             #: the DOCTYPE system identifier
    namespaces: dict[int, str]  #: code page -> XML namespace
    pages: dict[int, dict[int, str]] = field(repr=False)  #: page -> token -> name
    #: name -> (page, token); built from ``pages``
    names: dict[str, tuple[int, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names: dict[str, tuple[int, int]] = {}
        for page, table in sorted(self.pages.items()):
            for token, name in sorted(table.items()):
                names.setdefault(name, (page, token))
        object.__setattr__(self, "names", names)

    @property
    def root_page(self) -> int:
        return self.names[self.root][0]

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Language) and other.key == self.key


def _syncml(version: str, public_id: int, dtd: str, page0: dict[int, str],
            metinf: dict[int, str]) -> Language:
    return Language(
        key="syncml" + version.replace(".", ""), family="syncml", version=version,
        root="SyncML", public_id=public_id,
        xml_public_id=f"-//SYNCML//DTD SyncML {version}//EN", system_id=dtd,
        namespaces={0: f"SYNCML:SYNCML{version}", 1: "syncml:metinf"},
        pages={0: page0, 1: metinf},
    )


def _devinf(version: str, public_id: int, dtd: str, page0: dict[int, str]) -> Language:
    return Language(
        key="devinf" + version.replace(".", ""), family="devinf", version=version,
        root="DevInf", public_id=public_id,
        xml_public_id=f"-//SYNCML//DTD DevInf {version}//EN", system_id=dtd,
        namespaces={0: "syncml:devinf"}, pages={0: page0},
    )


def _metinf(version: str, dtd: str, page1: dict[int, str]) -> Language:
    return Language(
        key="metinf" + version.replace(".", ""), family="metinf", version=version,
        root="MetInf", public_id=0x1202 if version == "1.2" else 0,
        xml_public_id=f"-//SYNCML//DTD MetInf {version}//EN", system_id=dtd,
        namespaces={1: "syncml:metinf"}, pages={1: page1},
    )


SYNCML10 = _syncml("1.0", 0x0FD1, "http://www.syncml.org/docs/syncml_represent_v10_20001207.dtd",
                   _SYNCML11_PAGE0, _METINF11)
SYNCML11 = _syncml("1.1", 0x0FD3, "http://www.syncml.org/docs/syncml_represent_v11_20020213.dtd",
                   _SYNCML11_PAGE0, _METINF11)
SYNCML12 = _syncml("1.2", 0x1201, "http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd",
                   _SYNCML12_PAGE0, _METINF12)
DEVINF10 = _devinf("1.0", 0x0FD2, "http://www.syncml.org/docs/syncml_devinf_v10_20001207.dtd", _DEVINF11)
DEVINF11 = _devinf("1.1", 0x0FD4, "http://www.syncml.org/docs/devinf_v11_20020215.dtd", _DEVINF11)
DEVINF12 = _devinf("1.2", 0x1203, "http://www.openmobilealliance.org/tech/DTD/OMA-SyncML-Device_Information-DTD-1.2.dtd",
                   _DEVINF12)
METINF11 = _metinf("1.1", "http://www.syncml.org/docs/syncml_metinf_v11_20020215.dtd", _METINF11)
METINF12 = _metinf("1.2", "http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_MetaInfo_DTD-V1_2.dtd",
                   _METINF12)
DDF12 = Language(
    key="ddf12", family="ddf", version="1.2", root="MgmtTree", public_id=0,
    xml_public_id="-//OMA//DTD-DM-DDF 1.2//EN",
    system_id="http://www.openmobilealliance.org/tech/DTD/dm_ddf-v1_2.dtd",
    namespaces={2: "syncml:dmddf1.2"}, pages={2: _DDF12},
)

#: Every language, in detection order (newest first within a family).
LANGUAGES: tuple[Language, ...] = (
    SYNCML12, DEVINF12, METINF12, DDF12, SYNCML11, DEVINF11, METINF11, SYNCML10, DEVINF10,
)

_BY_KEY = {lang.key: lang for lang in LANGUAGES}
_BY_PUBLIC_ID = {lang.public_id: lang for lang in LANGUAGES if lang.public_id}
_BY_XML_PUBLIC_ID = {lang.xml_public_id.lower(): lang for lang in LANGUAGES}
#: the nested DevInf language that goes with each SyncML version
DEVINF_FOR_SYNCML = {"1.0": DEVINF10, "1.1": DEVINF11, "1.2": DEVINF12}
SYNCML_BY_VERSION = {"1.0": SYNCML10, "1.1": SYNCML11, "1.2": SYNCML12}
DEVINF_BY_VERSION = {"1.0": DEVINF10, "1.1": DEVINF11, "1.2": DEVINF12}
METINF_BY_VERSION = {"1.1": METINF11, "1.2": METINF12}


def language_by_key(key: str) -> Language:
    return _BY_KEY[key]


def language_by_public_id(public_id: int) -> Language | None:
    return _BY_PUBLIC_ID.get(public_id)


def language_by_xml_public_id(text: str) -> Language | None:
    return _BY_XML_PUBLIC_ID.get(text.strip().lower())


# IANA MIBenum -> Python codec, for every charset a SyncML device may name
# in a WBXML header and Python can encode.  WBXML 1.0 has no charset field;
# those documents (and MIBenum 0, "unknown") are read as UTF-8.
CHARSETS: dict[int, str] = {
    3: "ascii", 4: "latin-1", 5: "iso8859-2", 6: "iso8859-3", 7: "iso8859-4",
    8: "iso8859-5", 9: "iso8859-6", 10: "iso8859-7", 11: "iso8859-8",
    12: "iso8859-9", 13: "iso8859-10", 17: "shift_jis", 18: "euc_jp",
    36: "euc_kr", 37: "iso2022_kr", 38: "euc_kr", 39: "iso2022_jp",
    40: "iso2022_jp_2", 57: "gb2312", 104: "iso2022_jp", 106: "utf-8",
    109: "iso8859-13", 110: "iso8859-14", 111: "iso8859-15", 112: "iso8859-16",
    113: "gbk", 114: "gb18030", 1000: "utf-16-be", 1001: "utf-32-be",
    1012: "utf-7", 1013: "utf-16-be", 1014: "utf-16-le", 1015: "utf-16-be",
    1017: "utf-32-be", 1018: "utf-32-be", 1019: "utf-32-le", 2009: "cp850",
    2011: "cp437", 2025: "gb2312", 2026: "big5", 2027: "mac-roman",
    2084: "koi8-r", 2086: "cp866", 2088: "koi8-u", 2101: "big5hkscs",
    2109: "cp874", 2250: "cp1250", 2251: "cp1251", 2252: "cp1252",
    2253: "cp1253", 2254: "cp1254", 2255: "cp1255", 2256: "cp1256",
    2257: "cp1257", 2258: "cp1258", 2259: "tis-620", 2010: "cp852", 2028: "cp037",
    2046: "cp855", 2047: "cp857", 2048: "cp860", 2049: "cp861", 2050: "cp863",
    2051: "cp864", 2052: "cp865", 2054: "cp869", 2085: "hz", 2087: "cp775",
    2089: "cp1006", 2103: "ptcp154", 2107: "cp1125",
}
#: preferred MIBenum for a charset name given by the caller
CHARSET_NAMES: dict[str, int] = {
    "utf-8": 106, "utf8": 106, "us-ascii": 3, "ascii": 3, "iso-8859-1": 4,
    "latin-1": 4, "latin1": 4, "utf-16": 1015, "utf-16be": 1013, "utf-16le": 1014,
    "shift_jis": 17, "shift-jis": 17, "euc-jp": 18, "iso-8859-15": 111,
    "windows-1252": 2252, "big5": 2026, "gb2312": 2025, "koi8-r": 2084,
}


def charset_codec(mib: int) -> str | None:
    """The Python codec for IANA MIBenum ``mib`` (None if unknown)."""
    if mib == 0:
        return "utf-8"
    return CHARSETS.get(mib)


def terminator_width(codec: str) -> int:
    """Bytes in one NUL character (the string terminator) of ``codec``."""
    if codec.startswith("utf-16"):
        return 2
    if codec.startswith("utf-32"):
        return 4
    return 1
