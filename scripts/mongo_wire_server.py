"""A MongoDB wire-protocol server for the tests: mongoeco's proxy over an in-memory engine.

Runs under the Python 3.13 environment that ``scripts/dev test`` makes for it
(``.venv-mongo``, with ``mongoeco[wire]``), never under pas's own venv::

    .venv-mongo/bin/python scripts/mongo_wire_server.py --uri-file /tmp/uri

It listens on 127.0.0.1 on a port the kernel picks (so two runs never collide), writes
``mongodb://127.0.0.1:PORT/?directConnection=true`` to the URI file once it accepts
connections (written whole, then renamed, so a reader never sees half a line), and stops
on SIGTERM or SIGINT, or when the process that started it is gone, so a test run that is
killed never leaves a server behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from pathlib import Path

from mongoeco.engines.memory import MemoryEngine
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

HOST = "127.0.0.1"
PARENT_POLL_SEC = 0.5  # how often to look whether the parent still runs


def write_whole(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` so that a reader sees either nothing or all of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


async def serve(uri_file: Path) -> None:
    """Serves until a stop signal arrives or the parent process ends.

    Args:
        uri_file: where to write the server's URI once it accepts connections.
    """
    parent = os.getppid()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncMongoEcoProxyServer(engine=MemoryEngine(), host=HOST, port=0) as server:
        write_whole(uri_file, server.address.uri + "\n")
        # An orphan is re-parented (to init or a subreaper), so a changed parent id means
        # the test run that needed this server has ended.
        while os.getppid() == parent and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PARENT_POLL_SEC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri-file", type=Path, required=True, help="file to write the server's URI to")
    args = parser.parse_args()
    asyncio.run(serve(args.uri_file))


if __name__ == "__main__":
    main()
