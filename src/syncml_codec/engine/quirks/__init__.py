"""The device-quirk database: rules as data (:data:`RULES`, keyed on a
device's DevInf Man/Mod/SwV/FwV/HwV, or its device-id prefix when it sent
no DevInf), each switching on named behaviours (:data:`BEHAVIOURS`) with
its source, and :func:`quirks_for`, the frozen :class:`Quirks` in force for
a device, which the engine asks at one place per behaviour.

No I/O: the rules are Python data, the transforms pure functions on item
bytes."""

from ._quirks import NO_QUIRKS, Quirks, quirks_for
from ._rules import BEHAVIOURS, RULES, Rule

__all__ = ["BEHAVIOURS", "NO_QUIRKS", "RULES", "Quirks", "Rule", "quirks_for"]
