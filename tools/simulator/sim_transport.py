"""Byte pipes between a Module and a client: a TCP port or a pseudo-terminal.

The only I/O of the simulator. One loop moves bytes: input to
`Module.feed`, whatever `Module.read` returns back out, waking up when the
module next has something due. Simulated time is wall time divided by the
time scale, so `--time-scale 0.01` makes a 17.5 s scan take 0.175 s.
"""
import fcntl
import os
import select
import socket
import threading
import time
import tty

_SECRETS = (b"SKSETPWD", b"SKSETRBID")
_J11_REQ = b"\xd0\xea\x83\xfc"       # a J11 request; 0054 carries the ID and password
_J11_CRED = _J11_REQ + b"\x00\x54"
_POLL = 0.05   # s: longest sleep, so stop() and injected faults act promptly


class Clock:
    """Simulated seconds since start: real seconds / scale."""

    def __init__(self, scale=1.0):
        self.scale = scale
        self._t0 = time.monotonic()

    def now(self):
        return (time.monotonic() - self._t0) / self.scale

    def wait_for(self, due):
        """Real seconds until simulated time `due`."""
        return max(0.0, (due - self.now()) * self.scale)


def mask(data):
    """Traffic for the log, each line's credentials cut off after the command name; a J11
    0054 frame keeps its header up to the header checksum, the rest is `****`."""
    i = data.find(_J11_CRED)
    while i >= 0:
        end = i + 8 + int.from_bytes(data[i + 6:i + 8], "big")
        data = data[:i + 10] + b"****" + data[end:]
        i = data.find(_J11_CRED, i + 14)
    lines = data.split(b"\n")
    for n, line in enumerate(lines):
        for word in _SECRETS:
            i = line.find(word)
            if i >= 0:
                lines[n] = line[:i + len(word)] + b" ****"
    return b"\n".join(lines)


class Server:
    """Serves one Module over TCP (one client at a time) or a pty."""

    def __init__(self, module, scale=1.0, log=None):
        self.module = module
        self.clock = Clock(scale)
        self.lock = threading.Lock()
        self.log = log
        self._listener = self._client = None
        self._master = self._slave = None
        self._link = None
        self._stop = False
        self._thread = None
        self._inlog = bytearray()
        self.controls = {}    # extra fd -> callback(fd), e.g. stdin commands

    def open_tcp(self, host, port):
        """Listen; returns the (host, port) bound, so port 0 picks a free one."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(1)
        self._listener = s
        return s.getsockname()

    def open_pty(self, path):
        """Make `path` a symlink to a raw pty slave; returns the slave's name."""
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no CR/LF translation, no tty echo
        fl = fcntl.fcntl(self._master, fcntl.F_GETFL)
        fcntl.fcntl(self._master, fcntl.F_SETFL, fl | os.O_NONBLOCK)
        name = os.ttyname(self._slave)
        if os.path.islink(path):
            os.unlink(path)
        os.symlink(name, path)
        self._link = path
        return name

    def inject(self, spec):
        with self.lock:
            self.module.inject(spec, self.clock.now())

    def start(self):
        self._thread = threading.Thread(target=self.serve, daemon=True)
        self._thread.start()
        return self

    def request_stop(self):
        self._stop = True

    def stop(self):
        self._stop = True
        if self._thread is not None:
            self._thread.join(5)
        self.close()

    def close(self):
        for s in (self._client, self._listener):
            if s is not None:
                s.close()
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        if self._link and os.path.islink(self._link):
            os.unlink(self._link)
        self._client = self._listener = self._master = self._slave = self._link = None

    def serve(self):
        while not self._stop:
            due = self.module.next_due()
            wait = _POLL if due is None else min(_POLL, self.clock.wait_for(due))
            ready, _, _ = select.select(self._inputs(), [], [], wait)
            for src in ready:
                if src in self.controls:
                    self.controls[src](src)
                    continue
                with self.lock:
                    self._receive(src)
            with self.lock:
                self._send(self.module.read(self.clock.now()))

    def _inputs(self):
        fds = list(self.controls)
        if self._master is not None:
            fds.append(self._master)
        elif self._client is not None:
            fds.append(self._client)
        else:
            fds.append(self._listener)  # one client at a time: the next waits in the backlog
        return fds

    def _receive(self, src):
        if src is self._listener:
            self._client, addr = self._listener.accept()
            self._client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._say("client connected from %s:%d" % addr)
            return
        try:
            data = os.read(src, 4096) if src == self._master else src.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            if src is self._client:
                self._client.close()
                self._client = None
                self._say("client disconnected")
            return
        if self.log:
            self._log_input(data)
        self.module.feed(data, self.clock.now())

    def _send(self, out):
        if not out:
            return
        if self.log:
            self.log("<< " + repr(mask(out)))  # the echo repeats the secrets
        try:
            if self._master is not None:
                os.write(self._master, out)
            elif self._client is not None:
                self._client.sendall(out)
        except BlockingIOError:
            self._say("pty full: output dropped (no client reading)")
        except OSError as e:
            self._say("send failed: %s" % e)

    def _log_input(self, data):
        """Log whole lines only (J11: whole frames), so a secret split across reads is still masked."""
        self._inlog += data
        held = _j11_held(self._inlog)
        if held is not None:
            if held:
                self.log(">> " + repr(mask(bytes(self._inlog[:held]))))
                del self._inlog[:held]
            return
        end = max(self._inlog.rfind(b"\r"), self._inlog.rfind(b"\n"))
        if end >= 0 or len(self._inlog) > 512:
            end = end if end >= 0 else len(self._inlog) - 1
            self.log(">> " + repr(mask(bytes(self._inlog[:end + 1]))))
            del self._inlog[:end + 1]

    def _say(self, msg):
        if self.log:
            self.log(msg)


def _j11_held(buf):
    """None for text; else how many leading bytes hold whole J11 frames (the rest waits)."""
    tail = [k for k in (1, 2, 3) if buf.endswith(_J11_REQ[:k])]
    i = buf.find(_J11_REQ)
    if i < 0:
        return len(buf) - tail[-1] if tail else None
    while i >= 0:
        if len(buf) < i + 8:
            return i
        n = int.from_bytes(buf[i + 6:i + 8], "big")
        if n > 1262:                    # longer than any request: not a frame
            n = 0
        elif len(buf) < i + 8 + n:
            return i
        i = buf.find(_J11_REQ, i + max(8 + n, 4))
    return len(buf) - tail[-1] if tail else len(buf)
