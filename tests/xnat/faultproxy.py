"""A fault-injecting TCP proxy for tests: forwards loopback connections to an upstream server and,
once ``cut_after`` bytes (both directions, all connections) have passed, resets every open
connection and refuses new ones (the network is down) until :meth:`heal`."""
from __future__ import annotations

import socket
import struct
import threading


class FaultProxy:
    def __init__(self, upstream_port: int, cut_after: int | None = None):
        self.upstream = ("127.0.0.1", upstream_port)
        self.cut_after = cut_after
        self.passed = 0
        self.down = False
        self.cuts = 0
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def heal(self) -> None:
        with self._lock:
            self.down, self.cut_after = False, None

    def close(self) -> None:
        self._stop = True
        self._listener.close()
        self._reset_all()

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        try:  # SO_LINGER 0: close with a TCP reset, as a dropped connection looks to the peer
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:  # wakes a thread blocked in recv() on it (close() alone would not)
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    def _reset_all(self) -> None:
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for s in conns:
            self._reset(s)

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.down:
                self._reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                self._reset(client)
                continue
            with self._lock:
                if self.down:
                    self._reset(client)
                    self._reset(server)
                    continue
                self._conns.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            with self._lock:
                if self.down:
                    self._reset(src)
                    self._reset(dst)
                    return
                cut = self.cut_after is not None and self.passed + len(data) >= self.cut_after
                if cut:
                    data = data[:max(0, self.cut_after - self.passed)]
                self.passed += len(data)
            try:
                if data:
                    dst.sendall(data)
            except OSError:
                return
            if cut:
                with self._lock:
                    self.down, self.cuts = True, self.cuts + 1
                self._reset_all()
                return
