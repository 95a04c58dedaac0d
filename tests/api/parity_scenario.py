"""One run of the parity cases: `python parity_scenario.py WHICH PATH PHASE`, cases on stdin.

WHICH is "chroma" (chromadb 1.5.9, run by the Chroma venv's python), "local" (fletchdb's
PersistentClient) or "remote" (a FlightClient of a real Flight server this process starts over
PATH-server). PHASE "write" creates the collection `col` and runs the cases on it; "reopen" is a
fresh process on the same data (a new server, remotely) whose cases find what "write" left.
Each case is an expression evaluated in order on one namespace; stdout gets a JSON object of
outcomes by case name: {"ok": normalized value} or {"error": MRO names, "message", "details"}.
Runs under chromadb's interpreter too, so it imports neither pytest nor FletchDB there.
"""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def norm(v: Any) -> Any:
    """A JSON-able picture of a value that keeps its types (floats unrounded)."""
    if isinstance(v, np.ndarray):
        return {"ndarray": str(v.dtype), "shape": list(v.shape), "values": norm(v.tolist())}
    if isinstance(v, dict):
        out: dict[str, Any] = {"dict": sorted([str(k), norm(x)] for k, x in v.items())}
        if "ids" in v:  # a GetResult / QueryResult: key order is part of the contract
            out["keys"] = list(v)
        return out
    if isinstance(v, list | tuple):
        return [type(v).__name__, [norm(x) for x in v]]
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return ["int", v]
    if isinstance(v, float):
        return ["float", v]
    if isinstance(v, np.generic):
        return ["np", str(v.dtype), float(v)]
    return ["object", type(v).__name__]


def client_module(which: str, path: str) -> tuple[Any, Any, Any]:
    """(the `db` module the cases call, Settings, a closer for a server this process started)."""
    if which == "chroma":
        import chromadb as db
        from chromadb.config import Settings

        return db, Settings, lambda: None
    import fletchdb as db
    from fletchdb.config import Settings

    if which == "local":
        return db, Settings, lambda: None
    from tests.api.conftest import connect, start  # a real server on loopback, port 0

    server = start(Path(path + "-server"))

    def remote_client(path: str, settings: Any = None, tenant: Any = None, database: Any = None):
        return connect(server, tenant=tenant, database=database)

    return (
        types.SimpleNamespace(**{**vars(db), "PersistentClient": remote_client}),
        Settings,
        server.close,
    )


def outcome(source: str, ns: dict[str, Any]) -> dict[str, Any]:
    """What evaluating `source` gave: the normalized value, or the exception."""
    try:
        return {"ok": norm(eval(source, ns))}
    except BaseException as e:  # noqa: BLE001 - record whatever happened (PanicException too)
        return {
            "error": [k.__name__ for k in type(e).__mro__],
            "message": re.sub(UUID, "<uuid>", str(e)),  # collection ids differ between runs
            "details": norm(getattr(e, "details", None)),
        }


def main() -> None:
    which, path, phase = sys.argv[1:4]
    db, settings, close_server = client_module(which, path)
    c = db.PersistentClient(path=path)
    col = c.create_collection("parity") if phase == "write" else None
    ns = {"db": db, "np": np, "c": c, "col": col, "Settings": settings, "path": path}
    out = {name: outcome(source, ns) for name, source in json.loads(sys.stdin.read())}
    if which == "chroma":
        import chromadb.errors as chroma_errors

        out["__error_types__"] = {"ok": sorted(chroma_errors.error_types)}
    if which != "chroma":
        c.close()
    close_server()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
