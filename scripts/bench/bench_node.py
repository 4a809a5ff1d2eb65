"""A fusion node for the benches that drive one through the SDK (``batch``, ``verify``)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def start_node(data_dir: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    """``idfuse node start`` on ``data_dir`` (ephemeral ports, 0.05 s blocks, its log in
    ``data_dir``'s parent), once its ``endpoints.json`` names the resolver: the process and the
    endpoints. Exits the bench when the node dies or is not up within 60 s."""
    idfuse = Path(sys.executable).with_name("idfuse")
    args = ["node", "start", "--data-dir", str(data_dir), "--rpc-port", "0", "--resolver-port", "0"]
    log = (data_dir.parent / "node.log").open("wb")
    process = subprocess.Popen([str(idfuse), *args, "--block-period", "0.05"], stdout=log, stderr=log)
    endpoints = data_dir / "endpoints.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the node exited: {(data_dir.parent / 'node.log').read_text()}")
        try:
            found = json.loads(endpoints.read_text())
            if "resolver_url" in found:
                return process, found
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.05)
    process.kill()
    sys.exit("the node did not start within 60 s")
