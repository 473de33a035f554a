"""Fixtures for the session tests: imported, never collected (the name does not start with test_,
so neither pytest nor host_tests/mprun.py runs it). FakeModule is the one scripted SKSTACK module;
LeanModule is the same module (a subclass: its meter, events and replies) delivering from a fixed
queue without allocating, to measure the session; VClock and LeanClock are virtual clocks.

The module answers SKSTACK IP commands the way docs/protocol.md describes, from a tiny meter;
its output is delivered at virtual times and read back in small fragments. The clock jumps
to the next delivery instead of sleeping, so minutes of protocol take milliseconds.
"""
import asyncio
import io
import select

MAC = "001D129012345678"
IP = b"FE80:0000:0000:0000:021D:1290:1234:5678"
ME = b"FE80:0000:0000:0000:021D:1290:0003:C890"
OTHER = b"FE80:0000:0000:0000:021D:1290:9999:9999"
RBID = "00112233445566778899AABBCCDDEEFF"
PWD = "0123456789AB"
_SPINS = 100000  # loop turns without virtual time passing before run() calls it a hang


class VClock:
    """The session's clock in integer virtual milliseconds over `mod`, whatever plays the
    module: its release(now) delivers the output due, next_due() says when the next is. The
    FakeModule here, and tools/simulator/sim_vlink.py's Link to the simulator, which uses this class."""

    def __init__(self):
        self.now = 0
        self.mod = None

    def ticks_ms(self):
        return self.now & 0x3FFFFFFF

    def _advance(self, t):
        if t > self.now:
            self.now = t
        self.mod.release(self.now)

    async def sleep_ms(self, ms):
        self._advance(self.now + ms)
        await asyncio.sleep(0)

    async def wait(self, coro, ms):
        """asyncio.wait_for in virtual time. The inner task never outlives the call, and a
        cancellation of the caller is never swallowed (it used to be, when the deadline and
        the end of a run() coincided: the session then ran on forever)."""
        task = asyncio.create_task(coro)
        deadline = self.now + ms
        try:
            while True:
                for _ in range(3):
                    await asyncio.sleep(0)
                if task.done():
                    return await task
                t = self.mod.next_due()
                if t is None or t > deadline:
                    self._advance(deadline)
                    raise asyncio.TimeoutError()
                # at least 1 ms on: the simulator's times are float seconds rounded up to a
                # millisecond, and an output due now but not released must not spin here
                self._advance(t if t > self.now else self.now + 1)
        finally:
            if not task.done():
                task.cancel()


def _hexs(b):
    return "".join("%02X" % x for x in b).encode()


class FakeModule:
    """Reader and writer in one; `sent` records every command line (and frames) written."""

    def __init__(self, clock, dual=False, hexdata=False, chunk=7, echo=True):
        self.clock = clock
        clock.mod = self
        self.dual, self.hexdata, self.chunk, self.echo = dual, hexdata, chunk, echo
        self.sched = []          # (time, bytes)
        self.avail = bytearray()
        self.inbuf = b""
        self.sent = []           # command words and ("FRAME", bytes)
        self.frame_times = []    # virtual time of each SKSENDTO
        self.pwd_ok = True
        self.scan_min = 4        # the meter answers scans of at least this duration
        self.visible = True
        self.silent = False      # the module stops answering
        self.drop = 0            # the meter ignores this many requests
        self.refuse = None       # a command word answered FAIL ER06 (a value the module cannot take)
        self.session = False
        self.power = 686
        self.currents = (60, 10)  # R and T in 0.1 A, consistent with the power at 100 V
        self.before_reply = b""  # injected ahead of the next reply (garbage, stale frames)

    # --- stream interface ---
    def write(self, b):
        self.inbuf += bytes(b)
        self._process()

    async def drain(self):
        pass

    async def read(self, n):
        while not self.avail:
            await asyncio.sleep(0)
        k = min(n, self.chunk, len(self.avail))
        out = bytes(self.avail[:k])
        self.avail = self.avail[k:]
        return out

    def release(self, now):
        keep = []
        for t, b in self.sched:
            if t <= now:
                self.avail += b
            else:
                keep.append((t, b))
        self.sched = keep

    def next_due(self):
        return min(t for t, _ in self.sched) if self.sched else None

    def at(self, delay, data):
        self.sched.append((self.clock.now + delay, data))

    # --- module ---
    def event(self, num, param=None, ip=IP):
        side = b" 0" if self.dual else b""
        p = b"" if param is None else b" %02X" % param
        return b"EVENT %02X %s%s%s\r\n" % (num, ip, side, p)

    def erxudp(self, frame, src=IP, port=0x0E1A):
        side = b" 0" if self.dual else b""
        data = _hexs(frame) if self.hexdata else bytes(frame)
        return b"ERXUDP %s %s %04X %04X %s 1%s %04X %s\r\n" % (
            src, ME, port, port, MAC.encode(), side, len(frame), data)

    def _process(self):
        while True:
            buf = self.inbuf
            if buf.startswith(b"SKSENDTO "):
                spaces = 7 if self.dual else 6
                i, k = 0, 0
                while k < spaces:
                    i = buf.find(b" ", i) + 1
                    if i == 0:
                        return
                    k += 1
                n = int(bytes(buf[i - 5:i - 1]), 16)
                if len(buf) < i + n:
                    return
                frame = bytes(buf[i:i + n])
                self.inbuf = buf[i + n:]
                self._sendto(frame)
                continue
            j = buf.find(b"\r\n")
            if j < 0:
                return
            line = bytes(buf[:j])
            self.inbuf = buf[j + 2:]
            self._command(line)

    def _command(self, line):
        words = line.split(b" ")
        cmd = str(words[0], "ascii")
        self.sent.append(cmd)
        if self.silent or not cmd:
            return
        out = line + b"\r\n" if self.echo and not cmd.startswith("SKSETPWD") else b""
        if cmd == self.refuse:
            self.at(5, out + b"FAIL ER06\r\n")
            return
        if cmd == "SKSREG" and words[1] == b"SFE":
            self.echo = words[2] == b"1"
        if cmd == "SKVER":
            out += b"EVER 1.2.10\r\n"
        elif cmd == "SKINFO":
            out += b"EINFO %s %s 21 FFFF %s\r\n" % (ME, b"001D129000003C89", b"0" if self.dual else b"FFFE")
        elif cmd == "SKSETPWD":
            self.pwd = words[2]
        elif cmd == "SKSCAN":
            d = int(words[3], 16)
            self.at(5, out + b"OK\r\n")
            t = 28 * 96 * ((1 << d) + 1) // 10
            res = b""
            if self.visible and d >= self.scan_min:
                res = self.event(0x20) + b"EPANDESC\r\n  Channel:3B\r\n  Channel Page:09\r\n  Pan ID:8888\r\n" \
                    b"  Addr:%s\r\n  LQI:B2\r\n%s  PairID:CCDDEEFF\r\n" % (MAC.encode(), b"  Side:0\r\n" if self.dual else b"")
            self.at(t, res + self.event(0x22))
            return
        elif cmd == "SKLL64":
            self.at(5, out + IP + b"\r\n")
            return
        elif cmd == "SKJOIN":
            self.at(5, out + b"OK\r\n")
            if self.visible and self.pwd_ok:
                self.session = True
                self.at(2000, self.event(0x25) + self.erxudp(
                    bytes([0x10, 0x81, 0, 0, 0x0E, 0xF0, 1, 0x0E, 0xF0, 1, 0x73, 1, 0xD5, 4, 1, 2, 0x88, 1])))
            elif self.visible:  # the meter answers PANA, then refuses
                self.at(1000, self.erxudp(b"\x00\x00\x00\x10", port=0x02CC))
                self.at(4000, self.event(0x24))
            else:  # the module resends PANA into silence, then gives up
                self.at(20000, self.event(0x24))
            return
        elif cmd == "SKTERM":
            if not self.session:
                self.at(5, out + b"FAIL ER10\r\n")
                return
            self.session = False
            self.at(5, out + b"OK\r\n")
            self.at(1000, self.event(0x27))
            return
        self.at(5, out + b"OK\r\n")

    def _sendto(self, frame):
        self.sent.append(("FRAME", frame))
        self.frame_times.append(self.clock.now)
        if self.silent:
            return
        self.at(5, self.event(0x21, 0) + b"OK\r\n")
        if not self.session:
            return
        if frame[10] == 0x7A:  # our INFC_Res
            return
        if self.drop:
            self.drop -= 1
            return
        self.at(1000, self.before_reply + self.erxudp(self.reply(frame)))
        self.before_reply = b""

    def reply(self, req):
        r, t = self.currents
        values = {0xE7: power_bytes(self.power),
                  0xE8: power_bytes(((r & 0xFFFF) << 16) | (t & 0xFFFF)), 0xE0: b"\x00\x01\xE2\x40", 0xE3: b"\x00\x00\x00\x10",
                  0xE1: b"\x01", 0xD7: b"\x06", 0x9F: b"\x06\xD7\xE0\xE1\xE3\xE7\xE8",
                  0xE5: b""}
        esv = 0x72 if req[10] == 0x62 else 0x71
        body = bytearray()
        for i in range(req[11]):
            epc = req[12 + 2 * i]
            v = values.get(epc)
            if v is None or req[10] == 0x61:
                v = b""
                if req[10] == 0x62:
                    esv = 0x52
            body += bytes([epc, len(v)]) + v
        return bytes(req[:4]) + b"\x02\x88\x01\x05\xFF\x01" + bytes([esv, req[11]]) + bytes(body)


def power_bytes(w):
    return bytes([(w >> 24) & 255, (w >> 16) & 255, (w >> 8) & 255, w & 255])


def run(session, clock, cond, limit_ms):
    """Run the session until cond() or `limit_ms` of virtual time; returns cond().

    Fails (never hangs) when the session spins without letting virtual time pass or
    survives its cancellation; any exception of the session other than the
    cancellation is raised here.
    """
    async def main():
        t = asyncio.create_task(session.run())
        last, spins = clock.now, 0
        while not cond() and clock.now < limit_ms and not t.done():
            await asyncio.sleep(0)
            if clock.now != last:
                last, spins = clock.now, 0
            else:
                spins += 1
                assert spins < _SPINS, "the session loops without waiting (virtual time stands still)"
        if t.done():
            await t  # run() never returns: surface its exception
        t.cancel()
        for _ in range(_SPINS):
            if t.done():
                break
            await asyncio.sleep(0)
        assert t.done(), "the session survived its cancellation"
        try:
            await t
        except asyncio.CancelledError:
            pass
    asyncio.run(main())
    return cond()


class _Rx(io.IOBase):
    """LeanModule's output as MicroPython's poller sees a UART: pollable, read at once."""

    def __init__(self, mod):
        self._mod = mod

    def ioctl(self, req, arg):
        if req == 3:  # MP_STREAM_POLL
            return arg & select.POLLIN if self._mod.ready() else 0
        return -1  # no file descriptor (MP_STREAM_GET_FILENO): the poller asks ioctl instead

    def readinto(self, buf):
        return self._mod.take(buf)


class LeanModule(FakeModule):
    """FakeModule allocating nothing once warm, for measuring what the session allocates.

    Start-up commands get plain answers (allocating, unmeasured); each SKSENDTO gets
    EVENT 21 and OK, and a reply built on first use then reused with the TID patched in.
    Output waits in a fixed queue and a fixed buffer; the clock below jumps to it.
    Like asyncio's Stream it offers `s` (a pollable object) and `out_buf`, so under
    MicroPython the session reads and drains it through compat.Port's polled path.
    """

    def __init__(self, clock, chunk=64):
        FakeModule.__init__(self, clock, chunk=chunk)
        self._av = bytearray(2048)
        self._h = self._t = 0
        self._qt = [0] * 8
        self._qd = [None] * 8
        self._qh = self._qn = 0
        self._frame = False      # the next write is SKSENDTO's data
        self.drain_due = False   # the clock's next wait is a drain, not a read
        self._replies = {}
        self._sent21 = self.event(0x21, 0) + b"OK\r\n"
        self.s = _Rx(self)
        self.out_buf = b""  # writes complete at once

    def at(self, delay, data):
        i = (self._qh + self._qn) & 7
        self._qt[i] = self.clock.now + delay
        self._qd[i] = data
        self._qn += 1

    def next_due(self):
        return self._qt[self._qh] if self._qn else -1

    def ready(self):
        return self._t > self._h

    def release(self, now):
        while self._qn and self._qt[self._qh] <= now:
            d = self._qd[self._qh]
            self._qd[self._qh] = None
            self._qh = (self._qh + 1) & 7
            self._qn -= 1
            if self._h == self._t:
                self._h = self._t = 0
            self._av[self._t:self._t + len(d)] = d
            self._t += len(d)

    async def readinto(self, buf):
        await asyncio.sleep(0)  # let the measuring task look
        return self.take(buf)

    def take(self, buf):
        k = min(len(buf), self._t - self._h, self.chunk)
        av, h = self._av, self._h
        for i in range(k):
            buf[i] = av[h + i]
        self._h = h + k
        return k

    async def drain(self):
        pass

    def write(self, b):
        self.drain_due = True
        if self._frame:
            self._frame = False
            self._sendto(b)
        elif b[0] == 83 and b[1] == 75 and b[2] == 83 and b[3] == 69 and b[4] == 78:  # SKSEN
            self._frame = True
        else:
            self._command(bytes(b).split())

    def _command(self, words):
        if not words:
            return
        cmd = words[0]
        out = b"OK\r\n"
        if cmd == b"SKVER":
            out = b"EVER 1.2.10\r\nOK\r\n"
        elif cmd == b"SKINFO":
            out = b"EINFO %s 001D129000003C89 21 FFFF FFFE\r\nOK\r\n" % ME
        elif cmd == b"SKJOIN":
            self.at(2000, self.event(0x25))
        self.at(5, out)

    def _sendto(self, frame):
        self.at(5, self._sent21)
        key = frame[10] << 16 | frame[11] << 8 | frame[12]
        r = self._replies.get(key)
        if r is None:
            data = self.reply(bytes(frame))
            line = bytearray(self.erxudp(data))
            r = self._replies[key] = (line, len(line) - 2 - len(data))
        line, at = r
        line[at + 2] = frame[2]  # the TID
        line[at + 3] = frame[3]
        self.at(1000, line)


class LeanClock(VClock):
    """Virtual time without tasks: a read waits by jumping to the next delivery."""

    def nap(self, ms):
        """A slice of the polled read: jump to the next delivery, or by `ms`."""
        m = self.mod
        t = m.next_due()
        self.now = self.now + ms if t < 0 or t > self.now + ms else max(self.now, t)
        m.release(self.now)
        return asyncio.sleep_ms(0)

    def wait(self, coro, ms):
        """Not a coroutine, so the clock adds nothing to what is measured."""
        m = self.mod
        if m.drain_due:
            m.drain_due = False
        elif not m.ready():
            t = m.next_due()
            if t < 0 or t > self.now + ms:
                self.now += ms
                coro.close()
                raise asyncio.TimeoutError
            self.now = max(self.now, t)
            m.release(self.now)
        return coro


def alloc_per_cycle(cycles=20, warm=12, chunk=64, module=LeanModule, driver=None, pan_id=0x8888):
    """(bytes allocated per polling cycle or None off MicroPython, the session), measured
    against `module` (a LeanModule) and the session's `driver` (None: SKSTACK's) with the
    collector off, after `warm` readings."""
    import gc
    from broute import session
    from broute.scancache import MemoryCache
    clock = LeanClock()
    mod = module(clock, chunk)
    cache = MemoryCache({"channel": 0x3B, "pan_id": pan_id, "addr": MAC, "ip": str(IP, "ascii")})
    s = session.Session(mod, mod, RBID, PWD, cache=cache, clock=clock, driver=driver)
    mem = getattr(gc, "mem_alloc", None)
    out = [None]

    async def main():
        t = asyncio.create_task(s.run())
        while s.reading.seq < warm:
            await asyncio.sleep(0)
        if mem:
            gc.collect()
            gc.disable()
            a = mem()
        n = s.reading.seq + cycles
        while s.reading.seq < n:
            await asyncio.sleep(0)
        if mem:
            out[0] = (mem() - a) // cycles
            gc.enable()
        t.cancel()
    asyncio.run(main())
    return out[0], s
