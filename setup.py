"""Build policy for the C extensions: ``syncml_codec.codec._wbxml`` (the
WBXML codec) and ``syncml_codec.model._fast`` (the model's fast path, which
cimports the codec's ``_wbxml.pxd``); one line per extension in ``MODULES``.

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
            print(f"syncml-codec: built {ext.name}")


# (module, source): the first is the codec, which the others need
MODULES = [
    ("syncml_codec.codec._wbxml", "src/syncml_codec/codec/_wbxml.pyx"),
    ("syncml_codec.model._fast", "src/syncml_codec/model/_fast.pyx"),
]


def extensions():
    if POLICY == "skip":
        print("syncml-codec: SYNCML_CODEC_EXTENSION=skip, pure-Python codec only")
        return []
    missing = [src for _, src in MODULES if not os.path.exists(src)]
    if missing:
        if POLICY == "require":
            sys.exit(f"syncml-codec: {', '.join(missing)} missing")
        print(f"syncml-codec: {', '.join(missing)} missing; using the pure-Python codec")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if POLICY == "require":
            raise
        print("syncml-codec: Cython is not available; using the pure-Python codec")
        return []
    args = ["-O2"] if sys.platform != "win32" else []
    exts = [Extension(name, [src], extra_compile_args=args) for name, src in MODULES]
    return cythonize(
        exts,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
        include_path=["src"],
        quiet=True,
    )


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
