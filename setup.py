"""Build policy for the C extensions (``EXTENSIONS``: one line each), each
serving one layer: ``syncml_codec.codec._wbxml`` (WBXML),
``syncml_codec.model._fast`` (the model's fast path, which cimports the
codec's ``_wbxml.pxd``) and ``syncml_codec.formats._versit`` (the Versit
tokenizer).

``SYNCML_CODEC_EXTENSION=require``: the extension must build (CI, wheels).
``SYNCML_CODEC_EXTENSION=skip``: pure Python only.
Unset: try to build it; if that fails, install the pure-Python twin and say
so in one line.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

POLICY = os.environ.get("SYNCML_CODEC_EXTENSION", "").strip().lower()
if POLICY not in ("", "require", "skip"):
    sys.exit(f"SYNCML_CODEC_EXTENSION must be 'require' or 'skip', not {POLICY!r}")


class OptionalBuildExt(build_ext):
    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any compiler failure
            if POLICY == "require":
                raise
            print(f"syncml-codec: C extension not built ({exc}); using the pure-Python codec")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            if POLICY == "require":
                raise
            print(f"syncml-codec: C extension {ext.name} not built ({exc}); using its pure-Python twin")
        else:
            print(f"syncml-codec: built the Cython extension {ext.name}")


# module name -> its Cython source; every one is built (or skipped) under the same policy
EXTENSIONS = {
    "syncml_codec.codec._wbxml": "src/syncml_codec/codec/_wbxml.pyx",
    "syncml_codec.model._fast": "src/syncml_codec/model/_fast.pyx",  # cimports the codec's .pxd
    "syncml_codec.formats._versit": "src/syncml_codec/formats/_versit.pyx",
}


def extensions():
    if POLICY == "skip":
        print("syncml-codec: SYNCML_CODEC_EXTENSION=skip, pure-Python codec only")
        return []
    missing = [src for src in EXTENSIONS.values() if not os.path.exists(src)]
    if missing:
        if POLICY == "require":
            sys.exit(f"syncml-codec: {', '.join(missing)} missing")
        print(f"syncml-codec: {', '.join(missing)} missing; those parts stay pure Python")
    present = {name: src for name, src in EXTENSIONS.items() if src not in missing}
    if not present:
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if POLICY == "require":
            raise
        print("syncml-codec: Cython is not available; using the pure-Python codec")
        return []
    flags = ["-O2"] if sys.platform != "win32" else []
    exts = [Extension(name, [src], extra_compile_args=flags) for name, src in present.items()]
    return cythonize(
        exts,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
        include_path=["src"],  # where cimport finds syncml_codec/codec/_wbxml.pxd
        quiet=True,
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
