"""Property-based fuzzing of the WBXML decoder (hypothesis).

In the normal test run each property gets a small budget.  To fuzz for
hours, raise it and derandomize off, for example::

    SYNCML_FUZZ_RANDOM=1 SYNCML_FUZZ_EXAMPLES=2000000 python -m pytest tests/fuzz -x

or run the coverage-guided target with atheris (``pip install atheris``)::

    python tests/fuzz/atheris_wbxml.py -max_total_time=36000 corpus_dir/

Any input must give a result or a ``ValueError`` subclass from both
implementations, the same one, and never crash or hang.
"""

from __future__ import annotations

import os

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from syncml_codec.codec import _wbxml_py  # noqa: E402

from ..codec.mutations import outcome  # noqa: E402
from ..conftest import _wbxml_c  # noqa: E402

EXAMPLES = int(os.environ.get("SYNCML_FUZZ_EXAMPLES", "300"))
# the normal test run is deterministic (the same examples every time, so CI
# cannot turn red by chance); long runs draw new examples
RANDOM = os.environ.get("SYNCML_FUZZ_RANDOM", "") not in ("", "0")
HEADERS = [b"\x03\xa4\x01\x6a\x00", b"\x02\x9f\x53\x6a\x00", b"\x03\xa4\x03\x6a\x00", b"\x00\x9f\x54\x00",
           b"\x03\x00\x00\x6a\x03ab\x00", b"\x03\x01\x6a\x00"]
# bytes that mean something in SyncML WBXML, so the fuzzer gets past the header
TOKENS = st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x04, 0x43, 0x83, 0xC3, 0x6D, 0x6C, 0x6B, 0x4F, 0x54,
                          0x57, 0x5A, 0x45, 0x53, 0x0A, 0x4A, 0x71, 0x12, 0x2D, 0x7F, 0x80, 0xFF, 0x61, 0x62])


def check(data: bytes) -> None:
    py = outcome(_wbxml_py.wbxml_to_xml, data)
    tree = outcome(_wbxml_py.decode, data)
    assert (py[0] == "ok") == (tree[0] == "ok")
    if _wbxml_c is not None:
        assert outcome(_wbxml_c.wbxml_to_xml, data) == py
        assert outcome(_wbxml_c.decode, data) == tree


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=200))
def test_random_bytes(data):
    check(data)


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.sampled_from(HEADERS), st.lists(TOKENS | st.integers(0, 255), max_size=120))
def test_token_soup(header, body):
    check(header + bytes(body))
