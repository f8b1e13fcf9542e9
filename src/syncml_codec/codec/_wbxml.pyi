# The one surface both WBXML implementations provide: the Cython extension
# (syncml_codec.codec._wbxml) and its pure-Python twin (_wbxml_py).
# tests/codec/test_surface.py checks both against this file.
from typing import Literal

from .codepages import Language
from .tree import Document

_Buffer = bytes | bytearray | memoryview

IMPLEMENTATION: Literal["cython", "python"]

def decode(
    data: _Buffer, *, strict: bool = False, max_depth: int = 256, language: Language | str | None = None
) -> Document: ...
def wbxml_to_xml(
    data: _Buffer,
    *,
    pretty: bool = False,
    strict: bool = False,
    max_depth: int = 256,
    indent: int = 2,
    language: Language | str | None = None,
) -> bytes: ...
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
