"""The pure-Python WBXML implementation, split by noun; ``_wbxml_py`` is its face."""
