"""Issue 11: the model's fast path lives in the model (``model._fast``),
is handed the model's description (``model._schema.SCHEMA``), makes model
objects through one helper, and gives way to the reference path for any
class whose description it does not know."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from syncml_codec.codec.tree import Element
from syncml_codec.model import Message
from syncml_codec.model import message as message_module
from syncml_codec.model._node import REGISTRY, Layout, Node, OpaqueStr, Spec, model, text
from syncml_codec.model._schema import SCHEMA, ModelSchema

from ..codec.wbxmlbuild import END, OPAQUE, SYNCBODY, mb, syncml
from ..conftest import model_fast
from .test_fast_model import reference_decode, shape

SRC = Path(__file__).resolve().parents[2] / "src" / "syncml_codec"
ALERT, CMDID_T, DATA_T = 0x46, 0x4B, 0x4F


@pytest.fixture(scope="module")
def ext():
    """The fast path (model._fast)."""
    return model_fast()


def sample(cls: type[Node]) -> dict[str, Any]:
    """Field values for ``cls`` (not meaningful, only distinct)."""
    values: dict[str, Any] = {}
    desc = SCHEMA.describe(cls)
    assert desc is not None
    for f in desc.fields:
        values[f.name] = {"one": f"{f.name}-1", "opt": None, "many": (), "some": (f"{f.name}-s",)}[f.card]
    return values


def test_every_model_class_is_described_and_fast():
    """Every registered class may take the fast path; anything that keeps
    one from it must be deliberate (the description says why)."""
    for tag, cls in REGISTRY.items():
        desc = SCHEMA.describe(cls)
        assert desc is not None and desc.tag == tag
        assert [f.name for f in desc.fields] == [s.attr for s in cls._spec]
        assert desc.by_tag == cls._by_tag
        options = [(name, getattr(spec, name)) for spec in cls._spec for name in type(spec)._fields[4:]
                   if getattr(spec, name) != type(spec)._field_defaults.get(name)]
        if options:  # a field option the fast path does not know: the reference path, and why
            assert not desc.fast_read and not desc.fast_write and desc.why, (tag, options)
        else:
            assert desc.fast_read and desc.fast_write, (tag, desc.why)
    assert SCHEMA.describe(int) is None and SCHEMA.describe("Alert") is None


def test_frozen_makes_what_init_makes(ext):
    for cls in REGISTRY.values():
        desc = SCHEMA.describe(cls)
        values = sample(cls)
        slots = [f.slot for f in desc.fields] + [desc.layout_slot]
        made = ext.frozen(cls, slots, [*values.values(), None])
        assert type(made) is cls and made == cls(**values)
        with pytest.raises(dataclasses.FrozenInstanceError):
            made._layout = None  # still frozen
    el = ext.frozen(Element, [Element.tag, Element.children, Element.attrs], ["Final", [], None])
    assert el == Element("Final")


def test_frozen_refuses_what_it_cannot_make(ext):
    desc = SCHEMA.describe(Message)
    slots = [f.slot for f in desc.fields] + [desc.layout_slot]
    with pytest.raises(ValueError):
        ext.frozen(Message, slots, [None])  # a value per slot
    with pytest.raises(ValueError):
        ext.frozen(Message, [Element.tag, *slots[1:]], [None] * len(slots))  # another class's slot

    class Plain:
        def __init__(self) -> None:
            self.x = 1

    with pytest.raises(ValueError):
        ext.frozen(Plain, [], [])  # no slots: not a class it may make
    with pytest.raises(ValueError):
        ext.frozen(Message, ["header", "body", "_layout"], [None, None, None])  # names are not slots


class SpecWithOption(NamedTuple):
    """``Spec`` as a later framework may have it: an option appended."""

    attr: str
    tags: tuple[str, ...]
    kind: int
    card: int
    override: str | None = None


def test_unknown_field_options_take_the_reference_path(ext):
    @model("X-Test-Option")
    class WithOption(Node):
        name: str | None = text("LocURI")
        _layout: Layout | None = None

    try:
        assert SCHEMA.describe(WithOption).fast_read
        WithOption._spec = (SpecWithOption(*WithOption._spec[0][:4], override="x"),)
        SCHEMA.describe(Node)  # (any call after a registry change sees fresh descriptions)
        REGISTRY["X-Test-Option-2"] = WithOption  # the registry grew: descriptions are made again
        desc = SCHEMA.describe(WithOption)
        assert not desc.fast_read and not desc.fast_write and "override" in desc.why
        node = WithOption(name="n")
        # the fast path writes it through the model's own converter, and reads none of it
        from syncml_codec.codec.codepages import SYNCML12
        from syncml_codec.codec.tree import Document
        from syncml_codec.codec.wbxml import encode
        assert ext.write(node, SYNCML12, SCHEMA, {"string_table": True}) == encode(
            Document(SYNCML12, node.to_element()), string_table=True)
        assert ext.read(syncml(bytes([SYNCBODY, 0x12, END])), WithOption, SCHEMA) is None
        # an option at its default is no reason to leave the fast path
        WithOption._spec = (SpecWithOption(*WithOption._spec[0][:4]),)
        del REGISTRY["X-Test-Option-2"]
        assert SCHEMA.describe(WithOption).fast_read
    finally:
        REGISTRY.pop("X-Test-Option", None)
        REGISTRY.pop("X-Test-Option-2", None)
    assert isinstance(Spec._fields, tuple)


class RecordingSchema(ModelSchema):
    def __init__(self) -> None:
        super().__init__(REGISTRY)
        self.texts: list[tuple[str, list[Any]]] = []

    def read_text(self, field: Any, children: list[Any], lenient: bool) -> Any:
        self.texts.append((field.name, list(children)))
        return super().read_text(field, children, lenient)


def test_text_that_is_not_plain_goes_through_the_model(ext):
    """Opaque text that is not XML-safe and empty text: the model's own
    rule, called through the schema the caller hands in."""
    body = (bytes([SYNCBODY, ALERT, CMDID_T, OPAQUE]) + mb(2) + b"\x017" + bytes([END, DATA_T & 0xBF])
            + bytes([END, END]))
    data = syncml(body)
    schema = RecordingSchema()
    msg = ext.read(data, Message, schema, lenient=True)
    assert shape(msg) == shape(reference_decode(data, lenient=True))
    assert type(msg.commands[0].cmd_id) is OpaqueStr and msg.commands[0].data == ""
    assert schema.texts == [("cmd_id", [b"\x017"]), ("data", [])]
    # and the write side: an OpaqueStr goes out as opaque data, as the model writes it
    out = ext.write(msg, msg.language(), schema)
    assert out == msg.to_bytes() and bytes([OPAQUE]) + mb(2) + b"\x017" in out


def test_the_codec_has_no_model_code():
    from syncml_codec.codec import wbxml

    for name in ("decode_model", "encode_model", "_fast_paths"):
        assert not hasattr(wbxml, name)
        if wbxml.IMPLEMENTATION == "cython":
            assert not hasattr(wbxml.implementation, name)
    for path in [*SRC.joinpath("codec").glob("*.py*"), SRC / "model" / "_fast.pyx"]:
        source = path.read_text()
        assert "sys.modules" not in source, path
        assert "syncml_codec.model" not in source.replace("syncml_codec.model._fast", ""), path
    assert not SRC.joinpath("codec", "_wbxml_model.pxi").exists()


def test_message_takes_the_models_own_extension():
    fast = message_module.FAST
    if fast is not None:
        assert fast.__name__ == "syncml_codec.model._fast"


def test_the_stub_matches_the_extension(ext):
    """model/_fast.pyi declares what the extension defines, with the same
    parameters."""
    import ast
    import inspect

    stub = ast.parse(SRC.joinpath("model", "_fast.pyi").read_text())
    declared = {n.name: n for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert set(declared) == set(ext.__all__)
    for name, node in declared.items():
        if isinstance(node, ast.FunctionDef):
            params = [a.arg for a in node.args.args + node.args.kwonlyargs]
            assert list(inspect.signature(getattr(ext, name)).parameters) == params, name
