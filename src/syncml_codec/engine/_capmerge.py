"""Capability-aware merges (issue 15): what a device can hold of an item, a
Replace that never deletes what it cannot, and the ``merge`` conflict policy.

Why.  A device sends back only what it can store.  A vCard 2.1 phone whose
CTCap lists no PHOTO or NOTE replaces a contact without them, and taken
literally the Replace deletes them from every other device ("a server cannot
tell removed from not supported").  The device's CTCap (DevInf 1.0-1.2:
:class:`~syncml_codec.devinf.Capabilities`) tells what it can hold; for a
device that sends no DevInf, the quirk database may tell the same
(:attr:`.quirks.Quirks.capabilities`).  :class:`ItemCaps` is that, for the
type the device is sent, as plain data (it is kept in the session's state).

Rules (:func:`kept_from_stored`), on the item's main component (the vCard, a
calendar's first VEVENT/VTODO), in the datastore's canonical type (property
names are the same in vCard 2.1/3.0 and vCalendar 1.0/iCalendar 2.0 for the
properties a CTCap names):

* a property the device cannot represent is kept from the stored item when
  the device's version has none of that name (when it has some, the
  conversion to the canonical type made them: the device's win);
* a property declared with ``MaxOccur`` N: the device held the first N
  (:func:`reduced` sends no more); the stored ones after those are kept;
* a parameter the device cannot represent (its property declares parameters
  and not this one; a TYPE value that neither a TYPE ValEnum nor a 2.1-style
  parameter name lists) is put back on the device's line of the same value.

Volatile properties (REV, UID, PRODID, VERSION...) are never carried over,
nor the times and recurrence rules of events and tasks, nor TZID/VALUE
parameters: a format without them says the same another way (vCalendar 1.0's
DTEND for a DURATION), and keeping both would say it twice.

The ``merge`` policy (:func:`merged_fields`) is a three-way merge per
property name, with the version the device last held (the base, kept by the
store as an item revision, :meth:`~syncml_codec.store.base.Store.item_revision`):
a property only one side changed takes that side's lines; one both changed
takes the server's.  Without a base (the revision is no longer kept) it is a
two-way merge: the server's item plus the properties only the device has.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..devinf import Capabilities, DevInf
from ..formats import Component, ContentLine, parse
from .quirks import Quirks

__all__ = ["ItemCaps", "MergeResult", "caps_from_devinf", "caps_from_table", "device_caps", "kept_from_stored",
           "merged_fields", "reduced", "trimmed"]

#: never carried from one version to another (the item's own bookkeeping)
_VOLATILE = frozenset({"PRODID", "REV", "UID", "DTSTAMP", "LAST-MODIFIED", "CREATED", "SEQUENCE", "VERSION"})
#: transfer parameters: how a value is written, not what it says
_TRANSFER = frozenset({"ENCODING", "CHARSET"})
#: never kept from the stored item: a format without them says the same another way (vCalendar 1.0's
#: DTEND for iCalendar's DURATION, its local times for TZID), so keeping the stored ones would say it twice
_NOT_KEPT = frozenset({"DTSTART", "DTEND", "DURATION", "DUE", "RRULE", "RDATE", "EXDATE", "EXRULE", "RECURRENCE-ID",
                       "TZ", "DAYLIGHT"})
_VALUE_PARAMS = frozenset({"TZID", "VALUE"})
_NAMELESS_TRANSFER = frozenset({"QUOTED-PRINTABLE", "BASE64", "8BIT", "B", "7BIT"})
_MAX_NAMES = 512  # properties kept per device type (a hostile CTCap cannot grow a session state unbounded)
_MAX_PARAMS = 128  # parameters and values kept per property


@dataclass(frozen=True, slots=True)
class ItemCaps:
    """What a device can hold of one content type: per property name (upper
    case; a name ending in ``*`` covers a prefix) its ``MaxOccur`` (None: any
    number) and its declared parameters (``()``: none declared, any taken);
    ``source`` says where this came from (for the logs)."""

    properties: tuple[tuple[str, int | None, tuple[str, ...]], ...]
    source: str

    def _find(self, name: str) -> tuple[str, int | None, tuple[str, ...]] | None:
        key = name.strip().upper()
        exact = next((p for p in self.properties if p[0] == key), None)
        if exact is not None:
            return exact
        return next((p for p in self.properties if p[0].endswith("*") and key.startswith(p[0][:-1])), None)

    @property
    def limits(self) -> bool:
        """Whether some property has a MaxOccur (else :func:`trimmed` has nothing to do)."""
        return any(p[1] is not None for p in self.properties)

    def represents(self, name: str) -> bool:
        """Whether the device can hold property ``name``."""
        return self._find(name) is not None

    def max_occur(self, name: str) -> int | None:
        """How many ``name`` lines the device holds (None: any number)."""
        found = self._find(name)
        return None if found is None else found[1]

    def param_ok(self, name: str, param: str | None, value: str) -> bool:
        """Whether the device keeps parameter ``param`` (None: a nameless
        2.1 parameter, a TYPE value) with ``value`` on property ``name``."""
        found = self._find(name)
        if found is None or not found[2]:
            return True  # (no parameters declared: the CTCap does not tell)
        declared = found[2]
        key = (param or "TYPE").strip().upper()
        if key in _TRANSFER:
            return True
        if key == "TYPE":
            values = {v.strip('"').upper() for v in value.split(",") if v.strip()}
            named = {d.split("=", 1)[0] for d in declared}
            if "TYPE" in named:
                allowed = {d.split("=", 1)[1] for d in declared if "=" in d and d.startswith("TYPE=")}
                return not allowed or values <= allowed
            return values <= named  # (2.1 style: <ParamName>HOME</ParamName>)
        return key in {d.split("=", 1)[0] for d in declared}


def _caps(props: Iterable[tuple[str, int | None, tuple[str, ...]]], source: str) -> ItemCaps | None:
    found = tuple(props)[:_MAX_NAMES]
    return ItemCaps(found, source) if found else None


def caps_from_devinf(devinf: DevInf | None, client_uri: str, ctype: str | None) -> ItemCaps | None:
    """The device's capabilities for ``ctype`` from the CTCap of its datastore
    ``client_uri`` (DevInf 1.2 nested, 1.0/1.1 flat); None when it declares
    none for that type (then nothing is restricted)."""
    if devinf is None or not ctype or not client_uri:
        return None
    theirs = devinf.datastore(client_uri)
    if theirs is None:
        return None
    props = Capabilities.of(theirs, devinf.ctcaps_for(theirs)).properties(ctype)
    if not props:
        return None
    out = []
    for name, prop in props.items():
        params: list[str] = []
        for p in prop.params:
            pname = p.name.strip().upper()
            params += [f"{pname}={v.strip().upper()}" for v in p.values] or [pname]
        params = params[:_MAX_PARAMS]
        out.append((name, prop.max_occur if prop.max_occur and prop.max_occur > 0 else None, tuple(params)))
    return _caps(out, f"CTCap {ctype}")


def caps_from_table(table: Iterable[tuple[str, tuple[str, ...]]], ctype: str | None, source: str) -> ItemCaps | None:
    """Capabilities from the quirk database (:attr:`.quirks.Rule.capabilities`):
    ``(content type, ("N", "TEL", "NOTE:1", ...))`` rows, ``NAME:N`` giving
    a MaxOccur."""
    if not ctype:
        return None
    wanted = ctype.strip().lower()
    for row_type, names in table:
        if row_type.strip().lower() == wanted:
            out = []
            for spec in names:
                name, _, occur = spec.partition(":")
                out.append((name.strip().upper(), int(occur) if occur.strip().isdigit() else None, ()))
            return _caps(out, source)
    return None


def device_caps(devinf: DevInf | None, client_uri: str, ctype: str | None, quirks: Quirks) -> ItemCaps | None:
    """What the device holds of ``ctype`` (the type it is sent): its CTCap,
    else the quirk database's capabilities for it; None (nothing restricted)
    when neither tells, or the quirk database says its CTCap is wrong
    (``ignore-ctcap``)."""
    if "ignore-ctcap" in quirks:
        return None
    found = caps_from_devinf(devinf, client_uri, ctype)
    if found is not None:
        return found
    for rule, rows in quirks.capabilities():
        found = caps_from_table(rows, ctype, f"quirk rule {rule}")
        if found is not None:
            return found
    return None


def _main(component: Component) -> Component | None:
    if component.name.upper() == "VCARD":
        return component
    return next((c for c in component.components if c.name.upper() in ("VEVENT", "VTODO", "VJOURNAL")), None)


def _parsed_main(data: bytes, ctype: str) -> tuple[object, Component] | None:
    item = parse(data, ctype)
    top = getattr(item, "component", None)
    if not isinstance(top, Component):
        return None
    main = _main(top)
    return None if main is None else (item, main)


def _serialized_without(item: object, main: Component, drop: list[ContentLine]) -> bytes:
    """``item`` serialized with the lines ``drop`` taken out of its main component."""
    gone = {id(line) for line in drop}
    main.children = [c for c in main.children if id(c) not in gone]
    return bytes(item.serialize())  # type: ignore[attr-defined]


def _value(line: ContentLine) -> str:
    try:
        return line.value.replace("\r\n", "\n").strip()
    except (ValueError, UnicodeDecodeError):
        return repr(line.raw)


def _key(line: ContentLine) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """A line as compared: name, decoded value, its meaningful parameters."""
    params = tuple(sorted(((n or "TYPE").upper(), v.strip('"').upper()) for n, v in line.params
                          if (n or "").upper() not in _TRANSFER
                          and not (n is None and v.upper() in _NAMELESS_TRANSFER)))
    return line.name.upper(), _value(line), params


def _insert(main: Component, lines: list[ContentLine]) -> None:
    """Add ``lines`` after the last line of their name, else before the nested components."""
    for line in lines:
        name = line.name.upper()
        at = next((i + 1 for i in range(len(main.children) - 1, -1, -1)
                   if _named(main.children[i], name)), None)
        if at is None:
            at = next((i for i, c in enumerate(main.children) if isinstance(c, Component)), len(main.children))
        main.children.insert(at, line)


def _named(child: object, name: str) -> bool:
    return isinstance(child, ContentLine) and child.name.upper() == name


def _groups(main: Component) -> dict[str, list[ContentLine]]:
    out: dict[str, list[ContentLine]] = {}
    for line in main.lines:
        out.setdefault(line.name.upper(), []).append(line)
    return out


def _types(params: Iterable[tuple[str | None, str]]) -> list[str]:
    """The TYPE values of a line's parameters (2.1 nameless ones included, encodings left out)."""
    out: list[str] = []
    for n, v in params:
        if (n or "TYPE").upper() == "TYPE" and not (n is None and v.upper() in _NAMELESS_TRANSFER):
            out += [t.strip().strip('"').upper() for t in v.split(",") if t.strip()]
    return out


def _lost_params(old: ContentLine, line: ContentLine, caps: ItemCaps) -> list[tuple[str | None, str]]:
    """The parameters of the stored ``old`` the device cannot carry and its ``line`` lacks."""
    name = line.name.upper()
    have_types = set(_types(line.params))
    have_names = {(n or "TYPE").upper() for n, _ in line.params}
    lost_types = [t for t in dict.fromkeys(_types(old.params))
                  if t not in have_types and not caps.param_ok(name, "TYPE", t)]
    out: list[tuple[str | None, str]] = [("TYPE", ",".join(lost_types))] if lost_types else []
    for n, v in old.params:
        key = (n or "TYPE").upper()
        if key != "TYPE" and key not in _TRANSFER | _VALUE_PARAMS and key not in have_names \
                and not caps.param_ok(name, n, v):
            out.append((n, v))
    return out


def _kept_params(line: ContentLine, caps: ItemCaps) -> list[tuple[str | None, str]] | None:
    """``line``'s parameters without those the device cannot carry (None: all carried)."""
    name = line.name.upper()
    out: list[tuple[str | None, str]] = []
    changed = False
    for n, v in line.params:
        key = (n or "TYPE").upper()
        if key == "TYPE" and not (n is None and v.upper() in _NAMELESS_TRANSFER):
            types = [t for t in v.split(",") if t.strip()]
            ok = [t for t in types if caps.param_ok(name, "TYPE", t.strip().strip('"'))]
            changed |= len(ok) != len(types)
            if ok:
                out.append((n, ",".join(ok)))
        elif key in _TRANSFER or caps.param_ok(name, n, v):
            out.append((n, v))
        else:
            changed = True
    return out if changed else None


def _may_reduce(data: bytes, caps: ItemCaps) -> bool:
    """Whether :func:`reduced` could leave anything out, read from the raw
    lines without parsing (most items of a device hold only what it can)."""
    counts: dict[bytes, int] = {}
    for raw in data.split(b"\n"):
        if raw[:1] in (b" ", b"\t") or b":" not in raw:
            continue  # (a folded line's continuation, a base64 block)
        head = raw.split(b":", 1)[0]
        name = head.split(b";", 1)[0].rsplit(b".", 1)[-1].strip().upper()
        if name in (b"BEGIN", b"END") or name.decode("ascii", "replace") in _VOLATILE:
            continue
        found = caps._find(name.decode("ascii", "replace"))
        if found is None:
            return True
        counts[name] = counts.get(name, 0) + 1
        if (found[1] is not None and counts[name] > found[1]) or (found[2] and b";" in head):
            return True
    return False


def reduced(data: bytes, ctype: str, caps: ItemCaps) -> bytes | None:
    """``data`` (in ``ctype``) as the device holds it: without the properties
    it cannot represent and the occurrences past their MaxOccur; with
    None when nothing is left out or it cannot be read."""
    if not _may_reduce(data, caps):
        return None
    try:
        found = _parsed_main(data, ctype)
        if found is None:
            return None
        item, main = found
        counts: dict[str, int] = {}
        drop = []
        changed = False
        for line in main.lines:
            name = line.name.upper()
            if name in _VOLATILE or name in ("BEGIN", "END"):
                continue
            counts[name] = counts.get(name, 0) + 1
            limit = caps.max_occur(name)
            if not caps.represents(name) or (limit is not None and counts[name] > limit):
                drop.append(line)
                continue
            params = _kept_params(line, caps)
            if params is not None:
                line.set_params(params)
                changed = True
        if not drop and not changed:
            return None
        return _serialized_without(item, main, drop)
    except Exception:  # defence in depth: the item as it is
        return None


def trimmed(data: bytes, ctype: str, caps: ItemCaps) -> bytes | None:
    """``data`` with the occurrences past each property's MaxOccur left out
    (what goes to the device: it holds no more); None: nothing to leave out."""
    if not caps.limits:
        return None
    try:
        found = _parsed_main(data, ctype)
        if found is None:
            return None
        item, main = found
        drop = []
        for name, lines in _groups(main).items():
            limit = caps.max_occur(name)
            if limit is not None and len(lines) > limit:
                drop += lines[limit:]
        if not drop:
            return None
        return _serialized_without(item, main, drop)
    except Exception:
        return None


def kept_from_stored(current: bytes, data: bytes, ctype: str, caps: ItemCaps) -> tuple[bytes, list[str]] | None:
    """``data`` (a device's Replace of ``current``, both in ``ctype``) with
    what of ``current`` the device cannot represent (see the module doc),
    and the names of the properties/parameters kept; None: nothing kept."""
    try:
        stored, new = _parsed_main(current, ctype), _parsed_main(data, ctype)
        if stored is None or new is None:
            return None
        item, n_main = new
        s_groups, n_groups = _groups(stored[1]), _groups(n_main)
        kept: list[ContentLine] = []
        names: list[str] = []
        for name, lines in s_groups.items():
            if name in _VOLATILE or name in _NOT_KEPT or name.startswith("X-SIF-"):
                continue
            if not caps.represents(name):
                if name not in n_groups:
                    kept += lines
                    names.append(name)
                continue
            limit = caps.max_occur(name)
            if limit is not None and len(lines) > limit:
                have = {_key(x) for x in n_groups.get(name, ())}
                extra = [x for x in lines[limit:] if _key(x) not in have]
                if extra:
                    kept += extra
                    names.append(f"{name} (past MaxOccur {limit})")
        for name, lines in n_groups.items():  # parameters the device cannot carry, on lines of the same value
            olds = s_groups.get(name, [])
            for line in lines:
                value = _value(line)
                old = next((o for o in olds if _value(o) == value), None)
                missing = _lost_params(old, line, caps) if old is not None else []
                if missing:
                    line.set_params([*line.params, *missing])
                    names.append(f"{name};{','.join(f'{n}={v}' for n, v in missing)}")
        if not names:
            return None
        _insert(n_main, kept)
        return bytes(item.serialize()), names  # type: ignore[attr-defined]
    except Exception:  # defence in depth: the device's version as it came
        return None


@dataclass(frozen=True, slots=True)
class MergeResult:
    """A merged item and what happened per property: taken from the device
    (``client``), kept from the server (``server``), changed on both sides
    (``both``: the server's kept); ``based``: a three-way merge (False: no
    base version was kept, the two-way fallback)."""

    data: bytes
    client: tuple[str, ...]
    server: tuple[str, ...]
    both: tuple[str, ...]
    based: bool

    def describe(self) -> str:
        """One line for the conflict log."""
        parts = [f"{what}: {', '.join(names)}" for what, names in
                 (("from the device", self.client), ("from the server", self.server),
                  ("changed on both, server's kept", self.both)) if names]
        how = "merged field by field" if self.based else "merged field by field without a base (fallback)"
        return f"both changed; {how}" + (f" ({'; '.join(parts)})" if parts else "")


def merged_fields(base: bytes | None, server: bytes, client: bytes, ctype: str) -> MergeResult | None:
    """The ``merge`` policy: ``server`` and ``client`` (both in ``ctype``)
    combined property by property against ``base`` (the version the device
    held; None: unknown, see the module doc); None: cannot be merged (not a
    structured item, unreadable)."""
    try:
        s_found, c_found = _parsed_main(server, ctype), _parsed_main(client, ctype)
        b_found = _parsed_main(base, ctype) if base is not None else None
        if s_found is None or c_found is None:
            return None
        item, s_main = s_found
        s_groups, c_groups = _groups(s_main), _groups(c_found[1])
        b_groups = _groups(b_found[1]) if b_found is not None else None
        took, kept, both = [], [], []
        for name in list(dict.fromkeys([*s_groups, *c_groups])):
            if name in _VOLATILE or name in ("BEGIN", "END"):
                continue
            s_lines, c_lines = s_groups.get(name, []), c_groups.get(name, [])
            s_keys, c_keys = sorted(map(_key, s_lines)), sorted(map(_key, c_lines))
            if s_keys == c_keys:
                continue
            if b_groups is not None:
                b_keys = sorted(map(_key, b_groups.get(name, [])))
                if s_keys == b_keys:
                    take_client = True
                elif c_keys == b_keys:
                    take_client = False
                    kept.append(name)
                else:
                    take_client = False
                    both.append(name)
            else:
                take_client = not s_lines  # (no base: what only the device has is added)
                if not take_client:
                    (both if c_lines else kept).append(name)
            if take_client:
                took.append(name)
                at = next((i for i, c in enumerate(s_main.children) if any(c is x for x in s_lines)), None)
                s_main.children = [c for c in s_main.children if not any(c is x for x in s_lines)]
                if at is None:
                    _insert(s_main, c_lines)
                else:
                    s_main.children[at:at] = c_lines
        return MergeResult(bytes(item.serialize()), tuple(took), tuple(kept), tuple(both),  # type: ignore[attr-defined]
                           b_groups is not None)
    except Exception:  # defence in depth: the caller falls back to the server's version
        return None
