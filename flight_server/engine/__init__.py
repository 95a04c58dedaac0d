"""The engine: the components wired for one data directory (`core.py`).

`catalog_methods.py` is its tenants/databases/collections half, `recovery.py` opens a
collection (log replay over the current version), `stores.py` builds the catalog, log store and
version store from a path or URI.
"""

from .core import RESET_MESSAGE, VERSION, Engine

__all__ = ["RESET_MESSAGE", "VERSION", "Engine"]
