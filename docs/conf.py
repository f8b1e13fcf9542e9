"""Sphinx configuration: the API reference, built from the docstrings of the installed package.

Build it as CI does (warnings are errors): ``bash .ci/docs``, or
``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

import syncml_codec  # the installed package, with its extensions, is what is documented

project = "syncml-codec"
author = "syncml-codec developers"
copyright = "the syncml-codec developers"
release = version = syncml_codec.__version__

# autodoc reads the docstrings (plain reST with Sphinx roles, as the package writes them: no napoleon);
# public_api documents the re-exported constants and fails the build when a public name is missing
extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode", "public_api"]
# ERROR: the exception class a model raises (the framework's plumbing, set on every model class)
autodoc_default_options = {"exclude-members": "ERROR"}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True

exclude_patterns = ["_build"]
html_theme = "alabaster"
html_title = f"syncml-codec {release}"
