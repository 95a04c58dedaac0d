"""A FletchDB server as a real subprocess (`python -m flight_server serve`), for kill tests and
benchmarks: it reads the bound URI from the first line the CLI prints ("... serving DIR at URI").

    with ServerProcess(path, {"auth_secret": SECRET, "compaction_tail_records": 200}) as server:
        client = fletchdb.FlightClient(server.uri, token=...)
        server.kill()  # SIGKILL, reaped
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

MAIN = Path(__file__).resolve().parent.parent.parent
START_TIMEOUT = 120.0  # seconds: a bound for interpreter start-up and recovery on a busy machine


class ServerProcess:
    """`python -m flight_server serve --path PATH --port 0 --<setting> <value> ...` in a child."""

    def __init__(
        self,
        path: str | Path,
        settings: dict[str, Any] | None = None,
        stderr: str | Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        flags = ["--path", str(path), "--host", "127.0.0.1", "--port", "0"]
        for name, value in (settings or {}).items():
            flag = "--" + name.replace("_", "-")
            if isinstance(value, bool):  # boolean settings are presence flags
                flags += [flag] if value else []
            else:
                flags += [flag, str(value)]
        self.stderr_path = Path(stderr) if stderr else Path(path).parent / f"server-{id(self)}.err"
        self._stderr: IO[bytes] = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flight_server", "serve", *flags],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            cwd=str(MAIN),
            env={**os.environ, "PYTHONPATH": str(MAIN), **(env or {})},
        )
        try:
            self.uri = self._read_uri()
        except BaseException:
            self.close()
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read_uri(self) -> str:
        """The URI from the CLI's first stdout line, waiting at most START_TIMEOUT seconds."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"server printed no URI in {START_TIMEOUT} s: {self.stderr()}")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                continue
            line = self.proc.stdout.readline().decode()
            if not line:
                raise RuntimeError(f"server exited ({self.proc.wait()}): {self.stderr()}")
            if " serving " in line and " at " in line:
                return line.rsplit(" at ", 1)[1].strip()

    def kill(self) -> int:
        """SIGKILL the server and reap it; its return code (-9)."""
        try:
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return self.proc.wait(timeout=60)

    def stop(self) -> int:
        """SIGTERM (a clean shutdown) and wait; the return code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=120)

    def rss_mib(self) -> tuple[float, float]:
        """(current VmRSS, peak VmHWM) of the server in MiB."""
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
        return fields["VmRSS"], fields["VmHWM"]

    def stderr(self) -> str:
        """The tail of what the server wrote to stderr."""
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")[-4000:]

    def close(self) -> None:
        """Make sure the process is gone (SIGKILL if still running) and files are closed."""
        if self.proc.poll() is None:
            self.kill()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
