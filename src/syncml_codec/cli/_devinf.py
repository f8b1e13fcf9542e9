"""``syncml devinf``: a device's information, the quirk rules it triggers
and each datastore's capabilities, as tables.

Reads a standalone DevInf document or a SyncML message (WBXML or XML) and
shows every DevInf in it (a ``Put`` of the sender's own, a ``Results``
answering a ``Get``).  The property tables come from the normalized view
(:class:`~syncml_codec.devinf.Capabilities`), so a 1.0/1.1 device's flat
DevInf-level CTCaps show under the datastores that use their types.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..codec import wbxml as _wbxml
from ..codec.detect import looks_like_wbxml
from ..codec.xml import parse_xml
from ..devinf import (
    Capabilities,
    ContentType,
    DataStore,
    DevInf,
    Property,
    devinf_documents,
    norm_type,
    norm_version,
)
from ..engine.quirks import quirks_for
from ..errors import DevInfError, SyncMLError
from ._common import CommandError, read_input

__all__ = ["register", "render"]


def _table(headers: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return (indent + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))).rstrip()

    rule = ["-" * w for w in widths[:-1]] + ["-" * len(headers[-1])]  # the last column may be long
    return [line(headers), line(rule)] + [line(r) for r in rows]


def _device(devinf: DevInf) -> list[str]:
    fields = [("DevID", devinf.dev_id), ("DevTyp", devinf.dev_typ), ("Man", devinf.man), ("Mod", devinf.mod),
              ("OEM", devinf.oem), ("FwV", devinf.fwv), ("SwV", devinf.swv), ("HwV", devinf.hwv)]
    flags = [name for name, on in (("UTC", devinf.utc), ("LargeObjs", devinf.support_large_objs),
                                   ("NumberOfChanges", devinf.support_number_of_changes),
                                   ("HierarchicalSync", devinf.support_hierarchical_sync)) if on]
    rows = [[name, value] for name, value in fields if value is not None]
    if flags:
        rows.append(["Supports", ", ".join(flags)])
    rows += [["Ext", f"{ext.xnam} = {', '.join(ext.xvals)}" if ext.xvals else ext.xnam] for ext in devinf.exts]
    width = max(len(r[0]) for r in rows)
    return ["Device"] + [f"  {name.ljust(width)}  {value}" for name, value in rows]


def _quirks(devinf: DevInf) -> list[str]:
    """The quirk rules the device triggers (:mod:`syncml_codec.engine.quirks`)."""
    quirks = quirks_for(devinf, devinf.dev_id.strip())
    if not quirks:
        return ["Quirks  none (no quirk rule matches this device)"]
    rows = [[behaviour, rule, does] for behaviour, does, rule, _ in quirks.table()]
    out = [f"Quirks  {len(rows)} behaviour{'s' if len(rows) != 1 else ''} in force", ""]
    out += _table(["BEHAVIOUR", "RULE", "WHAT THE SERVER DOES"], rows)
    out.append("")
    out += [f"  rule {rule.name}: {rule.trigger}; source: {rule.source}" for rule in quirks.rules]
    return out


def _direction(c: ContentType, preferred: tuple[ContentType, ...], others: tuple[ContentType, ...]) -> str:
    if any(p.key == c.key for p in preferred):
        return "preferred"
    return "yes" if any(o.key == c.key for o in others) else ""


def _property_rows(props: dict[str, Property]) -> list[list[str]]:
    rows = []
    for p in props.values():
        params = " ".join(f"{q.name}={','.join(q.values)}" if q.values else q.name for q in p.params)
        rows.append([p.name, "" if p.max_size is None else str(p.max_size),
                     "" if p.max_occur is None else str(p.max_occur), ",".join(p.values), params])
    return rows


def _datastore(ds: DataStore, caps: Capabilities, brief: bool) -> list[str]:
    title = f"DataStore {ds.source_ref.strip()}" + (f" ({ds.display_name})" if ds.display_name else "")
    out = [title]
    facts = []
    if ds.max_guid_size is not None:
        facts.append(f"MaxGUIDSize {ds.max_guid_size}")
    if ds.sync_types:
        facts.append("SyncTypes " + " ".join(str(t) for t in ds.sync_types))
    if ds.dsmem is not None:
        mem = [("SharedMem", "") if ds.dsmem.shared_mem else None,
               ("MaxMem", str(ds.dsmem.max_mem)) if ds.dsmem.max_mem is not None else None,
               ("MaxID", str(ds.dsmem.max_id)) if ds.dsmem.max_id is not None else None]
        facts.append("DSMem " + ", ".join(f"{k} {v}".strip() for k, v in filter(None, mem)))
    if ds.support_hierarchical_sync:
        facts.append("HierarchicalSync")
    if ds.filter_rx:
        facts.append("Filter-Rx " + ", ".join(str(c) for c in ds.filter_rx))
    if facts:
        out.append("  " + "; ".join(facts))
    seen: dict[tuple[str, str], ContentType] = {}
    for c in ds.receives + ds.transmits:
        seen.setdefault(c.key, c)
    for t, v in caps.types:
        seen.setdefault((t, v), ContentType(t, v or None))
    rows = []
    for (t, v), c in seen.items():
        props = caps.types.get((t, v))
        rows.append([c.ct_type.strip(), v, _direction(c, ds.rx_pref, ds.rx), _direction(c, ds.tx_pref, ds.tx),
                     "-" if props is None else str(len(props))])
    out += ["", *_table(["CONTENT TYPE", "VERSION", "RX", "TX", "PROPERTIES"], rows)]
    if not brief:
        for (t, v), props in caps.types.items():
            out += ["", f"  CTCap {t} {v}".rstrip() + f": {len(props)} properties"]
            out += _table(["PROPERTY", "MAXSIZE", "MAXOCCUR", "VALUES", "PARAMETERS"], _property_rows(props), "    ")
    return out


def render(devinf: DevInf, where: str = "", *, brief: bool = False) -> str:
    """The tables for one DevInf (``where``: where a message carried it)."""
    out = [f"DevInf {devinf.ver_dtd.strip()}" + (f" in {where}" if where else ""), ""]
    out += _device(devinf)
    out += ["", *_quirks(devinf)]
    used: set[str] = set()
    for ds in devinf.datastores:
        ctcaps = devinf.ctcaps_for(ds)
        used.update(norm_type(c.ct_type) for c in ctcaps)
        out += ["", *_datastore(ds, Capabilities.of(ds, ctcaps), brief)]
    for c in devinf.ctcaps:
        if norm_type(c.ct_type) not in used:
            props = {p.name.upper(): p for p in c.properties}
            out += ["", f"CTCap {c.ct_type.strip()} {norm_version(c.ver_ct)}".rstrip()
                    + f" (no datastore names this type): {len(props)} properties"]
            if not brief:
                out += _table(["PROPERTY", "MAXSIZE", "MAXOCCUR", "VALUES", "PARAMETERS"], _property_rows(props))
    return "\n".join(out)


def _run(args: argparse.Namespace) -> None:
    data = read_input(args.file)
    try:
        doc = _wbxml.decode(data) if looks_like_wbxml(data) else parse_xml(data)
        found = devinf_documents(doc)
        texts = []
        for where, nested in found:
            try:
                devinf = DevInf.from_document(nested)
            except DevInfError as exc:
                raise CommandError(f"{args.file}: {where + ': ' if where else ''}{exc}") from None
            texts.append(render(devinf, where, brief=args.brief))
    except SyncMLError as exc:
        raise CommandError(f"{args.file}: {exc}") from None
    if not found:
        raise CommandError(f"{args.file}: no DevInf in this {doc.language.family} document")
    print("\n\n".join(texts))


def register(sub: Any) -> None:
    """Add the ``devinf`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("devinf", help="show a device's DevInf as tables",
                       description="Show the device and each datastore's capabilities from a DevInf "
                                   "document or a SyncML message carrying DevInf (WBXML or XML).")
    p.add_argument("file", nargs="?", default="-", metavar="FILE", help="input file, - for stdin")
    p.add_argument("--brief", action="store_true", help="content types only, no property tables")
    p.set_defaults(func=_run)
