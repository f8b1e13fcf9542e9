"""Build policy for the one C extension, ``syncml_codec.codec._wbxml``.

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
            print(f"syncml-codec: C extension not built ({exc}); using the pure-Python codec")
        else:
            print("syncml-codec: built the Cython WBXML codec")


def extensions():
    if POLICY == "skip":
        print("syncml-codec: SYNCML_CODEC_EXTENSION=skip, pure-Python codec only")
        return []
    if not os.path.exists("src/syncml_codec/codec/_wbxml.pyx"):
        if POLICY == "require":
            sys.exit("syncml-codec: src/syncml_codec/codec/_wbxml.pyx is missing")
        print("syncml-codec: src/syncml_codec/codec/_wbxml.pyx is missing; using the pure-Python codec")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if POLICY == "require":
            raise
        print("syncml-codec: Cython is not available; using the pure-Python codec")
        return []
    ext = Extension(
        "syncml_codec.codec._wbxml",
        ["src/syncml_codec/codec/_wbxml.pyx"],
        extra_compile_args=["-O2"] if sys.platform != "win32" else [],
    )
    return cythonize(
        [ext],
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
        quiet=True,
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
