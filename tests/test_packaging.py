"""Packaging (issue 12, item 1): what the sdist and a wheel carry, and the
warning a pure-Python fallback gives.

The sdist and wheel are built offline by the build backend itself
(``setuptools.build_meta``, what pip and ``python -m build`` call) in a copy
of the checkout, with leftovers of earlier builds planted in it: generated
C, binaries in the source tree and a stale binary in ``build/``.  The wheel
is built with ``CC=false``, so every extension fails to compile in seconds:
the fallback path, where a stale binary would slip in.  Building the sdist,
installing it with the extensions required and running the codec tests on
that install is in ``.ci/run`` (it compiles for about a minute).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import syncml_codec
from syncml_codec import _native
from syncml_codec.errors import PurePythonWarning

from .conftest import ROOT

EXTENSIONS = ("codec/_wbxml", "model/_fast", "formats/_versit")
SUFFIX = EXTENSION_SUFFIXES[0]
CYTHON_SOURCES = (".pyx", ".pxi", ".pxd")
GENERATED = (".c", ".so", ".pyd", ".html")


def _backend_ready() -> None:
    """Skip unless the build backend the sdist names can run here."""
    setuptools = pytest.importorskip("setuptools", reason="the build backend (test extra) is not installed")
    pytest.importorskip("Cython", reason="Cython (test extra) is not installed")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"setuptools {setuptools.__version__} < 77 (PEP 639); the test extra requires 77")
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the files to package are git's")


def _checkout_copy(tmp_path: Path) -> Path:
    """The checkout's files (tracked, or new and not ignored) copied to
    ``tmp_path/tree``, plus what earlier builds leave behind."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode()
    tree = tmp_path / "tree"
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted but not yet committed is still listed
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / name)
    pkg = tree / "src" / "syncml_codec"
    for ext in EXTENSIONS:  # an earlier in-place build: generated C and binaries beside the sources
        (pkg / f"{ext}.c").write_text("/* generated */\n")
        (pkg / f"{ext}{SUFFIX}").write_bytes(b"stale binary")
    (pkg / "_build.json").write_text('{"extensions": "skip"}\n')
    return tree


def _backend(tree: Path, hook: str, **env: str) -> Path:
    """Run ``setuptools.build_meta.<hook>(dist)`` in ``tree``; the artifact."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SYNCML_CODEC_")}
    proc = subprocess.run(
        [sys.executable, "-c", f"from setuptools import build_meta; print(build_meta.{hook}('dist'))"],
        cwd=tree, capture_output=True, text=True, timeout=300, env={**environ, **env})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return tree / "dist" / proc.stdout.splitlines()[-1]


def test_sdist_carries_the_cython_sources_and_nothing_generated(tmp_path: Path) -> None:
    _backend_ready()
    tree = _checkout_copy(tmp_path)
    sdist = _backend(tree, "build_sdist")
    with tarfile.open(sdist) as tar:
        top = sdist.name.removesuffix(".tar.gz")
        names = {m.name.removeprefix(f"{top}/") for m in tar.getmembers() if m.isfile()}
        pkg_info = tar.extractfile(f"{top}/PKG-INFO").read().decode()  # type: ignore[union-attr]

    cython = {p.relative_to(ROOT).as_posix() for p in (ROOT / "src").rglob("*") if p.suffix in CYTHON_SOURCES}
    assert {"src/syncml_codec/codec/_wbxml.pyx", "src/syncml_codec/codec/_wbxml.pxd",
            "src/syncml_codec/model/_fast.pyx", "src/syncml_codec/formats/_versit.pyx"} <= cython
    assert cython <= names, sorted(cython - names)
    stubs = {f"src/syncml_codec/{ext}.pyi" for ext in EXTENSIONS} | {"src/syncml_codec/py.typed"}
    assert stubs <= names
    assert {"setup.py", "pyproject.toml", "MANIFEST.in", "README.md", "LICENSE", "CHANGELOG.md"} <= names
    assert [n for n in names if n.endswith(GENERATED) or n.endswith("_build.json")] == []
    assert [n for n in names if n.startswith(("tests/", "benchmarks/", ".ci/"))] == []

    headers = [line.partition(": ") for line in pkg_info.split("\n\n", 1)[0].splitlines()]
    fields: dict[str, list[str]] = {}
    for key, _, value in headers:
        fields.setdefault(key, []).append(value)
    assert fields["Metadata-Version"] == ["2.4"]
    assert fields["License-Expression"] == ["MIT"]
    assert fields["License-File"] == ["LICENSE"]
    assert "Programming Language :: Cython" in fields["Classifier"]
    assert [c for c in fields["Classifier"] if c.startswith("License ::")] == []  # PEP 639: not both


@pytest.mark.skipif(sys.platform == "win32", reason="CC=false is a POSIX way to make every compile fail")
def test_failed_build_packs_no_stale_binary(tmp_path: Path) -> None:
    _backend_ready()
    tree = _checkout_copy(tmp_path)
    build_lib = tree / "build" / f"lib.{sysconfig.get_platform()}-{sys.implementation.cache_tag}"
    stale = build_lib / "syncml_codec" / f"{EXTENSIONS[0]}{SUFFIX}"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"stale binary from a build that worked")

    wheel = _backend(tree, "build_wheel", CC="false")  # SYNCML_CODEC_EXTENSION unset: fall back

    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
        record = json.loads(whl.read("syncml_codec/_build.json"))
    assert [n for n in names if n.endswith(GENERATED + CYTHON_SOURCES)] == []
    assert record == {"extensions": "try"}  # so the pure-Python install warns
    assert not stale.exists()
    assert "syncml_codec/codec/wbxml.py" in names and "syncml_codec-0.1.0.dist-info/licenses/LICENSE" in names


def _python(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SYNCML_CODEC_") and k != "PYTHONWARNINGS"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60,
                          env={**environ, **env})


# the codec's extension made unimportable, as a failed or broken build leaves it
WITHOUT_CODEC_EXTENSION = ("import sys; sys.modules['syncml_codec.codec._wbxml'] = None; "
                           "import syncml_codec; print(syncml_codec.implementations()['codec'])")


@pytest.fixture
def expected_build() -> None:
    if _native.build_policy() == "skip":
        pytest.skip("this install was built with SYNCML_CODEC_EXTENSION=skip: no extension is expected")


@pytest.mark.usefixtures("expected_build")
def test_a_missing_extension_warns_once_at_import() -> None:
    proc = _python("-c", WITHOUT_CODEC_EXTENSION)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "python\n"
    assert proc.stderr.count("PurePythonWarning") == 1, proc.stderr
    assert "syncml-codec runs pure Python for codec, model: syncml_codec.codec._wbxml" in proc.stderr
    assert "SYNCML_CODEC_NO_EXTENSIONS=1" in proc.stderr  # says how to silence it


@pytest.mark.usefixtures("expected_build")
@pytest.mark.parametrize(("args", "env"), [
    (["-W", "ignore::RuntimeWarning:syncml_codec"], {}),
    ([], {"PYTHONWARNINGS": "ignore::RuntimeWarning:syncml_codec"}),
    ([], {"SYNCML_CODEC_NO_EXTENSIONS": "1"}),
], ids=["-W", "PYTHONWARNINGS", "pure-python-asked-for"])
def test_the_warning_can_be_silenced(args: list[str], env: dict[str, str]) -> None:
    proc = _python(*args, "-c", WITHOUT_CODEC_EXTENSION, **env)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "python\n", "")


def test_the_warning_class_is_a_runtime_warning_in_the_facade() -> None:
    assert syncml_codec.PurePythonWarning is PurePythonWarning
    assert issubclass(PurePythonWarning, RuntimeWarning)  # shown by Python's default filters
    assert PurePythonWarning.__doc__ and "SYNCML_CODEC_NO_EXTENSIONS" in PurePythonWarning.__doc__


def test_a_complete_build_imports_without_warning() -> None:
    proc = _python("-W", "error", "-c",
                   "import syncml_codec; print(sorted(set(syncml_codec.implementations().values())))")
    if proc.stdout != "['cython']\n":
        pytest.skip(f"the extensions are not built here: {proc.stdout.strip()} {proc.stderr[-300:]}")
    assert proc.stderr == ""


def test_a_skip_build_expects_no_extension(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for text, policy in [('{"extensions": "skip"}', "skip"), ('{"extensions": "require"}', "require"),
                         ('{"extensions": "try"}', "try"), ("not json", "try"), ("[]", "try")]:
        (tmp_path / "_build.json").write_text(text)
        monkeypatch.setattr(_native, "RECORD", tmp_path / "_build.json")
        assert _native.build_policy() == policy
    monkeypatch.setattr(_native, "RECORD", tmp_path / "absent.json")
    assert _native.build_policy() == "try"  # a checkout on sys.path: expected, as by default
    (tmp_path / "_build.json").write_text('{"extensions": "skip"}')
    monkeypatch.setattr(_native, "RECORD", tmp_path / "_build.json")
    assert _native.missing() == []


def test_implementations_names_each_layer() -> None:
    from syncml_codec.codec import wbxml
    from syncml_codec.formats import versit
    from syncml_codec.model import message

    assert syncml_codec.implementations() == {
        "codec": wbxml.IMPLEMENTATION,
        "model": "python" if message.FAST is None else "cython",
        "formats": versit.IMPLEMENTATION,
    }
