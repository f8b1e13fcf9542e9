"""Issue 11: one lossless-model framework for SyncML and DevInf.

The DevInf needs (tolerant reading, other forms of a class, wrapped and
grouped fields, implied defaults) are declarations the one framework reads;
a class declared here with them, outside DevInf, behaves as DevInf does."""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Iterator

import pytest

from syncml_codec.codec.tree import Element
from syncml_codec.devinf import ContentType, CTCap, DataStore, DevInf, DSMem, Ext, FilterCap, Property, PropParam
from syncml_codec.errors import DevInfError
from syncml_codec.model import Group, Layout, Node, Problem, flag, form, group, integer, layout, model, node, text
from syncml_codec.model._lossless import FORMS, REGISTRY


def test_devinf_has_no_second_framework():
    assert importlib.util.find_spec("syncml_codec.devinf._layout") is None
    for cls in (DevInf, DataStore, ContentType, DSMem, FilterCap, CTCap, Property, PropParam, Ext):
        assert issubclass(cls, Node) and cls._spec, cls
        # reading and writing are the framework's: no class hand-writes them
        assert "_read_element" not in cls.__dict__ and "_items" not in cls.__dict__
        assert all(s.tolerant for s in cls._spec)


# a group: one <Pairs> element holds a value per two characters; a value
# ending in "+" shares its element with the next (as flat CTCaps share theirs)
def _read_pairs(element: Element, lenient: bool) -> tuple[str, ...]:
    value = element.text
    if len(value) % 2:
        raise Problem(f"odd length: {value!r}")
    pairs = [value[i:i + 2] for i in range(0, len(value), 2)]
    return tuple(p + "+" for p in pairs[:-1]) + tuple(pairs[-1:])


def _write_pairs(values: tuple[str, ...]) -> list[Element]:
    out, pending = [], ""
    for value in values:
        pending += value.rstrip("+")
        if not value.endswith("+"):
            out.append(Element("Pairs", [pending]))
            pending = ""
    return out + ([Element("Pairs", [pending])] if pending else [])


@pytest.fixture
def classes() -> Iterator[tuple[type, type]]:
    @model("X-Leaf", tolerant=True, kw_only=False, error=DevInfError,
           forms=(form("(X-Leaf)", ("size", "name"), size=("Size", "MaxSize")),))
    class Leaf(Node):
        name: str = text("Name", required=True)
        size: int | None = integer("MaxSize", "Size")
        _layout: Layout | None = layout()

    @model("X-Box", tolerant=True, error=DevInfError)
    class Box(Node):
        version: str = text("Version", default="9")
        leaves: tuple[Leaf, ...] = node("X-Leaf", many=True)
        flat: tuple[Leaf, ...] = node("(X-Leaf)", many=True)
        ok: bool = flag("OK")
        numbers: tuple[int, ...] = integer("N", many=True, within="Numbers")
        pairs: tuple[str, ...] = group("Pairs", Group(_read_pairs, _write_pairs))
        _layout: Layout | None = layout()

    try:
        yield Leaf, Box
    finally:
        for tag in ("X-Leaf", "X-Box"):
            del REGISTRY[tag]
        del FORMS["(X-Leaf)"]


def test_a_tolerant_class_gives_back_what_it_read(classes):
    leaf, box = classes
    tree = Element("X-Box", [
        Element("OK", ["yes"]),                                    # a flag with content: kept
        Element("X-Leaf", [Element("Size", ["007"]), Element("Name", ["a"], {"lang": "en"})]),
        Element("(X-Leaf)", [Element("Size", ["1"]), Element("Name", ["b"])]),
        Element("Numbers", [Element("N", ["01"]), "odd", Element("N", ["2"])]),
        Element("Pairs", ["abcd"]), Element("Pairs", ["ef"]),
        Element("OK"),                                             # repeated: kept as it is
    ])
    read = box.from_element(tree)
    assert read.version == "9" and read.ok
    assert read.leaves == (leaf("a", 7),) and read.flat == (leaf("b", 1),)
    assert read.numbers == (1, 2) and read.pairs == ("ab+", "cd", "ef")
    assert read.to_element() == tree
    # a new value goes after its DTD neighbour; a changed one loses its spelling; the implied default stays out
    changed = dataclasses.replace(read, numbers=(1, 3), leaves=(*read.leaves, leaf("c")))
    out = changed.to_element()
    assert [el.tag for el in out.elements()] == ["OK", "X-Leaf", "X-Leaf", "(X-Leaf)", "Numbers", "Pairs", "Pairs",
                                                 "OK"]
    numbers = out.find("Numbers")
    assert numbers is not None and numbers.children == [Element("N", ["01"]), "odd", Element("N", ["3"])]
    assert dataclasses.replace(read, version="10").to_element().children[0] == Element("Version", ["10"])


def test_forms_write_their_own_order_and_tags(classes):
    leaf, box = classes
    made = box(leaves=(leaf("a", 5),), flat=(leaf("b", 6),), numbers=(4,), pairs=("xy",))
    assert made.to_element() == Element("X-Box", [
        Element("Version", ["9"]),
        Element("X-Leaf", [Element("Name", ["a"]), Element("MaxSize", ["5"])]),
        Element("(X-Leaf)", [Element("Size", ["6"]), Element("Name", ["b"])]),
        Element("Numbers", [Element("N", ["4"])]), Element("Pairs", ["xy"])])
    assert box.from_element(made.to_element()) == made


@pytest.mark.parametrize("children, message", [
    ([Element("X-Leaf", [Element("Size", ["1"])])], "X-Box/X-Leaf[1]: Name missing"),
    ([Element("Numbers", [Element("N", ["1"]), Element("N", ["x"])])], "X-Box/Numbers/N[2]: not a number: 'x'"),
    ([Element("Pairs", ["ab"]), Element("Pairs", ["abc"])], "X-Box/Pairs[2]: odd length: 'abc'"),
    ([Element("(X-Leaf)", [Element("Name", ["n"]), Element("Size", ["-"])])], "X-Box/Name[1]/Size: not a number: '-'"),
])
def test_errors_name_the_element(classes, children, message):
    _, box = classes
    with pytest.raises(DevInfError) as info:
        box.from_element(Element("X-Box", children))
    assert str(info.value) == message
