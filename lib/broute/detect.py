"""Which module family is on the UART: SKSTACK IP (text) or ROHM's J11 (binary frames).

Detection, not configuration (docs/protocol.md section 1, docs/hardware.md section 1): a J11
module never answers text and a SKSTACK module never answers a J11 frame, so one question in
each language tells them apart. `Sniffer` is the sans-I/O part (bytes in, a verdict out);
`probe` asks both questions over the session's streams; `on_board` walks the stick's HAT wirings. Both questions leave
either module as it was: SKVER only reads, the J11 version request (006B) only reads, and the
CRLF after the frame ends the garbage line a SKSTACK module makes of it (it answers FAIL ER04).
On the stick this module is dropped from RAM after use (firmware/app.py).
"""
from .compat import Port, const, ticks_add, ticks_diff

SKSTACK = "skstack"
J11 = "j11"
FAMILIES = (SKSTACK, J11)

# CRLF first ends any half line a SKSTACK module holds; "SKVER" answers "EVER x.y.z" and OK.
ASK_TEXT = b"\r\nSKVER\r\n"
# J11 version request, code 006B, no data (docs/j11.md sections 1 and 3), then CRLF for a
# SKSTACK module's sake.
ASK_J11 = b"\xD0\xEA\x83\xFC\x00\x6B\x00\x04\x03\xA8\x00\x00\r\n"
_UNIQUE = b"\xD0\xF9\xEE\x5D"  # a J11 response or notification starts with it
_TEXT = (b"EVER ", b"OK\r", b"FAIL ER")  # what only a SKSTACK module says
ANSWER_MS = const(500)  # per question: a module answers in milliseconds; a J11 booting says 6019
_KEEP = const(16)  # bytes kept between reads: a token or a J11 header split across two reads


class Sniffer:
    """Feed the module's bytes (`feed`, or `space` + `commit` as compat.Port does); `family` is
    SKSTACK or J11 once an answer only that family gives has been seen, else None. `code` is the
    J11 frame's command code (206B version, 6019 booted, 2FFF checksum error, ...)."""

    def __init__(self):
        self.buf = bytearray(64)
        self._n = 0
        self.family = None
        self.code = None

    def space(self):
        return memoryview(self.buf)[self._n:]  # never under 48 bytes: _look keeps at most 16

    def commit(self, n):
        self._n += n
        self._look()

    def feed(self, data):
        for i in range(0, len(data), 32):
            part = data[i:i + 32]
            self.space()[:len(part)] = part
            self.commit(len(part))

    def _look(self):
        if self.family:
            return
        b = bytes(self.buf[:self._n])
        keep = len(b) - _KEEP
        i = b.find(_UNIQUE)
        while i >= 0:
            if len(b) - i < 12:  # a header still coming: keep it whole
                keep = min(keep, i)
                break
            if b[i + 8] << 8 | b[i + 9] == sum(b[i:i + 8]) & 0xFFFF:
                self.family, self.code = J11, b[i + 4] << 8 | b[i + 5]
                return
            i = b.find(_UNIQUE, i + 1)  # its checksum is wrong: garbage that looked like one
        for t in _TEXT:
            if t in b:
                self.family = SKSTACK
                return
        if keep > 0:
            self.buf[:len(b) - keep] = b[keep:]
            self._n = len(b) - keep


async def probe(reader, writer, clock, ms=ANSWER_MS, log=None):
    """SKSTACK, J11 or None (nothing answered): SKVER, then the J11 version request, each
    given `ms` clock milliseconds. At most 2 x `ms` plus the writes; never raises on silence."""
    port = Port(reader, writer, clock)
    s = Sniffer()
    for ask in (ASK_TEXT, ASK_J11):
        writer.write(ask)
        try:
            await port.drain(ms)
        except Exception:  # a write that cannot leave: the same as no answer
            pass
        deadline = ticks_add(clock.ticks_ms(), ms)
        while s.family is None:
            left = ticks_diff(deadline, clock.ticks_ms())
            if left <= 0:
                break
            await port.read(s, left)
            if port.n == 0:  # end of the stream: nothing more will come
                break
        if s.family:
            if log:
                log("Wi-SUN module: %s%s" % (s.family, "" if s.code is None else
                                              " (frame %04X)" % s.code))
            return s.family
    return None


def driver(family):
    """The session's driver class (driver.py) for `family`; only that family's module is imported."""
    if family == J11:
        from .j11driver import J11Driver
        return J11Driver
    from .skdriver import SkDriver
    return SkDriver


def wirings(hat, module, rx):
    """(rx pin, family or None: ask) to try in turn. The HAT and the family go together: the
    HAT-C1 carries a J11 module and receives on G36, the BP35A1 HAT a SKSTACK one on `rx`
    (G26, or G36 on rev0.1): docs/hardware.md section 1."""
    if hat == "c1" or module == J11:
        return ((36, J11),)
    if hat == "bp35a1" or module == SKSTACK:
        return ((rx, SKSTACK),)
    return ((rx, None), (36 if rx == 26 else 26, None))


async def on_board(board, module, clock, log, silent=None, ms=ANSWER_MS):
    """(reader, writer, driver class) for the stick's HAT (firmware/board.py: `hat`, `hat_rx`,
    `hat_tx`, uart_streams(rx), reset_line(cls)). Each wiring is opened and, unless the config
    named the family, probed; the first that answers is taken. J11 on G36 is a HAT-C1: only
    then does G26 become an output, its module's reset line (on the BP35A1 HAT G26 is the
    module's TX: driving it would fight it). Retried with a growing pause while nothing
    answers, calling `silent()` once so the screen can say so."""
    pause = 2000
    told = False
    while True:
        for rx, family in wirings(board.hat, module, board.hat_rx):
            r, w = await board.uart_streams(rx)
            if family is None:
                family = await probe(r, w, clock, ms, log)
            if family:
                log("Wi-SUN module: %s on G%d" % (family, rx))
                d = driver(family)
                if family == J11 and rx == 36 and board.hat != "bp35a1" and board.hat_tx != 26:
                    board.hat = "c1"
                    d = board.reset_line(d)
                return r, w, d
            log("Wi-SUN module: no answer on G%d" % rx)
        if silent and not told:
            told = True
            silent()
        await clock.sleep_ms(pause)
        pause = min(pause * 2, 60000)
