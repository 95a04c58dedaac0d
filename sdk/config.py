"""`fletchdb.config.Settings`: FletchDB's settings, also taking the Chroma settings that apply.

`from chromadb.config import Settings` becomes `from fletchdb.config import Settings`. Every name
of docs/settings.md is accepted; of chromadb's own settings, `allow_reset` is the same setting,
`is_persistent` and `persist_directory` choose where `fletchdb.Client(settings)` keeps its data,
and `anonymized_telemetry` is accepted and ignored (FletchDB sends no telemetry). Any other name
raises InvalidArgumentError naming it (docs/chroma-compat.md).
"""

from __future__ import annotations

from typing import Any

from flight_server.api import Settings as EngineSettings

from .errors import InvalidArgumentError

CHROMA_ONLY = ("is_persistent", "persist_directory", "anonymized_telemetry")


class Settings(EngineSettings):
    """Resolved settings (defaults < FLETCHDB_<NAME> environment < keywords), Chroma's names too."""

    def __init__(self, **overrides: Any) -> None:
        chroma = {k: overrides.pop(k) for k in CHROMA_ONLY if k in overrides}
        try:
            super().__init__(**overrides)
        except InvalidArgumentError as exc:
            if not str(exc).startswith("Unknown setting"):
                raise
            raise InvalidArgumentError(
                f"{exc}. FletchDB's settings are listed in docs/settings.md; of chromadb's it "
                f"takes allow_reset and {', '.join(CHROMA_ONLY)}"
            ) from None
        self.is_persistent = bool(chroma.get("is_persistent", False))
        self.persist_directory = str(chroma.get("persist_directory", "./fletchdb_data"))
        self.anonymized_telemetry = bool(chroma.get("anonymized_telemetry", False))


__all__ = ["EngineSettings", "Settings"]
