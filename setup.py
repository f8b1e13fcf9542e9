"""Build policy for the C extensions (``EXTENSIONS``: one line each), each
serving one layer: ``syncml_codec.codec._wbxml`` (WBXML),
``syncml_codec.model._fast`` (the model's fast path, which cimports the
codec's ``_wbxml.pxd``) and ``syncml_codec.formats._versit`` (the Versit
tokenizer).

``SYNCML_CODEC_EXTENSION=require``: every extension must build (CI, wheels).
``SYNCML_CODEC_EXTENSION=skip``: pure Python only.
Unset: try to build each; one that fails is installed as its pure-Python
twin, with a line in the build log (pip shows it with ``-v`` only) and a
``syncml_codec.errors.PurePythonWarning`` each time the package is imported.

What the build guarantees:

* Cython runs inside ``build_ext`` (``Cython.Distutils`` underneath
  setuptools' command), one extension at a time, and writes its C into the
  build's temporary directory: no generated C in the source tree, none in
  the sdist (``MANIFEST.in`` lists the Cython sources it needs instead).
* A failed extension leaves no binary behind, neither in ``build/`` (which
  a wheel packs whole) nor, in an in-place or editable build, beside its
  sources, so no wheel or install carries a stale one; binaries found in the
  source tree are never package data (``exclude-package-data``).
* ``syncml_codec/_build.json`` records the policy the package was built
  with, so that a ``skip`` build imports without the warning.
"""

import json
import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

POLICY = os.environ.get("SYNCML_CODEC_EXTENSION", "").strip().lower()
if POLICY not in ("", "require", "skip"):
    sys.exit(f"SYNCML_CODEC_EXTENSION must be 'require' or 'skip', not {POLICY!r}")

# module name -> its Cython source; every one is built (or skipped) under the same policy
EXTENSIONS = {
    "syncml_codec.codec._wbxml": "src/syncml_codec/codec/_wbxml.pyx",
    "syncml_codec.model._fast": "src/syncml_codec/model/_fast.pyx",  # cimports the codec's .pxd
    "syncml_codec.formats._versit": "src/syncml_codec/formats/_versit.pyx",
}
CYTHON_DIRECTIVES = {"language_level": "3", "boundscheck": False, "wraparound": False, "cdivision": True}


class OptionalBuildExt(build_ext):
    """setuptools' ``build_ext`` (which runs Cython on ``.pyx`` sources when
    Cython is importable) under ``POLICY``."""

    def run(self):
        # setuptools builds into build/ and then copies into the source tree
        # when in place (editable installs too); it resets inplace meanwhile
        self.in_place = bool(self.inplace)
        try:
            super().run()
        except Exception as exc:  # e.g. no compiler at all
            if POLICY == "require":
                raise
            for ext in self.extensions:
                self._remove_binaries(ext)
            print(f"syncml-codec: C extensions not built ({exc}); using the pure-Python code")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # any Cython or compiler failure
            if POLICY == "require":
                raise
            self._remove_binaries(ext)
            print(f"syncml-codec: C extension {ext.name} not built ({exc}); using its pure-Python twin")
        else:
            print(f"syncml-codec: built the Cython extension {ext.name}")

    def _remove_binaries(self, ext):
        """Delete ``ext``'s binary from earlier builds: in ``build/``, and
        beside its sources when building in place (which is where an editable
        install imports it from; other builds never package that one)."""
        filename = self.get_ext_filename(self.get_ext_fullname(ext.name))
        paths = [os.path.join(self.build_lib, filename)]
        if getattr(self, "in_place", False):
            package = ext.name.rpartition(".")[0]
            beside_sources = self.get_finalized_command("build_py").get_package_dir(package)
            paths.append(os.path.join(beside_sources, os.path.basename(filename)))
        for path in paths:
            if os.path.exists(path):
                os.remove(path)
                print(f"syncml-codec: removed the stale {path}")


class RecordingBuildPy(build_py):
    """Writes ``syncml_codec/_build.json``: the policy this build ran under."""

    def run(self):
        super().run()
        # an editable install imports the package from the source tree
        where = self.get_package_dir("syncml_codec") if self.editable_mode else \
            os.path.join(self.build_lib, "syncml_codec")
        os.makedirs(where, exist_ok=True)
        with open(os.path.join(where, "_build.json"), "w") as out:
            json.dump({"extensions": POLICY or "try"}, out)
            out.write("\n")


def extensions():
    if POLICY == "skip":
        print("syncml-codec: SYNCML_CODEC_EXTENSION=skip, pure-Python code only")
        return []
    missing = [src for src in EXTENSIONS.values() if not os.path.exists(src)]
    if missing:
        if POLICY == "require":
            sys.exit(f"syncml-codec: {', '.join(missing)} missing")
        print(f"syncml-codec: {', '.join(missing)} missing; those parts stay pure Python")
    try:
        import Cython  # noqa: F401 - setuptools' build_ext compiles .pyx through it
    except ImportError:
        if POLICY == "require":
            raise
        print("syncml-codec: Cython is not available; using the pure-Python code")
        return []
    flags = ["-O2"] if sys.platform != "win32" else []
    exts = []
    for name, src in EXTENSIONS.items():
        if src in missing:
            continue
        ext = Extension(name, [src], extra_compile_args=flags, optional=POLICY != "require")
        ext.cython_directives = CYTHON_DIRECTIVES
        ext.cython_include_dirs = ["src"]  # where cimport finds syncml_codec/codec/_wbxml.pxd
        ext.cython_c_in_temp = True  # the generated C goes to the build's temp dir
        exts.append(ext)
    return exts


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt, "build_py": RecordingBuildPy})
