# The model's fast path (syncml_codec.model._fast, Cython; absent in a
# pure-Python build): WBXML <-> model objects without an element tree.
# Each function gives what the reference path gives, or None where it
# cannot vouch for that (the caller then runs the reference path).
from typing import Any, TypeVar

from ..codec.codepages import Language
from ..codec.tree import Element
from ._node import Node
from ._schema import ModelSchema

_T = TypeVar("_T", bound=Node)

class GiveUp(Exception): ...

def read(
    data: bytes | bytearray | memoryview,
    root: type[_T],
    schema: ModelSchema,
    *,
    lenient: bool = False,
    max_depth: int = 256,
    family: str | None = None,
) -> _T | None: ...
def write(
    node: Node, language: Language, schema: ModelSchema, options: dict[str, Any] | None = None
) -> bytes | None: ...
def size(obj: Node | Element, language: Language, page: int, schema: ModelSchema) -> tuple[int, int]: ...
def frozen(cls: type[_T], slots: tuple[Any, ...] | list[Any], values: list[Any]) -> _T: ...
