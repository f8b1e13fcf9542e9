"""Token values and the element kinds both directions use."""

from __future__ import annotations

from typing import Any

from .. import _messages as M
from ..codepages import (
    DDF12,
    DEVINF12,
    LANGUAGES,
    METINF12,
    SYNCML12,
    Language,
)

SWITCH_PAGE, END, ENTITY, STR_I, LITERAL = 0x00, 0x01, 0x02, 0x03, 0x04
EXT_I_0, PI, LITERAL_C = 0x40, 0x43, 0x44
EXT_T_0, STR_T, LITERAL_A = 0x80, 0x83, 0x84
EXT_0, OPAQUE, LITERAL_AC = 0xC0, 0xC3, 0xC4

# kinds of open element that change how content is read
K_PLAIN, K_DATA, K_TYPE, K_NONCE, K_WBXML = 0, 1, 2, 3, 4


def _tables(lang: Language) -> dict[int, str]:
    return {(page << 8) | tok: name for page, t in lang.pages.items() for tok, name in t.items()}


_TAGS = {lang.key: _tables(lang) for lang in LANGUAGES}


def _kind(lang: Language, page: int, token: int) -> int:
    if lang.family == "syncml":
        if page == 0 and token == 0x0F:
            return K_DATA
        if page == 1 and token == 0x13:
            return K_TYPE
        if page == 1 and token == 0x10:
            return K_NONCE
    elif lang.family == "metinf":
        if token == 0x13:
            return K_TYPE
        if token == 0x10:
            return K_NONCE
    return K_PLAIN


def _guess_language(page: int, token: int) -> Language | None:
    if page == 0 and token == 0x2D:
        return SYNCML12
    if page == 0 and token == 0x0A:
        return DEVINF12
    if page == 1 and token == 0x0E:
        return METINF12
    if page == 2 and token == 0x20:
        return DDF12
    return None


# ---------------------------------------------------------------------------
# decoding



def _as_bytes(data: Any) -> bytes:
    if type(data) is bytes:
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(M.not_bytes(data))
