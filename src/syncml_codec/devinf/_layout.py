"""Lossless reading and writing: the layout record every DevInf class keeps.

Why this exists: the typed fields of a DevInf class say what a device
declared, not how it wrote it, and devices do not write what the DTD says.
SyncEvolution sends ``SupportNumberOfChanges`` before ``SupportLargeObjs``
and ``ValEnum`` before ``MaxOccur``; old phones write ``<SyncType>01``,
misplace ``SyncCap`` or add elements of their own.  ``to_element()`` of a
parsed object must still give back the tree it was read from, element for
element, so each class keeps a private :class:`Layout`.

How it works.  A class turns its fields into *canonical items*: ``(key,
element)`` pairs in DTD order, where ``key`` names the field.  While reading,
a :class:`Reader` notes which field took each child (``keys``); children no
field took are kept verbatim.  :meth:`Reader.finish` pairs each taken child
with the canonical item of the same key (the n-th child a field took with
the field's n-th item) and records

* ``order``: per original child, its field key or the child itself (kept
  verbatim, :class:`Raw`);
* ``overrides``: original children that differ from their canonical item
  (``01`` for ``1``, opaque bytes for a string): the original is written as
  long as the field still produces that same canonical item;
* ``omitted``: canonical items the original did not have (a ``VerDTD``
  implied by the document type): not written while they stay the same;
* ``attrs``: the element's attributes.

A layout is ``None`` when the element followed the canonical form exactly,
so objects built in code and well-behaved input carry nothing.  Replaying a
layout after a field changed still works: an item whose value changed loses
its override; an item that is new goes right after the last placed item
the DTD orders before it (its DTD neighbour, wherever the device put that);
an item that is gone is skipped.

Cost: ``finish`` compares each child with its canonical item once, which is
linear in the size of the subtree; over the nesting levels of a DevInf
(at most six) the whole read stays linear in practice.
"""

from __future__ import annotations

import re
from collections import deque
from typing import NamedTuple, cast

from ..codec.tree import Child, Element
from ..errors import DevInfError

__all__ = ["Item", "Layout", "Raw", "Reader", "build", "empty", "leaf"]

#: a field's element: (field key, element)
Item = tuple[str, Element]

_DIGITS = re.compile(r"\s*\+?[0-9]+\s*\Z")


class Raw(NamedTuple):
    """A child no field took, kept verbatim."""

    child: Child


class Layout(NamedTuple):
    """How an element differed from the canonical form of its fields."""

    order: tuple[str | Raw, ...]
    overrides: tuple[tuple[int, Element, Element], ...]  # (index in order, canonical, original)
    omitted: tuple[Element, ...]
    attrs: tuple[tuple[str, str], ...] | None


def leaf(tag: str, value: str) -> Element:
    """A canonical leaf element holding ``value``."""
    return Element(tag, [value] if value else [])


def empty(tag: str) -> Element:
    """A canonical empty element (a flag such as ``<UTC/>``)."""
    return Element(tag, [])


class Reader:
    """Takes the children of one element for the fields of a class and
    records what it took (see the module docstring)."""

    __slots__ = ("by_tag", "element", "keys", "path")

    def __init__(self, element: Element, path: str) -> None:
        self.element = element
        self.path = path
        self.keys: list[str | None] = [None] * len(element.children)
        self.by_tag: dict[str, list[int]] = {}
        for i, child in enumerate(element.children):
            if isinstance(child, Element):
                self.by_tag.setdefault(child.tag, []).append(i)

    def _take(self, key: str, tags: tuple[str, ...], limit: int) -> list[Element]:
        indexes = self.by_tag.get(tags[0], []) if len(tags) == 1 else sorted(
            i for tag in tags for i in self.by_tag.get(tag, ()))
        found: list[Element] = []
        children = self.element.children
        for i in indexes:
            if self.keys[i] is None:
                self.keys[i] = key
                found.append(cast(Element, children[i]))
                if len(found) == limit:
                    break
        return found

    def one(self, key: str, *tags: str) -> Element | None:
        """The first child named one of ``tags`` (later ones stay verbatim)."""
        found = self._take(key, tags, 1)
        return found[0] if found else None

    def many(self, key: str, *tags: str) -> list[Element]:
        """Every child named one of ``tags``, in document order."""
        return self._take(key, tags, -1)

    def text(self, key: str, *tags: str) -> str | None:
        el = self.one(key, *tags)
        return None if el is None else el.text

    def required(self, key: str, tag: str) -> str:
        el = self.one(key, tag)
        if el is None:
            raise DevInfError(self.path, f"{tag} missing")
        return el.text

    def texts(self, key: str, tag: str) -> tuple[str, ...]:
        return tuple(el.text for el in self.many(key, tag))

    def flag(self, key: str, tag: str) -> bool:
        return self.one(key, tag) is not None

    def _int(self, el: Element) -> int:
        text = el.text
        if not _DIGITS.match(text):
            raise DevInfError(f"{self.path}/{el.tag}", f"not a number: {text!r}")
        return int(text)

    def integer(self, key: str, *tags: str) -> int | None:
        el = self.one(key, *tags)
        return None if el is None else self._int(el)

    def integers(self, key: str, tag: str) -> tuple[int, ...]:
        return tuple(self._int(el) for el in self.many(key, tag))

    def finish(self, items: list[Item]) -> Layout | None:
        """The layout of the element read, given the canonical items of the
        object made from it (None when they are the element's children)."""
        children = self.element.children
        attrs = self.element.attrs
        if (not attrs and len(items) == len(children) and None not in self.keys
                and all(el == child for (_, el), child in zip(items, children, strict=True))):
            return None
        queues: dict[str, deque[Element]] = {}
        for key, el in items:
            queues.setdefault(key, deque()).append(el)
        order: list[str | Raw] = []
        overrides: list[tuple[int, Element, Element]] = []
        for child, taken in zip(children, self.keys, strict=True):
            queue = queues.get(taken) if taken is not None else None
            if taken is None or not queue or not isinstance(child, Element):
                order.append(Raw(child))
                continue
            canonical = queue.popleft()
            if canonical != child:
                overrides.append((len(order), canonical, child))
            order.append(taken)
        omitted = tuple(el for queue in queues.values() for el in queue)
        return Layout(tuple(order), tuple(overrides), omitted,
                      tuple(attrs.items()) if attrs else None)


def arrange(items: list[Item], layout: Layout | None) -> list[Child]:
    """The children to write: the canonical items replayed over ``layout``."""
    if layout is None:
        return [el for _, el in items]
    queues: dict[str, deque[tuple[int, Element]]] = {}
    for rank, (key, el) in enumerate(items):
        queues.setdefault(key, deque()).append((rank, el))
    overrides = {index: (canonical, original) for index, canonical, original in layout.overrides}
    placed: list[tuple[int, Child]] = []  # (DTD rank, child); rank -1: kept verbatim
    for index, entry in enumerate(layout.order):
        if isinstance(entry, Raw):
            placed.append((-1, entry.child))
            continue
        queue = queues.get(entry)
        if not queue:
            continue  # the field no longer has this many values
        rank, el = queue.popleft()
        override = overrides.get(index)
        placed.append((rank, override[1] if override is not None and override[0] == el else el))
    omitted = list(layout.omitted)
    for rank, el in sorted(item for queue in queues.values() for item in queue):
        if el in omitted:
            omitted.remove(el)
            continue
        # after the last placed item the DTD puts before it, wherever that is
        before = [i for i, (r, _) in enumerate(placed) if 0 <= r < rank]
        at = before[-1] + 1 if before else next((i for i, (r, _) in enumerate(placed) if r >= 0), len(placed))
        placed.insert(at, (rank, el))
    return [child for _, child in placed]


def build(tag: str, items: list[Item], layout: Layout | None) -> Element:
    """The element ``tag`` with the canonical ``items`` laid out as read."""
    attrs = dict(layout.attrs) if layout is not None and layout.attrs else None
    return Element(tag, arrange(items, layout), attrs)
