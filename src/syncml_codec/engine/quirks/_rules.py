"""The quirk rules as data, and :func:`quirks_for`, which finds the
behaviours in force for a device.

A rule matches a device by its DevInf (``Man``, ``Mod``, ``SwV``, ``FwV``,
``HwV``: regular expressions, case-insensitive, searched from the start of
the value, every given field must match) or, when no DevInf came, by the
prefix of its device id (sync4j/Funambol clients send none).  Each rule
names the behaviours it switches on and where the fact comes from, and may
say what the device can hold of a content type (``capabilities``: the
properties a CTCap would list, ``NAME:N`` with a MaxOccur; used when the
device declares no CTCap for that type, issue 15).  The
behaviours themselves are applied by :class:`~.Quirks`, each in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["BEHAVIOURS", "RULES", "Rule"]

#: every behaviour a rule can switch on, with what it does
BEHAVIOURS: dict[str, str] = {
    "omit-item-statuses": "no Status for each successful Add/Replace/Delete of the device's Sync "
                          "(failures are still answered)",
    "all-day-as-midnight-span": "all-day events as DTSTART T000000 - DTEND T240000 <-> date values",
    "tasks-in-calendar": "the device's calendar datastore carries events and tasks: VTODOs go to Tasks "
                         "and come back in the calendar",
    "latin1-payload": "item text without CHARSET is ISO-8859-1, in and out",
    "alarms-absolute-utc": "alarms sent as absolute times in UTC",
    "categories-x-prefix": "CATEGORIES values carry an 'X-' prefix (stripped in, added out)",
    "email-type-internet": "vCard EMAIL sent with TYPE=INTERNET",
    "sif-b64": "SIF items sent base64-encoded (Format b64, never CDATA); SIF by default without DevInf",
    "priority-1-2-3": "task PRIORITY as 1 (high) / 2 (medium) / 3 (low) <-> iCalendar 1 / 5 / 9",
    "ignore-ctcap": "the device's CTCap is not what it holds: a Replace from it is taken whole "
                    "(nothing kept from the stored item, issue 15)",
}

_FIELDS = ("man", "mod", "swv", "fwv", "hwv")
_LABELS = {"man": "Man", "mod": "Mod", "swv": "SwV", "fwv": "FwV", "hwv": "HwV"}


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: a device pattern, the behaviours it switches on, its source."""

    name: str
    behaviours: tuple[str, ...]
    source: str
    man: str | None = None
    mod: str | None = None
    swv: str | None = None
    fwv: str | None = None
    hwv: str | None = None
    device_id_prefixes: tuple[str, ...] = ()
    #: (content type, property names) rows: what the device holds when it declares no CTCap (issue 15)
    capabilities: tuple[tuple[str, tuple[str, ...]], ...] = ()
    _compiled: dict[str, re.Pattern[str]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.behaviours and not self.capabilities:
            raise ValueError(f"rule {self.name}: no behaviours and no capabilities")
        unknown = set(self.behaviours) - BEHAVIOURS.keys()
        if unknown:
            raise ValueError(f"rule {self.name}: unknown behaviours {sorted(unknown)}")
        for name in _FIELDS:
            pattern = getattr(self, name)
            if pattern is not None:
                self._compiled[name] = re.compile(pattern, re.I)

    @property
    def trigger(self) -> str:
        """The device pattern in words (for ``syncml devinf`` and reports)."""
        parts = [f"{_LABELS[name]} ~ /{getattr(self, name)}/" for name in _FIELDS if getattr(self, name) is not None]
        text = " and ".join(parts)
        if self.device_id_prefixes:
            ids = "device id " + " ".join(p + "*" for p in self.device_id_prefixes)
            text = f"{text}; without DevInf: {ids}" if text else ids
        return text

    def matches(self, values: dict[str, str] | None, device_id: str) -> bool:
        """Whether the rule applies: DevInf ``values`` by field, or (no DevInf) the device id."""
        if values is None:
            return any(device_id.lower().startswith(p) for p in self.device_id_prefixes)
        if not self._compiled:
            return False
        return all(pattern.match(values.get(name, "")) for name, pattern in self._compiled.items())


_SE = r"sony ?ericsson|ericsson"
_SYNC4J_IDS = ("sc-pim-", "fol-", "fwm-", "fbb-", "fmz-")

#: the rules, most specific last (a later rule may add behaviours, never remove them)
RULES: tuple[Rule, ...] = (
    Rule("sony-ericsson", ("latin1-payload", "alarms-absolute-utc"), man=_SE,
         source="pohly/syncevolution src/syncevo/configs/remoterules/server/00_sony_ericsson.xml "
                "(BMC #14414 ISO-8859-1; BMC #10091, #11233 T700 absolute alarms); anchors-features.md §4 #20"),
    Rule("sony-ericsson-p800-p900", ("omit-item-statuses", "all-day-as-midnight-span", "tasks-in-calendar",
                                     "categories-x-prefix"),
         man=_SE, mod=r"p ?(800|900|910)",
         source="horde/SyncMl lib/Horde/SyncMl/Device/P800.php (omitIndividualSyncStatus, all-day "
                "T000000Z-T240000Z, handleTasksInCalendar, CATEGORIES:X-); anchors-features.md §4 #17, #18"),
    Rule("nokia", ("alarms-absolute-utc", "email-type-internet", "tasks-in-calendar"), man=r"nokia",
         source="pohly/syncevolution src/syncevo/configs/remoterules/server/00_nokia.xml (alarmTimeToUTC, "
                "BMC #1657; addInternetEmail, FDO #61784); horde/SyncMl lib/Horde/SyncMl/Device/Nokia.php "
                "(handleTasksInCalendar); anchors-features.md §4 #17, #21"),
    Rule("nokia-e-series", ("categories-x-prefix",), man=r"nokia", mod=r"(nokia ?)?e\d",
         source="horde/SyncMl lib/Horde/SyncMl/Device/Nokia.php (Horde bugs #6849, #7824); "
                "anchors-features.md §4 #16"),
    Rule("motorola-a1000", ("tasks-in-calendar",), man=r"motorola", mod=r"(motorola ?)?a1000",
         source="horde/SyncMl State.php (tasks in the calendar database: P800/P900/P910, Motorola A1000); "
                "anchors-features.md §4 #17"),
    Rule("synthesis-windows-mobile", ("priority-1-2-3",), man=r"synthesis", mod=r"(?!.*palm)",
         source="horde/SyncMl lib/Horde/SyncMl/Device/Synthesis.php (priorities 1/2/3 on Windows Mobile, "
                "not Palm); anchors-features.md §4 #28"),
    Rule("nexthaus-syncje-outlook", ("ignore-ctcap",), mod=r"syncje outlook",
         source="pohly/syncevolution src/syncevo/configs/remoterules/server/45_SyncJe_Outlook.xml (ignorectcap: "
                "syncs contact photos, missing in its CTCap); anchors-features.md §4 #24"),
    Rule("sync4j-funambol", ("sif-b64",), man=r"funambol|sync4j", device_id_prefixes=_SYNC4J_IDS,
         source="horde/SyncMl lib/Horde/SyncMl/Device/Sync4j.php (SIF sent b64) and State.php getDevice() "
                "(device-id prefixes); Horde bug #10692 (no CDATA); anchors-features.md §4 #7, #29"),
)
