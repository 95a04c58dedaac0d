"""`fletchdb token` and `fletchdb serve`: minted tokens, settings precedence, a real server process.

Precedence is unit-tested on `resolve_settings` with namespaces from the real parser; the serve
tests run `python -m flight_server` as a subprocess and wait on it with bounded timeouts (no sleeps).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from flight_server.cli import _parser, main, resolve_settings
from flight_server.config import Settings
from flight_server.errors import (
    AuthenticationError,
    AuthorizationError,
    InvalidArgumentError,
    NotFoundError,
)
from flight_server.serve import Server
from sdk.flight_transport import FlightTransport
from tests.server.conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60.0  # a bound, not a sleep: the process usually answers in about a second


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No FLETCHDB_* variable of the outer environment leaks into these tests."""
    for name in list(os.environ):
        if name.startswith("FLETCHDB_"):
            monkeypatch.delenv(name)


def _resolve(*argv: str) -> Settings:
    return resolve_settings(_parser().parse_args(list(argv)))


# fletchdb token ------------------------------------------------------------------------------
def _mint(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["token", *argv]) == 0
    return capsys.readouterr().out.strip()


def test_token_is_accepted_by_the_server(serve, capsys, tmp_path: Path) -> None:
    data = tmp_path / "data"
    server: Server = serve(path=str(data), auth_secret="")  # the server keeps its own secret
    assert (data / "auth_secret").exists()
    server.engine.create_tenant("acme")
    server.engine.create_database("default_database", "acme")
    server.engine.create_database("db1", "acme")

    reader = _mint(
        capsys, "--path", str(data), "--tenant", "acme", "--role", "reader",
        "--databases", "db1,default_database", "--ttl", "15m", "--sub", "alice",
    )  # fmt: skip
    claims = jwt.decode(reader, options={"verify_signature": False})
    assert claims["tenant"] == "acme" and claims["role"] == "reader" and claims["sub"] == "alice"
    assert claims["databases"] == ["db1", "default_database"]
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert abs(claims["iat"] - time.time()) < 60

    t = FlightTransport(server.uri, reader)
    try:
        assert t.heartbeat() > 0
        assert t.get_database("db1", "acme").name == "db1"
        with pytest.raises(AuthorizationError):  # a reader may not write
            t.create_collection("docs", None, None, False, "acme", "db1")
        with pytest.raises(NotFoundError):  # another tenant is invisible
            t.get_tenant("default_tenant")
    finally:
        t.close()

    writer = _mint(capsys, "--path", str(data), "--tenant", "acme", "--role", "writer")
    assert jwt.decode(writer, options={"verify_signature": False})["databases"] == "*"
    t = FlightTransport(server.uri, writer)
    try:
        assert t.create_collection("docs", None, None, False, "acme", "db1").name == "docs"
    finally:
        t.close()


def test_token_with_the_configured_secret_and_ttl(serve, capsys) -> None:
    server = serve()
    token = _mint(
        capsys, "--auth-secret", SECRET, "--tenant", "*", "--role", "admin", "--ttl", "90"
    )
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 90 and claims["tenant"] == "*"
    t = FlightTransport(server.uri, token)
    try:
        t.create_tenant("acme")
        assert t.get_tenant("acme") == "acme"
    finally:
        t.close()


def test_token_signed_with_another_secret_is_refused(serve, capsys) -> None:
    server = serve()
    token = _mint(capsys, "--auth-secret", "x" * 40, "--tenant", "*", "--role", "admin")
    t = FlightTransport(server.uri, token)
    try:
        with pytest.raises(AuthenticationError):
            t.heartbeat()
    finally:
        t.close()


def test_token_refuses_bad_arguments(capsys, tmp_path: Path) -> None:
    args = ["token", "--path", str(tmp_path), "--tenant", "acme", "--role", "admin"]
    assert main([*args, "--ttl", "soon"]) == 2
    assert "ttl" in capsys.readouterr().err
    assert main([*args, "--auth-secret", "short"]) == 2
    assert "auth_secret" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["token", "--tenant", "acme", "--role", "owner"])  # argparse choices
    capsys.readouterr()


# Settings precedence -------------------------------------------------------------------------
def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fletchdb.toml"
    path.write_text(text)
    return path


def test_defaults_without_config_env_or_flags() -> None:
    s = _resolve("serve")
    assert s.as_dict() == Settings().as_dict()
    assert s.port == 8815 and s.host == "127.0.0.1" and s.insecure_dev is False


def test_precedence_defaults_toml_env_flags(tmp_path: Path, monkeypatch) -> None:
    config = _toml(
        tmp_path,
        'port = 9001\nmax_batch_rows = 500\nmax_n_results = 50\nhost = "localhost"\n'
        "rate_read_burst = 7.5\ncompaction_enabled = false\n",
    )
    s = _resolve("serve", "--config", str(config))
    assert (s.port, s.max_batch_rows, s.max_n_results, s.host) == (9001, 500, 50, "localhost")
    assert s.rate_read_burst == 7.5 and s.compaction_enabled is False
    assert s.max_get_limit == Settings().max_get_limit  # untouched: the default

    monkeypatch.setenv("FLETCHDB_MAX_BATCH_ROWS", "600")
    monkeypatch.setenv("FLETCHDB_MAX_GET_LIMIT", "70")
    s = _resolve("serve", "--config", str(config))
    assert (s.port, s.max_batch_rows, s.max_get_limit) == (9001, 600, 70)  # env beats TOML

    s = _resolve("serve", "--config", str(config), "--max-batch-rows", "700", "--port", "0")
    assert (s.port, s.max_batch_rows, s.max_get_limit) == (0, 700, 70)  # flags beat env
    assert s.max_n_results == 50


def test_flags_before_the_subcommand_count_too(tmp_path: Path) -> None:
    s = _resolve("--port", "9100", "serve", "--max-n-results", "9")
    assert s.port == 9100 and s.max_n_results == 9
    s = _resolve("--port", "9100", "serve", "--port", "9200")
    assert s.port == 9200


def test_boolean_flags_and_typed_values(tmp_path: Path) -> None:
    s = _resolve("serve", "--insecure-dev", "--allow-reset", "--rate-write-per-second", "0.5")
    assert s.insecure_dev is True and s.allow_reset is True and s.rate_write_per_second == 0.5
    with pytest.raises(InvalidArgumentError, match="max_batch_rows expects int"):
        _resolve("serve", "--max-batch-rows", "many")


def test_unknown_toml_keys_are_refused(tmp_path: Path) -> None:
    config = _toml(tmp_path, "port = 9001\nmax_batch_rowz = 5\n[server]\nhost = 'x'\n")
    with pytest.raises(InvalidArgumentError) as info:
        _resolve("serve", "--config", str(config))
    assert "max_batch_rowz" in str(info.value) and "server" in str(info.value)
    assert str(config) in str(info.value)


def test_mistyped_toml_values_are_refused(tmp_path: Path) -> None:
    config = _toml(tmp_path, 'port = "eighty"\n')
    with pytest.raises(InvalidArgumentError, match="port expects int"):
        _resolve("serve", "--config", str(config))


def test_unknown_toml_keys_fail_the_command(tmp_path: Path, capsys) -> None:
    config = _toml(tmp_path, "bogus = 1\n")
    argv = ["token", "--config", str(config), "--tenant", "a", "--role", "reader"]
    assert main(argv) == 2
    assert "bogus" in capsys.readouterr().err


# fletchdb serve as a process -----------------------------------------------------------------
def _spawn(*argv: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLETCHDB_")}
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "flight_server", *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


_PUMPED: set[int] = set()  # pids whose stdout a Lines thread reads (and closes)


def _pumped(proc: subprocess.Popen[str]) -> bool:
    return proc.pid in _PUMPED


class Lines:
    """A process's stdout lines, read by a thread into a queue (select() cannot see the buffer)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self.proc, self.queue, self.seen = proc, queue.Queue[str | None](), list[str]()
        stream = proc.stdout
        _PUMPED.add(proc.pid)
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: Any) -> None:
        with stream:  # this thread owns stdout: it closes it at EOF
            for line in stream:
                self.queue.put(line)
        self.queue.put(None)

    def until(self, pattern: str, deadline: float) -> tuple[str, str]:
        """stdout so far up to the first line matching `pattern` (bounded by `deadline`)."""
        while True:
            try:
                line = self.queue.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} in time: {self.seen}") from None
            if line is None:
                raise AssertionError(f"the server exited ({self.proc.wait(5)}): {self.seen}")
            self.seen.append(line)
            if re.search(pattern, line):
                return "".join(self.seen), line.strip()


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:  # only the processes this test started, by their handle
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()
        if proc.stdout is not None and not _pumped(proc):
            proc.stdout.close()


def test_serve_prints_uri_and_token_answers_and_stops_on_sigterm(spawned, tmp_path: Path) -> None:
    data = tmp_path / "served"
    proc = _spawn("serve", "--path", str(data), "--port", "0")
    spawned.append(proc)
    deadline = time.monotonic() + STARTUP_SECONDS
    lines = Lines(proc)
    head, _ = lines.until(r"Development token", deadline)
    uri = re.search(r"grpc://127\.0\.0\.1:(\d+)", head)
    assert uri is not None, head
    assert int(uri.group(1)) > 0  # the port actually bound, not 0
    assert str(data.resolve()) in head
    _, token = lines.until(r"^\S+\.\S+\.\S+$", deadline)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["tenant"] == "*" and claims["role"] == "admin"

    quickstart, _ = lines.until(r"Ctrl-C stops the server", deadline)
    code = "\n".join(line[2:] for line in quickstart.splitlines() if line.startswith("  "))
    assert f'token="{token}"' in code
    exec(compile(code, "the printed quickstart", "exec"), {})  # it runs as printed
    t = FlightTransport(uri.group(0), token)
    try:
        assert t.heartbeat() > 0
        assert t.get_collection("docs", "default_tenant", "default_database").dimension == 2
    finally:
        t.close()
    bad = FlightTransport(uri.group(0), None)
    try:
        with pytest.raises(AuthenticationError):
            bad.heartbeat()
    finally:
        bad.close()

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert "Traceback" not in err, err
    assert _lock_is_free(data)  # the process released the data directory


def _lock_is_free(data: Path) -> bool:
    """The data directory can be opened again (the process released it)."""
    from flight_server.engine import Engine

    engine = Engine(data, Settings(compaction_enabled=False))
    try:
        return engine.count_collections("default_tenant", "default_database") == 1
    finally:
        engine.close()


def test_insecure_dev_on_a_public_host_is_refused(spawned, tmp_path: Path) -> None:
    data = tmp_path / "never"
    proc = _spawn(
        "serve", "--insecure-dev", "--host", "0.0.0.0", "--path", str(data), "--port", "0"
    )
    spawned.append(proc)
    out, err = proc.communicate(timeout=STARTUP_SECONDS)
    assert proc.returncode != 0
    assert "insecure_dev" in err and "0.0.0.0" in err and "refused" in err, err
    assert "Traceback" not in err
    assert "serving" not in out


def test_boolean_settings_can_be_turned_off_by_flag(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FLETCHDB_ALLOW_RESET", "true")
    s = _resolve("serve", "--no-compaction-enabled", "--no-allow-reset")
    assert s.compaction_enabled is False and s.allow_reset is False  # the flag beats env
    assert _resolve("serve").allow_reset is True


def test_a_port_in_use_is_a_clear_error_and_releases_the_directory(serve, tmp_path: Path) -> None:
    from flight_server.engine import Engine
    from flight_server.errors import UnavailableError
    from flight_server.serve import start_server

    taken = serve().service.port
    second = tmp_path / "second"
    with pytest.raises(UnavailableError, match=f"Cannot serve at grpc://127.0.0.1:{taken}"):
        start_server(Settings(path=str(second), port=taken, auth_secret="s" * 40))
    Engine(second, Settings(compaction_enabled=False)).close()  # DataDirLockedError if held


# CLI frictions (issue 18) -----------------------------------------------------------------------
def _run(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLETCHDB_")}
    return subprocess.run(
        [sys.executable, "-m", "flight_server", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
    )


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"], ["token", "--help"]])
def test_help_prints_every_setting(argv: list[str]) -> None:
    # a `%` in a setting's help once made argparse print its internal dict instead
    done = _run(*argv)
    assert done.returncode == 0, done.stderr
    assert "--hnsw-search-ef" in done.stdout and "+25% search time" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_bare_fletchdb_prints_help_and_starts_nothing(tmp_path: Path) -> None:
    done = _run(cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout.startswith("usage: fletchdb") and "serve" in done.stdout
    assert not (tmp_path / "fletchdb_data").exists()  # no data directory, no server


def test_token_from_the_wrong_folder_is_refused(tmp_path: Path) -> None:
    done = _run("token", "--tenant", "acme", "--role", "admin", cwd=tmp_path)
    assert done.returncode == 2
    expected = (
        f"fletchdb: error: No server secret at {tmp_path.resolve()}/fletchdb_data/auth_secret"
    )
    assert done.stderr.startswith(expected)
    assert done.stdout == "" and not (tmp_path / "fletchdb_data").exists()


@pytest.mark.parametrize("ttl", ["0", "0s", "-5m", "inf", "nan"])
def test_a_ttl_that_is_not_positive_is_refused(tmp_path: Path, ttl: str) -> None:
    done = _run(
        "token", "--auth-secret", SECRET, "--tenant", "*", "--role", "admin", f"--ttl={ttl}"
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "fletchdb: error: ttl must be a positive, finite duration (0 or less mints an expired "
        f"token), got {ttl!r}\n"
    )


def test_token_with_the_server_folder_still_mints(serve, capsys, tmp_path: Path) -> None:
    data = tmp_path / "data"
    serve(path=str(data), auth_secret="")  # the server made and kept its secret
    token = _mint(capsys, "--path", str(data), "--tenant", "*", "--role", "admin", "--ttl", "1m")
    secret = (data / "auth_secret").read_bytes()
    assert jwt.decode(token, secret, algorithms=["HS256"])["role"] == "admin"
