"""`flight_server.api` is the SDK's one door: `import fletchdb` stays light, both transports fit."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from flight_server import api
from flight_server.config import Settings
from flight_server.engine import VERSION, Engine
from flight_server.flight.server import start_server
from flight_server.gateway.auth import mint_token
from sdk.flight_transport import FlightTransport
from sdk.transport import Transport

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s" * 40
ENGINE_MODULES = ("usearch", "flight_server.engine", "flight_server.executor.reader")


def _loaded_after(code: str) -> set[str]:
    """Which of the engine's modules (and duckdb) a fresh interpreter holds after `code`."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {(*ENGINE_MODULES, 'duckdb')!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return set(done.stdout.split())


def test_import_fletchdb_loads_no_engine() -> None:
    assert not _loaded_after("import fletchdb") & set(ENGINE_MODULES)


def test_a_flight_client_loads_no_engine(tmp_path: Path) -> None:
    settings = Settings(path=str(tmp_path), host="127.0.0.1", port=0, auth_secret=SECRET)
    token = mint_token(SECRET.encode(), tenant="default_tenant", role="admin", databases="*")
    with start_server(settings) as server:
        code = (
            "import fletchdb\n"
            f"c = fletchdb.FlightClient({server.uri!r}, token={token!r})\n"
            "c.get_or_create_collection('light').count()\nc.close()"
        )
        assert not _loaded_after(code) & set(ENGINE_MODULES)


def test_import_fletchdb_loads_no_duckdb() -> None:
    assert "duckdb" not in _loaded_after("import fletchdb")


def test_a_local_client_loads_the_engine() -> None:
    assert set(ENGINE_MODULES) <= _loaded_after(
        "import fletchdb\nfletchdb.EphemeralClient().close()"
    )


def test_facade_version_is_the_engine_version() -> None:
    assert api.VERSION == VERSION


def test_facade_exports_what_it_lists() -> None:
    assert all(hasattr(api, name) for name in api.__all__)


def _transport_methods() -> dict[str, inspect.Signature]:
    members = inspect.getmembers(
        Transport, lambda m: inspect.isfunction(m) or isinstance(m, property)
    )
    return {
        name: inspect.signature(m) if inspect.isfunction(m) else None  # type: ignore[misc]
        for name, m in members
        if not name.startswith("_")
    }


def _compatible(got: inspect.Signature, wanted: inspect.Signature) -> bool:
    """Same parameter names and kinds, and a default wherever the protocol has one.

    An implementation may add defaults (every call through the protocol still binds);
    annotations are not compared, since the two sides spell them differently.
    """
    pairs = list(zip(got.parameters.values(), wanted.parameters.values(), strict=False))
    return len(got.parameters) == len(wanted.parameters) and all(
        g.name == w.name and g.kind == w.kind and (w.default is w.empty or g.default is not g.empty)
        for g, w in pairs
    )


@pytest.mark.parametrize("implementation", [Engine, FlightTransport], ids=lambda c: c.__name__)
def test_implementation_satisfies_transport(implementation: type) -> None:
    for name, sig in _transport_methods().items():
        member = inspect.getattr_static(implementation, name, None)
        if sig is None:  # a property in the protocol: a property or an attribute set in __init__
            init = inspect.getsource(implementation.__init__)
            assert member is not None or f"self.{name} =" in init, f"no {name} attribute"
            continue
        assert member is not None, f"{implementation.__name__} lacks Transport.{name}"
        assert callable(member), f"{implementation.__name__}.{name} is not a method"
        got = inspect.signature(getattr(implementation, name))
        assert _compatible(got, sig), f"{implementation.__name__}.{name}{got} != {sig}"
