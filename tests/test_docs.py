"""Every public name is documented (issue 12): each name in the ``__all__`` of
a package (and of a module such an ``__all__`` lists, ``errors`` and
``model.auth``) has a docstring, or, for a constant, ``#:`` comment lines at
its assignment; every public module has its page in the API docs.

What counts as public and where a constant's documentation is found come from
``docs/_ext/public_api.py``, the Sphinx extension the docs are built with, so
this test and the build agree.  Building the docs themselves (Sphinx, warnings
as errors, a public name missing from the built pages is an error too) is
``.ci/docs``'s job: Sphinx is not a test dependency.
"""

from __future__ import annotations

import importlib
import re
import sys
import textwrap
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import public_api  # noqa: E402  (lives beside the docs it serves)


def test_every_public_name_has_a_docstring() -> None:
    names = list(public_api.public_names())
    missing = [f"{modname}.{name}" for modname, name, obj in names if not public_api.doc_of(modname, name, obj)]
    assert len(names) > 200  # the walk found the packages
    assert missing == []


def test_every_public_module_has_a_docstring() -> None:
    modules = public_api.public_modules()
    assert {"syncml_codec", "syncml_codec.errors", "syncml_codec.model.auth", "syncml_codec.server"} <= set(modules)
    assert [m for m in modules if not (importlib.import_module(m).__doc__ or "").strip()] == []


def test_every_public_module_has_its_page_in_the_toctree() -> None:
    pages = {m.group(1): page.stem for page in (DOCS / "api").glob("*.rst")
             for m in re.finditer(r"^\.\. public-api:: (\S+)$", page.read_text(), re.M)}
    assert sorted(pages) == sorted(public_api.public_modules())
    toctree = (DOCS / "index.rst").read_text()
    assert [stem for stem in pages.values() if f"   api/{stem}\n" not in toctree] == []


def test_a_reexported_constant_is_documented_at_its_assignment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "docprobe"
    package.mkdir()
    (package / "__init__.py").write_text("from ._values import DOCUMENTED, LATER, UNDOCUMENTED\n"
                                         "from ._values import DOCUMENTED as RENAMED\n")
    (package / "_values.py").write_text(textwrap.dedent('''\
        # a plain comment is not documentation
        UNDOCUMENTED = 1
        #: what it is,
        #: on two lines
        DOCUMENTED: int = 2
        LATER = 3
        """A string right below counts too."""
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert public_api.attribute_doc("docprobe", "DOCUMENTED") == "what it is,\non two lines"
        assert public_api.attribute_doc("docprobe", "RENAMED") == "what it is,\non two lines"
        assert public_api.attribute_doc("docprobe", "LATER") == "A string right below counts too."
        assert public_api.attribute_doc("docprobe", "UNDOCUMENTED") is None
    finally:
        for name in [name for name in sys.modules if name.split(".")[0] == "docprobe"]:
            del sys.modules[name]


def test_a_dataclass_or_enum_without_a_docstring_of_its_own_has_none() -> None:
    import dataclasses
    import enum

    @dataclasses.dataclass
    class Record:
        field: int

    class Colour(enum.Enum):
        RED = 1

    class Documented(enum.Enum):
        """Said here."""

        BLUE = 2

    assert public_api.own_doc(Record) is None
    assert public_api.own_doc(Colour) is None
    assert public_api.own_doc(Documented) == "Said here."
