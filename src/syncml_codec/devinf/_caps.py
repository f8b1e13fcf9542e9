"""A normalized view of one datastore's capabilities, and the questions
servers ask of it.

``(content type, version) -> property name -> Property`` (which holds the
parameters, values and sizes), built from the datastore's CTCaps whatever
style they came in: types compare case-insensitively and without blanks,
property names case-insensitively, and a flat CTCap without ``VerCT`` gets
the version the datastore lists for its type (or none, and then answers for
any version).  Several CTCaps for one type and version are merged, the
first one winning for a property both name.

When a datastore declares no CTCap for a type it handles, nothing is
restricted: every property is taken to be supported (the spec's reading
of a missing CTCap).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ._convert import infer_version
from ._ctcap import CTCap, Property, names_match
from ._datastore import ContentType, DataStore, norm_type, norm_version

__all__ = ["Capabilities"]

#: property name (upper case) -> the property
Properties = dict[str, Property]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one datastore receives and sends, and its CTCaps by type.

    >>> from syncml_codec.devinf import CTCap, ContentType, DataStore, Property
    >>> ds = DataStore("./contacts", rx_pref=(ContentType("text/vcard", "3.0"),),
    ...                ctcaps=(CTCap("text/vcard", "3.0", properties=(Property("N"),)),))
    >>> caps = Capabilities.of(ds)
    >>> caps.supports("TEXT/VCARD", "3.0", "n"), caps.supports("text/vcard", "3.0", "PHOTO")
    (True, False)
    """

    receives: tuple[ContentType, ...]
    transmits: tuple[ContentType, ...]
    types: dict[tuple[str, str], Properties]

    @classmethod
    def of(cls, datastore: DataStore, ctcaps: Iterable[CTCap] | None = None) -> Capabilities:
        """The view of ``datastore`` with ``ctcaps`` (default: its own; pass
        ``devinf.ctcaps_for(datastore)`` for a 1.0/1.1 device)."""
        types: dict[tuple[str, str], Properties] = {}
        for ctcap in datastore.ctcaps if ctcaps is None else ctcaps:
            version = norm_version(ctcap.ver_ct) or norm_version(infer_version(ctcap.ct_type, datastore))
            props = types.setdefault((norm_type(ctcap.ct_type), version), {})
            for prop in ctcap.properties:
                props.setdefault(prop.name.strip().upper(), prop)
        return cls(datastore.receives, datastore.transmits, types)

    # -- content types ----------------------------------------------------
    @property
    def preferred_rx(self) -> ContentType | None:
        """The content type the datastore prefers to receive."""
        return self.receives[0] if self.receives else None

    @property
    def preferred_tx(self) -> ContentType | None:
        """The content type the datastore prefers to send."""
        return self.transmits[0] if self.transmits else None

    def handles(self, ct_type: str, version: str | None = None) -> bool:
        """True when the datastore receives or sends the type (and version)."""
        wanted = ContentType(ct_type, version)
        return any(c.matches(wanted) for c in self.receives + self.transmits)

    def properties(self, ct_type: str, version: str | None = None) -> Properties | None:
        """The properties of the CTCap for ``ct_type`` and ``version``
        (any version when None), or None when there is no such CTCap."""
        t, v = norm_type(ct_type), norm_version(version)
        if v and (t, v) in self.types:
            return self.types[(t, v)]
        if (t, "") in self.types:
            return self.types[(t, "")]
        if not v:
            return next((props for (tt, _), props in self.types.items() if tt == t), None)
        return None

    # -- properties -------------------------------------------------------
    def property(self, ct_type: str, version: str | None, name: str) -> Property | None:
        """The declared property (a wildcard such as ``X-*`` answers for the
        names it covers), or None."""
        props = self.properties(ct_type, version)
        if props is None:
            return None
        exact = props.get(name.strip().upper())
        if exact is not None:
            return exact
        return next((p for p in props.values() if p.name.endswith("*") and names_match(p.name, name)), None)

    def supports(self, ct_type: str, version: str | None, prop: str,
                 param: str | None = None, value: str | None = None) -> bool:
        """Whether the datastore takes property ``prop`` of the type (with
        parameter ``param``; with ``value`` for the parameter, or for the
        property when no parameter is given).  A type without a CTCap
        restricts nothing (True if the datastore handles the type)."""
        props = self.properties(ct_type, version)
        if props is None:
            return self.handles(ct_type, version)
        found = self.property(ct_type, version, prop)
        if found is None:
            return False
        if param is None:
            return value is None or found.accepts(value)
        declared = found.param(param)
        if declared is None:
            return False
        return value is None or declared.accepts(value)

    def max_size(self, ct_type: str, version: str | None, prop: str) -> int | None:
        """The property's ``MaxSize`` (``Size`` in 1.0/1.1), None if not declared."""
        found = self.property(ct_type, version, prop)
        return None if found is None else found.max_size

    def values(self, ct_type: str, version: str | None, prop: str,
               param: str | None = None) -> tuple[str, ...]:
        """The ``ValEnum`` list of a property or one of its parameters
        (empty: any value, or not declared)."""
        found = self.property(ct_type, version, prop)
        if found is None:
            return ()
        if param is None:
            return found.values
        declared = found.param(param)
        return () if declared is None else declared.values
