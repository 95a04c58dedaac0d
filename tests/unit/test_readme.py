"""The README runs as a reader runs it: the first command's server, then every snippet in order.

The server is `fletchdb serve` with no flags, as the README's first command ends, in a fresh
directory: it serves ./fletchdb_data on grpc://127.0.0.1:8815 and prints a development token
and a quickstart. The test pastes that quickstart, then runs every ```python block of the
README in order, each in a fresh namespace, all in that directory while the server runs. The
one edit is the one the README asks for: the printed token goes into the `token = "..."` line.
Runs of this test on one machine take turns (a file lock), since the port is the README's.

The docs/*.md examples run too, in order per page in a fresh directory: a block that starts with
an import and opens a client is a whole example and runs (docs/protocol.md's against the same
server, with the `token` the reader has); a block that continues the prose with names it does
not define (`collection.add(table)`, `Knn(query=vector)`) is checked to compile.
"""

from __future__ import annotations

import fcntl
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
COMMANDS = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
TOKEN_LINE = re.compile(r'^token = "[^"\n]*"', flags=re.M)
FLETCHDB = Path(sys.executable).with_name("fletchdb")  # the console script of this venv
LOCK = Path("/tmp/fletchdb-readme-8815.lock")
DOCS = sorted((ROOT / "docs").glob("*.md"))


@dataclass
class Served:
    """The README's server: its directory, the token and quickstart it printed."""

    cwd: Path
    token: str
    quickstart: str


def _read_banner(proc: subprocess.Popen[bytes], deadline: float) -> str:
    """The server's stdout up to 'Ctrl-C stops the server.' (it prints that once serving)."""
    assert proc.stdout is not None
    fd, data = proc.stdout.fileno(), b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while b"Ctrl-C stops the server." not in data:
            left = deadline - time.monotonic()
            assert left > 0 and sel.select(left), f"no banner from fletchdb serve: {data!r}"
            chunk = os.read(fd, 65536)
            assert chunk, f"fletchdb serve exited ({proc.wait()}): {data!r}, see its log"
            data += chunk
    return data.decode()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`fletchdb serve` in a fresh directory, as the README's first command starts it."""
    assert COMMANDS[0].strip().endswith(".venv/bin/fletchdb serve"), COMMANDS[0]
    cwd = tmp_path_factory.mktemp("reader")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLETCHDB_")}
    log = cwd.parent / f"{cwd.name}-server.log"  # stderr to a file: a pipe nobody reads can fill
    with open(LOCK, "w") as lock, open(log, "wb") as stderr:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.Popen(
            [str(FLETCHDB), "serve"], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=stderr
        )
        try:
            banner = _read_banner(proc, time.monotonic() + 60)
            token = banner.split("Development token (admin of every tenant, 30 days):\n")[1]
            quickstart = banner.split("\n\n")[2]
            yield Served(cwd, token.split("\n")[0].strip(), quickstart)
        finally:
            proc.send_signal(signal.SIGINT)  # Ctrl-C, as the banner says
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, log.read_text()


def _run(source: str, name: str, cwd: Path, **names: object) -> None:
    here = Path.cwd()
    os.chdir(cwd)
    try:
        exec(compile(source, name, "exec"), {"__name__": "__readme__", **names})
    finally:
        os.chdir(here)


def test_server_serves_the_documented_defaults(served: Served) -> None:
    assert (
        "serves\n`./fletchdb_data` on `grpc://127.0.0.1:8815`" in README
        and (served.cwd / "fletchdb_data").is_dir()
    )
    assert "grpc://127.0.0.1:8815" in served.quickstart and served.token.startswith("eyJ")


def test_printed_quickstart_then_every_readme_block_in_order(served: Served) -> None:
    """What a reader pastes, in the order they read it, against the one running server."""
    printed = "\n".join(line.removeprefix("  ") for line in served.quickstart.splitlines())
    _run(printed, "fletchdb serve's quickstart", served.cwd)
    assert sum(bool(TOKEN_LINE.search(b)) for b in BLOCKS) == 1, "one place to paste the token"
    for number, block in enumerate(BLOCKS):
        source = TOKEN_LINE.sub(f"token = {served.token!r}", block)
        _run(source, f"README.md[python block {number}]", served.cwd)


def test_the_embedded_quickstart_keeps_off_the_servers_directory() -> None:
    """The server holds ./fletchdb_data's lock; an embedded client there would get DataDirLockedError."""
    embedded = next(b for b in BLOCKS if "PersistentClient(" in b)
    assert "./fletchdb_data" not in embedded


@pytest.mark.parametrize("page", DOCS, ids=[p.name for p in DOCS])
def test_docs_examples_run(page: Path, served: Served, tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    for number, block in enumerate(blocks):
        name = f"{page.name}[python block {number}]"
        if re.match(r"(import|from) ", block) and "Client(" in block:
            _run(block, name, tmp_path, token=served.token)
        else:
            compile(block, name, "exec")
