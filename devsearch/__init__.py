"""devsearch: cross-modal photo search on the command line (DeViSE).

The one import name the distribution installs. Its subpackages live in the repository's top-level
folders (`cli/`, `search/`, `store/`, ...), mapped here by pyproject.toml's `package-dir`, so that no
generic name such as `model` or `core` is ever installed at the top level.
"""
