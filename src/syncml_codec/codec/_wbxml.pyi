# The one surface both WBXML implementations provide: the Cython extension
# (syncml_codec.codec._wbxml) and its pure-Python twin (_wbxml_py).
# tests/codec/test_surface.py checks both against this file.
from collections.abc import Callable, Iterable
from typing import Any, Literal

from .tree import Document

_Buffer = bytes | bytearray | memoryview

IMPLEMENTATION: Literal["cython", "python"]

def decode(data: _Buffer, *, strict: bool = False, max_depth: int = 256) -> Document: ...
def wbxml_to_xml(data: _Buffer, *, pretty: bool = False, strict: bool = False, max_depth: int = 256) -> bytes: ...
def encode(
    doc: Document,
    *,
    wbxml_version: str = "1.3",
    string_table: bool = False,
    public_id: str = "numeric",
    charset: str | int = "utf-8",
) -> bytes: ...
def xml_to_wbxml(
    data: _Buffer,
    *,
    string_table: bool = False,
    wbxml_version: str = "1.3",
    public_id: str = "numeric",
    charset: str | int = "utf-8",
    max_depth: int = 256,
    max_size: int = 67108864,
) -> bytes: ...

# Extension only (the twin has none): the C port of the Versit tokenizer in
# syncml_codec.formats.versit, which is its reference and builds it with its
# own classes (see versit.cython_tokenizer); tests/formats/test_versit_parity.py
# checks that both give the same trees and errors.
class VersitCodec:
    def __init__(
        self,
        content_line: type,
        raw_line: type,
        component: type,
        parse_head: Callable[[bytes], object],
        max_depth: int,
    ) -> None: ...
    def parse(self, data: _Buffer, *, lenient: bool = False, version: str | None = None) -> list[Any]: ...
    def serialize(self, items: Iterable[Any]) -> bytes: ...
    def serialize_one(self, comp: Any) -> bytes: ...
