"""SIF-C <-> vCard 3.0 (and 2.1 through :func:`.vcard.convert_vcard`).

The mapping is Funambol's (``shared/reference/formats.md`` section 3.1),
with its ``X-FUNAMBOL-*`` names for the Outlook-only fields it writes in
vCards (Initials, Gender, Hobby, BillingInformation, OrganizationalIDNumber,
the Yomi names); Importance is PRIORITY as in Funambol's vCards.  Fields
with no property (AssistantName, Email1AddressType, MailingAddress...)
travel as ``X-SIF-<Field>``.  Telephone, e-mail and web fields are told
apart by their TYPE set; a second HOME or WORK voice number goes to
Home2/Business2TelephoneNumber, anything else with no free field is a loss.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import UnsupportedFormatError
from ._items import VCARD_21, VCARD_30, VCardItem, VersitItem
from ._sif_versit import Builder, apply_carried, fixup, raw_safe, text_eol, write_extra
from ._table import Item
from .sif import SIFC, SIFField, SIFItem, with_losses
from .vcard import convert_vcard
from .versit import Component, ContentLine

_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")

N_FIELDS = ("LastName", "FirstName", "MiddleName", "Title", "Suffix")
ORG_FIELDS = ("CompanyName", "Department", "OfficeLocation")
_ADR_PARTS = ("PostOfficeBox", "Extended", "Street", "City", "State", "PostalCode", "Country")
ADDRESSES = {"Home": "HOME", "Business": "WORK", "Other": ""}


def _adr_fields(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}Address{p}" for p in _ADR_PARTS)


# field -> (property, TYPE values); text values
SIMPLE: dict[str, tuple[str, str]] = {
    "FileAs": ("FN", ""), "NickName": ("NICKNAME", ""), "Spouse": ("X-SPOUSE", ""),
    "Children": ("X-FUNAMBOL-CHILDREN", ""), "HomeLabel": ("LABEL", "HOME"),
    "BusinessLabel": ("LABEL", "WORK"), "OtherLabel": ("LABEL", "OTHER"),
    "JobTitle": ("TITLE", ""), "Profession": ("ROLE", ""), "ManagerName": ("X-MANAGER", ""),
    "Companies": ("X-FUNAMBOL-COMPANIES", ""), "Body": ("NOTE", ""), "Uid": ("UID", ""),
    "Folder": ("X-FUNAMBOL-FOLDER", ""), "Language": ("X-FUNAMBOL-LANGUAGES", ""),
    "Mileage": ("X-FUNAMBOL-MILEAGE", ""), "Subject": ("X-FUNAMBOL-SUBJECT", ""),
    "Initials": ("X-FUNAMBOL-INITIALS", ""), "Gender": ("X-FUNAMBOL-GENDER", ""),
    "Hobby": ("X-FUNAMBOL-HOBBIES", ""), "BillingInformation": ("X-FUNAMBOL-BILLINGINFO", ""),
    "OrganizationalIDNumber": ("X-FUNAMBOL-ORGANIZATIONALID", ""),
    "YomiCompanyName": ("X-FUNAMBOL-YOMICOMPANYNAME", ""),
    "YomiFirstName": ("X-FUNAMBOL-YOMIFIRSTNAME", ""), "YomiLastName": ("X-FUNAMBOL-YOMILASTNAME", ""),
}
# raw values (dates, URIs, numbers): not escaped
RAW: dict[str, str] = {
    "Birthday": "BDAY", "Anniversary": "X-ANNIVERSARY", "Revision": "REV", "Timezone": "TZ",
    "InternetFreeBusyAddress": "FBURL", "Importance": "PRIORITY",
}
TEL: dict[str, str] = {
    "HomeTelephoneNumber": "VOICE,HOME", "Home2TelephoneNumber": "VOICE,HOME",
    "BusinessTelephoneNumber": "VOICE,WORK", "Business2TelephoneNumber": "VOICE,WORK",
    "OtherTelephoneNumber": "VOICE", "MobileTelephoneNumber": "CELL",
    "MobileHomeTelephoneNumber": "CELL,HOME", "MobileBusinessTelephoneNumber": "CELL,WORK",
    "HomeFaxNumber": "FAX,HOME", "BusinessFaxNumber": "FAX,WORK", "OtherFaxNumber": "FAX",
    "PagerNumber": "PAGER", "CarTelephoneNumber": "CAR,VOICE", "CompanyMainTelephoneNumber": "WORK,PREF",
    "PrimaryTelephoneNumber": "PREF,VOICE", "CallbackTelephoneNumber": "X-FUNAMBOL-CALLBACK",
    "RadioTelephoneNumber": "X-FUNAMBOL-RADIO", "TelexNumber": "X-FUNAMBOL-TELEX",
    "DCOnlyTelephoneNumber": "X-DC", "MobileDCTelephoneNumber": "CELL,X-DC",
}
EMAIL: dict[str, str] = {
    "Email1Address": "INTERNET", "Email2Address": "INTERNET,HOME", "Email3Address": "INTERNET,WORK",
    "MobileEmailAddress": "X-CELL", "IMAddress": "INTERNET,HOME,X-FUNAMBOL-INSTANTMESSENGER",
}
URL: dict[str, str] = {"WebPage": "", "HomeWebPage": "HOME", "BusinessWebPage": "WORK"}
SENSITIVITY = {"0": "PUBLIC", "1": "X-PERSONAL", "2": "PRIVATE", "3": "CONFIDENTIAL"}
_SECOND = {"HomeTelephoneNumber": "Home2TelephoneNumber",
           "BusinessTelephoneNumber": "Business2TelephoneNumber"}
_EMAIL_ORDER = ("Email1Address", "Email2Address", "Email3Address")


def _types(spec: str) -> frozenset[str]:
    return frozenset(t for t in spec.split(",") if t)


def _type_param(spec: str) -> str:
    return f"TYPE={spec}" if spec else ""


# -- SIF -> vCard 3.0 ---------------------------------------------------------
def _forward(fields: Sequence[SIFField], extra: list[SIFField], photo_type: str) -> Component:
    have: dict[str, str] = {}
    nested: list[SIFField] = []
    for name, value in fields:
        if isinstance(value, tuple):
            nested.append((name, value))
        else:
            have.setdefault(name, value)
    b = Builder()
    b.begin("VCARD")
    b.entries.append(("VERSION", "", "fixed", "3.0"))
    used: set[str] = set()

    def group(prop: str, names: Sequence[str], params: str = "") -> None:
        if any(n in have for n in names):
            b.parts(prop, [have.get(n, "") for n in names], params)
            used.update(names)

    group("N", N_FIELDS)
    if have.get("SIFVersion") == "1.1":
        used.add("SIFVersion")  # the reverse mapping writes it
    for name, value in have.items():
        if name in used:
            continue
        if (name in RAW or name in TEL or name in URL) and not raw_safe(value):
            extra.append((name, value))  # a raw value with line breaks: carried as text
            continue
        if name in SIMPLE:
            prop, types = SIMPLE[name]
            b.text(prop, value, _type_param(types))
        elif name in RAW:
            b.raw(RAW[name], value)
        elif name in TEL or name in EMAIL or name in URL:
            continue  # below, in table order: a first number before its "2" twin
        elif name == "Categories":
            b.parts("CATEGORIES", value.split(",") if value else [], sep=",")
        elif name == "Sensitivity" and value in SENSITIVITY:
            b.raw("CLASS", SENSITIVITY[value])
        elif name == "Photo":
            compact = "".join(value.split())
            if compact and not _BASE64.fullmatch(compact):
                extra.append((name, value))
                continue
            if compact:
                b.binary("PHOTO", compact, "ENCODING=b" + (f";TYPE={photo_type}" if photo_type else ""))
            else:
                b.raw("PHOTO", "")
        elif name in ORG_FIELDS:
            group("ORG", ORG_FIELDS)
            continue
        elif any(name in _adr_fields(p) for p in ADDRESSES):
            prefix = next(p for p in ADDRESSES if name in _adr_fields(p))
            group("ADR", _adr_fields(prefix), _type_param(ADDRESSES[prefix]))
            continue
        else:
            extra_name = name
            if (extra_name, value) not in extra:
                extra.append((extra_name, value))
            continue
        used.add(name)
    for table, prop in ((TEL, "TEL"), (EMAIL, "EMAIL"), (URL, "URL")):
        for name, types in table.items():
            if name in have and (prop == "EMAIL" or raw_safe(have[name])):
                (b.text if prop == "EMAIL" else b.raw)(prop, have[name], _type_param(types))
    for name, value in nested:
        if (name, value) not in extra:
            extra.append((name, value))
    write_extra(b, extra, fields)
    b.end("VCARD")
    return b.build()


def sif_to_vcard(item: SIFItem) -> Component:
    """The SIF-C item as a vCard 3.0 component."""
    photo_type = item.attributes.get("Photo", {}).get("TYPE", "")
    return fixup(item.fields, lambda f, e: _forward(f, list(e), photo_type),
                 lambda c: _reverse(c, [])[0])


def sif_to_item(item: SIFItem, target: str) -> Item:
    card = sif_to_vcard(item)
    if target == VCARD_30:
        return with_losses(VCardItem(card, VCARD_30), ())
    if target == VCARD_21:
        return with_losses(VCardItem(convert_vcard(card, "2.1"), VCARD_21), ())
    raise UnsupportedFormatError(f"conversion {SIFC} -> {target} is not supported", target)


# -- vCard -> SIF ---------------------------------------------------------------
def _line_types(line: ContentLine) -> frozenset[str]:
    return frozenset(t.upper() for t in line.param("TYPE") if t)


def _pick(table: dict[str, str], types: frozenset[str], taken: set[str],
          fallbacks: Sequence[str]) -> str | None:
    exact = [f for f, spec in table.items() if _types(spec) == types]
    for f in exact:
        if f not in taken:
            return f
        second = _SECOND.get(f)
        if second and second not in taken:
            return second
    for f in fallbacks:
        if f not in taken and f not in exact:
            return f
    return None


def _tel_fallbacks(types: frozenset[str]) -> list[str]:
    t = types - {"PREF", "VOICE", "MSG"}
    if "CELL" in t:
        return ["MobileTelephoneNumber"]
    if "FAX" in t:
        return ["HomeFaxNumber" if "HOME" in t else "BusinessFaxNumber" if "WORK" in t else "OtherFaxNumber"]
    if "PAGER" in t:
        return ["PagerNumber"]
    if "CAR" in t:
        return ["CarTelephoneNumber"]
    if "HOME" in t:
        return ["HomeTelephoneNumber", "Home2TelephoneNumber"]
    if "WORK" in t:
        return ["BusinessTelephoneNumber", "Business2TelephoneNumber"]
    return ["OtherTelephoneNumber"]


def _reverse(card: Component, losses: list[str]) -> tuple[list[SIFField], dict[str, str]]:
    """The SIF-C fields of a vCard 3.0 component, and the Photo attributes."""
    out: list[SIFField] = []
    taken: set[str] = set()
    photo_attrs: dict[str, str] = {}

    eol = text_eol(card)

    def put(name: str, value: str) -> None:
        out.append((name, eol(value)))
        taken.add(name)

    rev_simple = {(p, t): f for f, (p, t) in SIMPLE.items()}
    rev_raw = {p: f for f, p in RAW.items()}
    rev_class = {v: k for k, v in SENSITIVITY.items()}
    for line in card.lines:
        prop = line.name.upper()
        types = _line_types(line)
        shown = line.raw.decode("utf-8", "replace").strip()[:60]
        if prop in ("VERSION", "BEGIN", "END") or prop.startswith("X-SIF-"):
            continue
        if prop == "N":
            parts = line.components(";")
            for f, v in zip(N_FIELDS, parts + [""] * 5, strict=False):
                put(f, v)
        elif prop == "ORG":
            parts = line.components(";")
            for f, v in zip(ORG_FIELDS, parts + [""] * 3, strict=False):
                put(f, v)
            if len(parts) > 3 and any(parts[3:]):
                losses.append(f"ORG units past the third were dropped: {shown}")
        elif prop == "ADR":
            prefix = "Home" if "HOME" in types else "Business" if "WORK" in types else "Other"
            names = _adr_fields(prefix)
            if names[0] in taken:
                losses.append(f"a second {prefix.lower()} address has no SIF field: {shown}")
                continue
            parts = line.components(";")
            for f, v in zip(names, parts + [""] * 7, strict=False):
                put(f, v)
        elif prop == "LABEL":
            t = "HOME" if "HOME" in types else "WORK" if "WORK" in types else "OTHER"
            f = rev_simple[("LABEL", t)]
            if f in taken:
                losses.append(f"a second label has no SIF field: {shown}")
            else:
                put(f, line.value)
        elif (prop, "") in rev_simple and prop != "LABEL":
            f = rev_simple[(prop, "")]
            if f in taken:
                losses.append(f"a second {prop} has no SIF field: {shown}")
            else:
                put(f, line.value)
        elif prop in rev_raw:
            value = line.value
            if prop in ("BDAY", "X-ANNIVERSARY") and len(value) == 8 and value.isdigit():
                value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
            put(rev_raw[prop], value)
        elif prop == "TEL":
            slot = _pick(TEL, types, taken, _tel_fallbacks(types))
            if slot is None:
                losses.append(f"telephone number with no free SIF field: {shown}")
            else:
                put(slot, line.value)
        elif prop == "EMAIL":
            norm = types - {"PREF"}
            norm = norm if "INTERNET" in norm or not norm else norm | {"INTERNET"}
            slot = _pick(EMAIL, frozenset(norm), taken, _EMAIL_ORDER)
            if slot is None:
                losses.append(f"e-mail address with no free SIF field: {shown}")
            else:
                put(slot, line.value)
        elif prop == "URL":
            key = "HOME" if "HOME" in types else "WORK" if "WORK" in types else ""
            slot = _pick(URL, _types(key), taken, ("WebPage", "HomeWebPage", "BusinessWebPage"))
            if slot is None:
                losses.append(f"web address with no free SIF field: {shown}")
            else:
                put(slot, line.value)
        elif prop == "CATEGORIES":
            put("Categories", ",".join(line.components(",")))
        elif prop == "CLASS":
            if line.value.upper() in rev_class:
                put("Sensitivity", rev_class[line.value.upper()])
            else:
                losses.append(f"CLASS value has no SIF Sensitivity: {shown}")
        elif prop == "PHOTO":
            if line.encoding in ("B", "BASE64"):
                put("Photo", line.value)
                kind = [t for t in line.param("TYPE") if t]
                if kind:
                    photo_attrs["TYPE"] = kind[0]
            elif line.value:
                losses.append("PHOTO by reference (URI) has no SIF field")
            else:
                put("Photo", "")
        elif prop.startswith("X-"):
            if line.name in taken:
                losses.append(f"a repeated {line.name} was dropped")
            else:
                put(line.name, line.value)
        else:
            losses.append(f"{line.name} has no SIF-C field: {shown}")
    if "SIFVersion" not in taken:
        out.insert(0, ("SIFVersion", "1.1"))
    return apply_carried(out, card), photo_attrs


def vcard_to_sif(card: Component) -> SIFItem:
    """A vCard component (2.1 or 3.0) as a SIF-C item (``losses`` says what
    did not fit)."""
    if (card.version or "2.1") == "2.1":
        card = convert_vcard(card, "3.0")
    losses: list[str] = []
    fields, photo = _reverse(card, losses)
    return SIFItem(SIFC, fields, attributes={"Photo": photo} if photo else None, losses=losses)


def item_to_sif(item: object) -> SIFItem:
    if not isinstance(item, VersitItem) or item.content_type not in (VCARD_21, VCARD_30):
        raise UnsupportedFormatError(
            f"conversion {getattr(item, 'content_type', '?')} -> {SIFC} is not supported", SIFC)
    return vcard_to_sif(item.component)
