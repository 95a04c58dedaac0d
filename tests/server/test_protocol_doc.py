"""docs/protocol.md's plain-pyarrow session runs against a real server, with no FletchDB client."""

from __future__ import annotations

import re
from pathlib import Path

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_protocol_doc_session_runs_with_plain_pyarrow(serve, mint, capsys) -> None:
    server = serve()
    (block,) = re.findall(r"```python\n(.*?)```", PROTOCOL.read_text(), flags=re.S)
    assert "fletchdb" not in block  # nothing but pyarrow and the documented JSON
    source = block.replace("grpc://127.0.0.1:8815", server.uri)
    exec(compile(source, "docs/protocol.md", "exec"), {"token": mint(role="writer")})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "{'seq': 1, 'rows': 2}"
    assert "'id': 'a'" in out[1] and "'query_index': 0" in out[1]
