"""Fixtures for the crash tests: worker processes and reopening a data directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fletchdb
import pytest

from .ingest_worker import MAIN

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ingest_worker.py")


class Worker:
    """A running worker script (`ingest_worker.py` unless told); stdout unbuffered, so the parent
    can read byte by byte."""

    def __init__(
        self, config: dict[str, Any], log_dir: Path, stdin: bool = False, script: str = WORKER
    ) -> None:
        self.stderr_path = log_dir / f"worker-{os.getpid()}-{id(self)}.stderr"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, script, json.dumps(config)],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            bufsize=0,
            cwd=MAIN,
        )
        assert self.proc.stdout is not None
        self.stdout = self.proc.stdout

    def readline(self) -> str:
        """The next whole line (empty at EOF)."""
        return self.stdout.readline().decode()

    def read_byte(self) -> bytes:
        """One byte of output (b'' at EOF)."""
        return self.stdout.read(1)

    def kill(self) -> list[str]:
        """SIGKILL the worker, reap it, and return the rest of its output as lines."""
        try:
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=60)
        return self.drain()

    def drain(self) -> list[str]:
        """Everything left on stdout (waits for EOF) as whole lines."""
        rest = self.stdout.read() or b""
        return rest.decode().splitlines()

    def wait(self, timeout: float = 120) -> tuple[int, list[str]]:
        """Wait for the worker to exit: (return code, remaining output lines)."""
        lines = self.drain()
        return self.proc.wait(timeout=timeout), lines

    def stderr(self) -> str:
        """What the worker wrote to stderr so far."""
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")[-4000:]

    def close(self) -> None:
        """Make sure the process is gone and files are closed."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=60)
        self.stdout.close()
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self._stderr.close()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start workers; every one still running at the end of the test is killed."""
    workers: list[Worker] = []

    def start(config: dict[str, Any], stdin: bool = False, script: str = WORKER) -> Worker:
        worker = Worker(config, tmp_path, stdin, script)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.close()


@contextmanager
def reopened(path: str | Path, **settings: Any) -> Iterator[fletchdb.Client]:
    """A client on `path` without the background compactor (unless asked), closed afterwards."""
    client = fletchdb.PersistentClient(
        str(path), settings=fletchdb.Settings(**{"compaction_enabled": False, **settings})
    )
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def reopen() -> Callable[..., Any]:
    """`reopen(path, **settings)`: a context manager yielding a client without background compaction."""
    return reopened
