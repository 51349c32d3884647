"""Start the real app (``healthspace serve``) in a subprocess on a free local port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import TEST_MASTER_KEY

HEALTHSPACE = Path(sys.executable).with_name("healthspace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_env(home: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHSPACE_")}
    env.update(HEALTHSPACE_HOME=str(home), HEALTHSPACE_MASTER_KEY=TEST_MASTER_KEY)
    if database_url:
        env["HEALTHSPACE_DATABASE_URL"] = database_url
    return env


@contextmanager
def running_server(
    home: Path, *args: str, database_url: str | None = None, timeout: float = 60.0
) -> Iterator[str]:
    """Yield the base URL once /healthz answers; stop the server afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [str(HEALTHSPACE), "serve", "--port", str(port), *args],
        env=cli_env(home, database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                raise RuntimeError(f"the server stopped: {output}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer /healthz in time")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
