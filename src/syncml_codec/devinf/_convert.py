"""Between the flat (1.0/1.1) and nested (1.2) CTCap styles, and between
DevInf versions.

1.0/1.1 keep CTCaps at the DevInf level, without ``VerCT``; 1.2 keeps them
in each DataStore, with ``VerCT``.  Going to 1.2, a flat CTCap goes to every
datastore that receives or sends its type, with the version that datastore
lists for the type (``VerCT`` left empty when it lists none or several); a
CTCap no datastore names goes to every datastore.  Going to 1.0/1.1, the
datastores' CTCaps are collected (equal ones once) and lose their
``VerCT``.  What the target style has no element for is left out, so a
converted DevInf reads back from its bytes as it was made: flat drops
``MaxOccur``, ``NoTruncate`` and ``FieldLevel``, nested drops the ``Size``
of a parameter, and 1.0/1.1 drop the 1.2-only ``SupportHierarchicalSync``,
``Filter-Rx`` and ``FilterCap``.  Properties, parameters, values, data
types, display names and property sizes go both ways.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ._ctcap import CTCap
from ._datastore import DataStore, norm_type, norm_version

if TYPE_CHECKING:
    from ._devinf import DevInf

__all__ = ["convert_devinf", "infer_version", "to_flat", "to_nested"]

_VERSIONS = ("1.0", "1.1", "1.2")


def infer_version(ct_type: str, datastore: DataStore) -> str | None:
    """The version ``datastore`` lists for ``ct_type`` in its Rx/Tx, or None
    when it lists none or more than one."""
    wanted = norm_type(ct_type)
    versions = {norm_version(c.ver_ct) for c in datastore.receives + datastore.transmits
                if norm_type(c.ct_type) == wanted} - {""}
    return versions.pop() if len(versions) == 1 else None


def to_nested(ctcap: CTCap, ver_ct: str | None = None) -> CTCap:
    """``ctcap`` for a 1.2 DataStore: ``VerCT`` set (``ver_ct``, else what
    it had, else empty), parameter sizes dropped."""
    version = ver_ct if ver_ct is not None else ctcap.ver_ct if ctcap.ver_ct is not None else ""
    properties = tuple(
        replace(p, params=tuple(replace(q, max_size=None) for q in p.params))
        if any(q.max_size is not None for q in p.params) else p
        for p in ctcap.properties)
    return replace(ctcap, ver_ct=version, properties=properties, _style=None)


def to_flat(ctcap: CTCap) -> CTCap:
    """``ctcap`` for a 1.0/1.1 DevInf: no ``VerCT``, ``FieldLevel``,
    ``MaxOccur`` or ``NoTruncate``."""
    properties = tuple(replace(p, max_occur=None, no_truncate=False)
                       if p.max_occur is not None or p.no_truncate else p
                       for p in ctcap.properties)
    return replace(ctcap, ver_ct=None, field_level=False, properties=properties, _style=None)


def _uses(datastore: DataStore, ctcap: CTCap) -> bool:
    wanted = norm_type(ctcap.ct_type)
    return any(norm_type(c.ct_type) == wanted for c in datastore.receives + datastore.transmits)


def convert_devinf(devinf: DevInf, version: str) -> DevInf:
    """``devinf`` as a DevInf ``version`` document says it (see the module
    docstring); the same object when nothing changes."""
    if version not in _VERSIONS:
        raise ValueError(f"DevInf version must be one of {', '.join(_VERSIONS)}, not {version!r}")
    if version == "1.2":
        if devinf.version == "1.2" and not devinf.ctcaps:
            return devinf
        orphans = [c for c in devinf.ctcaps if not any(_uses(ds, c) for ds in devinf.datastores)]
        datastores = tuple(
            replace(ds, ctcaps=tuple(to_nested(c) for c in ds.ctcaps) + tuple(
                to_nested(c, infer_version(c.ct_type, ds) if c.ver_ct is None else None)
                for c in devinf.ctcaps if _uses(ds, c) or c in orphans))
            for ds in devinf.datastores)
        return replace(devinf, ver_dtd="1.2", datastores=datastores, ctcaps=())
    if devinf.version == version and not any(ds.ctcaps for ds in devinf.datastores):
        return devinf
    flat: list[CTCap] = []
    for ctcap in devinf.ctcaps + tuple(c for ds in devinf.datastores for c in ds.ctcaps):
        converted = to_flat(ctcap)
        if converted not in flat:
            flat.append(converted)
    datastores = tuple(replace(ds, ctcaps=(), support_hierarchical_sync=False, filter_rx=(), filter_caps=())
                       for ds in devinf.datastores)
    return replace(devinf, ver_dtd=version, datastores=datastores, ctcaps=tuple(flat),
                   support_hierarchical_sync=False)
