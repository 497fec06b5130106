"""A TCP proxy on 127.0.0.1 that can stop answering: a MongoDB server turned slow.

Every connection is relayed to the upstream server both ways until ``stall`` is set; from
then on what the client sends still reaches the server, but no answer comes back, as from
a server busy with a slow query. Its clients connect through :attr:`port`.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Self


class StallProxy:
    """Relays 127.0.0.1:``port`` to ``upstream`` until told to stall.

    Args:
        upstream: the server's (host, port).
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.stall = threading.Event()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream)
            self._sockets += [client, server]
            threading.Thread(target=self._relay, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._relay, args=(server, client, True), daemon=True).start()

    def _relay(self, source: socket.socket, target: socket.socket, answers: bool) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            if answers and self.stall.is_set():
                continue  # the answer is swallowed: the client waits for it in vain
            try:
                target.sendall(data)
            except OSError:
                return

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._closed.set()
        for sock in self._sockets:
            sock.close()
