"""Coverage-guided fuzz target (atheris).  Not collected by pytest.

    pip install atheris
    python tests/fuzz/atheris_wbxml.py -max_total_time=36000 /tmp/wbxml-corpus

Seed the corpus folder with ../shared/corpus/libwbxml/gen/wbxml/*/*.wbxml.
"""

import sys

import atheris

with atheris.instrument_imports():
    from syncml_codec.codec import _wbxml_py
    try:
        from syncml_codec.codec import _wbxml as _wbxml_c
    except ImportError:
        _wbxml_c = None


def _outcome(fn, data):
    try:
        return ("ok", fn(data))
    except ValueError as exc:
        return ("error", type(exc).__name__, getattr(exc, "offset", None))


def test_one_input(data: bytes) -> None:
    py = _outcome(_wbxml_py.wbxml_to_xml, data)
    if _wbxml_c is not None and _outcome(_wbxml_c.wbxml_to_xml, data) != py:
        raise AssertionError(f"implementations differ on {data.hex()}")
    if py[0] == "ok":
        _wbxml_py.xml_to_wbxml(py[1])  # what we write, we can read


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
