"""Sphinx configuration: builds offline, API reference from the numpy-style docstrings."""

project = "skmorph"
author = "the skmorph developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.autosummary"]
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build"]

autodoc_member_order = "bysource"
autodoc_typehints = "none"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
html_theme = "alabaster"

