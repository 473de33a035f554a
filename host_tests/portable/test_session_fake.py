"""A scripted Wi-SUN module and a virtual clock for the session tests (no tests here).

The module answers SKSTACK IP commands the way protocol.md describes, from a tiny meter;
its output is delivered at virtual times and read back in small fragments. The clock jumps
to the next delivery instead of sleeping, so minutes of protocol take milliseconds.
"""
import asyncio

MAC = "001D129012345678"
IP = b"FE80:0000:0000:0000:021D:1290:1234:5678"
ME = b"FE80:0000:0000:0000:021D:1290:0003:C890"
OTHER = b"FE80:0000:0000:0000:021D:1290:9999:9999"
RBID = "00112233445566778899AABBCCDDEEFF"
PWD = "0123456789AB"
_SPINS = 100000  # loop turns without virtual time passing before run() calls it a hang


class VClock:
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
                self._advance(t)
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
        self.session = False
        self.power = 686
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
            else:
                self.at(4000, self.event(0x24))
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
        values = {0xE7: power_bytes(self.power),
                  0xE8: b"\x00\x3C\x00\x0A", 0xE0: b"\x00\x01\xE2\x40", 0xE3: b"\x00\x00\x00\x10",
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
