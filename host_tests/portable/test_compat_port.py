"""compat.Port over a real TCP socket (the unix port's UART is one): reads, deadlines, EOF, drains.

Under MicroPython the polled path is taken and its allocation per call is asserted;
CPython runs the same cases through `clock.wait`.
"""
import asyncio
import gc
import socket
import sys

from broute import compat
from broute.skstack import Parser

MP = sys.implementation.name == "micropython"


def _listen():
    """A listening socket on 127.0.0.1 and its port (the unix port has no getsockname)."""
    base = 40000 + compat.ticks_ms() % 20000
    for port in range(base, base + 50):
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            srv.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
        except OSError:
            srv.close()
            continue
        srv.listen(1)
        return srv, port
    raise OSError("no free port")


async def connect():
    """(reader, writer, peer socket): asyncio streams on one end, a plain socket on the other."""
    srv, port = _listen()
    r, w = await asyncio.open_connection("127.0.0.1", port)
    if hasattr(w, "s"):  # no Nagle delay, as CPython's asyncio sets and as on a UART
        w.s.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY
    peer, _ = srv.accept()
    srv.close()
    return r, w, peer


def _run(body):
    async def main():
        r, w, peer = await connect()
        try:
            await body(compat.Port(r, w, compat.Clock()), peer)
        finally:
            peer.close()
            w.close()
    asyncio.run(main())


async def _read(port, p, ms):
    """Port.read until data, the end of the stream, or `ms` (as the session's _event does)."""
    deadline = compat.ticks_add(compat.ticks_ms(), ms)
    while True:
        left = compat.ticks_diff(deadline, compat.ticks_ms())
        if left <= 0:
            return None
        await port.read(p, left)
        if port.n is not None:
            return port.n


def test_bytes_are_read_as_they_come():
    async def body(port, peer):
        assert port.polled == MP
        p = Parser()
        peer.send(b"OK\r\n")
        assert await _read(port, p, 2000) == 4
        assert p.next() == 1  # OK
    _run(body)


def test_the_deadline_passes_without_bytes():
    async def body(port, peer):
        p = Parser()
        t0 = compat.ticks_ms()
        assert await _read(port, p, 120) is None
        assert compat.ticks_diff(compat.ticks_ms(), t0) >= 120
    _run(body)


def test_end_of_stream_reads_zero():
    async def body(port, peer):
        peer.close()
        assert await _read(port, Parser(), 2000) == 0
    _run(body)


def test_writes_are_drained_and_arrive():
    async def body(port, peer):
        port._w.write(b"SKVER\r\n")
        await port.drain(1000)
        peer.settimeout(2)
        assert peer.recv(16) == b"SKVER\r\n"
    _run(body)


def test_a_polled_wait_and_read_allocate_nothing():
    """The firmware's path: a 100-slice idle wait and 50 reads of a few bytes each."""
    if not MP:
        return

    async def body(port, peer):
        p = Parser()
        await _read(port, p, 1)  # warm up
        gc.collect()
        gc.disable()
        a = gc.mem_alloc()
        for _ in range(100):
            await port.read(p, 1000)
        idle = gc.mem_alloc() - a
        gc.enable()
        assert idle <= 16, idle
        got = 0
        for _ in range(50):
            peer.send(b"EVENT 21\r\n")
            await asyncio.sleep_ms(5)
            gc.collect()
            gc.disable()
            a = gc.mem_alloc()
            await port.read(p, 1000)
            port._w.write(b"x")
            await port.drain(1000)
            got += gc.mem_alloc() - a
            gc.enable()
            assert port.n == 10 and p.next() == 3 and p.next() == 0  # as the session does
        assert got <= 16, got
    _run(body)
