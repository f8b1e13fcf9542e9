"""Benchmarks run only on request: ``pytest benchmarks``."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _contenders as K


@pytest.fixture(scope="session")
def wbxml_corpus():
    data = K.wbxml_inputs()
    if not data:
        pytest.skip(f"corpus not found under {K.LIBWBXML_CORPUS}")
    return data


@pytest.fixture(scope="session")
def xml_corpus():
    data = K.xml_inputs()
    if not data:
        pytest.skip(f"corpus not found under {K.LIBWBXML_CORPUS}")
    return data
