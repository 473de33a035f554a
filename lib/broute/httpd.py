"""The web server's I/O half: asyncio streams, the same code on the stick (MicroPython) and the PC
(CPython), serving docs/http.md's four paths from a source object (its protocol: broute.web).

It must never get in the way of the meter link (issue 11), so every client is bounded:
at most `conns` at once (one more is answered 503 and closed at once), the whole request head
within HEAD_MS (a head sent a byte at a time gets 408) and HEAD_MAX bytes (431), each write
drained within IO_MS (a client that never reads is dropped), one request per connection. One
buffer of CHUNK bytes serves every connection: a body is built into it and written without an
await in between (StreamWriter.write copies what the socket does not take), and the page file
is streamed through it chunk by chunk (never read whole into RAM), gzip-encoded when its name
ends in .gz (the stick's flash holds page.html.gz). broute.web, the parser and the bodies, is
imported for the connections: with `drop` (the stick) it leaves the heap when the last one ends
(docs/http.md section 4 has what that saves).
"""
import asyncio
import sys
from .compat import const, ticks_ms, ticks_diff, ticks_add, wait_ms

CONNECTIONS = const(4)
HEAD_MS = const(5000)
IO_MS = const(5000)
CHUNK = const(512)
_READ = const(256)
_BUSY_MS = const(200)
_TYPES = ("text/html; charset=utf-8", "application/json", "application/json",
          "text/plain; version=0.0.4; charset=utf-8")
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            408: "Request Timeout", 414: "URI Too Long", 431: "Request Header Fields Too Large"}
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Server:
    """`await start(host, port)`, `await close()`; `served`, `refused` (503) and `dropped`
    (timed out or broken) count connections."""

    def __init__(self, source, page, conns=CONNECTIONS, drop=False):
        self.source = source
        self.page = page            # the page's file: served gzip-encoded when it ends in .gz
        self.conns = conns
        self.drop = drop            # forget broute.web between connections
        self.buf = bytearray(CHUNK)
        self.busy = 0
        self.served = self.refused = self.dropped = 0
        self._srv = None

    async def start(self, host, port):
        self._srv = await asyncio.start_server(self._conn, host, port)

    async def close(self):
        """Stop listening (also a listener left by an event loop that ended: a crash-retried app)."""
        s, self._srv = self._srv, None
        if s:
            s.close()
            try:
                await wait_ms(s.wait_closed(), 1000)  # CPython's waits for open connections too
            except Exception:
                pass

    async def _conn(self, r, w):
        if self.busy >= self.conns:
            self.refused += 1
            try:
                w.write(_BUSY)  # no drain: what the socket does not take at once is lost
                # the request read (briefly) before closing: closing on unread bytes sends a
                # TCP reset, and the client would lose the 503 (RFC 9112 section 9.6)
                await wait_ms(r.read(_READ), _BUSY_MS)
            except Exception:
                pass
            await _close(w)
            return
        self.busy += 1
        try:  # one coroutine per connection (each is a request's garbage): the request served here
            from . import web
            h = web.Head()
            end = ticks_add(ticks_ms(), HEAD_MS)
            while not h.status:
                left = ticks_diff(end, ticks_ms())
                try:
                    if left <= 0:
                        raise asyncio.TimeoutError
                    data = await wait_ms(r.read(_READ), left)
                except asyncio.TimeoutError:
                    h.status = 408
                    break
                if not data:
                    break  # the client went before its head ended: nothing to answer
                h.feed(data)
            p = h.path
            if not h.status:
                pass
            elif h.status != 200:
                self._head(w, h.status, "text/plain", 0)  # the status line says it all
            elif p == 0:  # the page
                await self._file(w, h.head_only)
            else:
                self._head(w, 200, _TYPES[p])
                if not h.head_only:
                    o = web.Out(self.buf, w.write)
                    web.fill(o, self.source, p, h.line)  # its section of web.tpl
                    o.flush()
            await wait_ms(w.drain(), IO_MS)
            self.served += 1
        except Exception:  # a timeout, a reset, a broken pipe: the client's trouble, not ours
            self.dropped += 1
        finally:
            self.busy -= 1
            try:  # _close's, inline: its coroutine would be a request's garbage
                w.close()
                await wait_ms(w.wait_closed(), 1000)
            except Exception:
                pass
            if self.drop and not self.busy:
                sys.modules.pop("broute.web", None)  # as firmware/app.py's drop()
                try:
                    delattr(sys.modules["broute"], "web")
                except (KeyError, AttributeError):
                    pass

    async def _file(self, w, head_only):
        import os
        try:
            size = os.stat(self.page)[6]
            f = open(self.page, "rb")
        except OSError:
            self._head(w, 404, "text/plain", 0)
            return
        with f:
            self._head(w, 200, _TYPES[0], size, self.page.endswith(".gz"))
            if head_only:
                return
            mv = memoryview(self.buf)
            while True:
                n = f.readinto(self.buf)
                if not n:
                    return
                w.write(mv[:n])
                await wait_ms(w.drain(), IO_MS)

    def _head(self, w, status, ctype, length=None, gz=False):
        w.write(("HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%s%s%sCache-Control: no-store\r\n"
                "Connection: close\r\n\r\n" % (
                    status, _REASONS[status], ctype,
                    "" if length is None else "Content-Length: %d\r\n" % length,
                    "Content-Encoding: gzip\r\n" if gz else "",
                    "Allow: GET, HEAD\r\n" if status == 405 else "")).encode())


async def _close(w):
    try:
        w.close()
        await wait_ms(w.wait_closed(), 1000)
    except Exception:
        pass
