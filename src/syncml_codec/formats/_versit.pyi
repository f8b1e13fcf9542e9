# The C Versit tokenizer (syncml_codec.formats._versit, built from _versit.pyx).
# Its reference is the pure Python in formats/versit.py, which builds it with
# its own classes (versit.cython_tokenizer); tests/formats/test_versit_parity.py
# checks that both give the same trees and errors, and this file against the
# extension's signatures.
from collections.abc import Callable, Iterable
from typing import Any, Literal

_Buffer = bytes | bytearray | memoryview

IMPLEMENTATION: Literal["cython"]

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
