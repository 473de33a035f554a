"""SKSTACK IP, sans-I/O: bytes from the module go in, one event at a time comes out.

The line grammar follows docs/protocol.md section 2 (SKSTACK IP command reference, "response
formats"): answers end in CRLF except ROPT/WOPT (CR only), so either byte ends a line.
ERXUDP is read by its DATALEN field because binary data (the default, ROPT 00) may contain
CR/LF; hex ASCII data (WOPT 01, RL7023 IPS) is told apart without asking the module:
binary data is followed by CR at DATALEN, hex data has a hex digit there.
Nothing here allocates per line except where a caller asks for text (start-up only).
"""
from . import driver as _dr
from .compat import const

# Dialects (docs/protocol.md section 1). Everything that differs between them is in the tables below.
SINGLE = const(0)  # BP35A1, RL7023 Stick-D/IPS, WSR35A1-00
DUAL = const(1)    # BP35C0/C2, RL7023 Stick-D/DSS, RS-WSUHA-P: extra SIDE field
DIALECT_NAMES = ("single", "dual")
SIDE_ARG = (b"", b" 0")      # appended to SKSCAN; inserted before LEN in SKSENDTO (skdriver)
_EVENT_PARAM = (3, 4)        # token index of the EVENT param (DSE has SIDE at 3)

# Event kinds returned by Parser.next()
NEED_DATA = const(0)
OK = const(1)
FAIL = const(2)
EVENT = const(3)
ERXUDP = const(4)
# 5-8 and 11: EVER, EINFO, EPANDESC, the SKLL64 address, which only a join brings, come as
# OTHER; skask.kind tells them apart, only while joining
FIELD = const(9)      # an indented "Key:Value" line of EPANDESC (skscan.field reads it)
ECHO = const(10)      # our own command echoed (may hold a secret: never log it)
OTHER = const(12)     # a well-formed line nobody here needs
GARBAGE = const(13)   # noise, a broken ERXUDP or an over-long line (dropped)

PORT_ECHONET = const(0x0E1A)
_CR = const(13)
_LF = const(10)
_SP = const(32)


def _hexval(c):
    if 48 <= c <= 57:
        return c - 48
    c |= 0x20
    if 97 <= c <= 102:
        return c - 87
    return -1


class Parser:
    """Feed bytes with `feed()` (or `space()`+`commit()`), then call `next()` until NEED_DATA.

    After each event, `line` offsets, `code`, `param`, `side` and `payload` describe it; memoryviews stay valid only until the next call. feed, commit and next are
    the input side both parsers share (driver.py).
    """

    commit = _dr.commit
    feed = _dr.feed
    next = _dr.next_item

    def __init__(self, size=1024):
        self.buf = bytearray(size)
        self._mv = memoryview(self.buf)
        self.dialect = SINGLE
        self.garbage = 0  # dropped lines, for diagnostics
        self.reset()

    def reset(self):
        """Forget buffered bytes (after a module reset)."""
        self._s = self._e = 0
        self._ls = self._le = 0
        self._discard = False
        self._src = None  # what feed() was given and has not copied in yet
        self._si = 0
        self.code = self.param = self.side = -1
        self.payload = None
        self.hexdata = False

    # --- input -------------------------------------------------------------------------
    def space(self):
        """A writable view of the free tail (for readinto); never empty.

        A line that fills the whole buffer is dropped (counted as garbage), never grown.
        With nothing left over (the usual case between lines) it is the whole buffer's view,
        allocating nothing.
        """
        if self._s == self._e:
            self._s = self._e = 0
            return self._mv
        if self._s:
            n = self._e - self._s
            self.buf[:n] = self._mv[self._s:self._e]
            self._s, self._e = 0, n
        if self._e == len(self.buf):
            self._s = self._e = 0
            self._discard = True
            self.garbage += 1
        return self._mv[self._e:]

    # --- events --------------------------------------------------------------------------
    def _next(self):
        b = self.buf
        while True:
            s, e = self._s, self._e
            if self._discard:
                # The rest of a dropped line; its CR/LF ends it (even at the start of a read).
                t = self._eol(s, e)
                if t < 0:
                    self._s = e
                    return NEED_DATA
                self._discard = False
                s = t
            while s < e and (b[s] == _CR or b[s] == _LF):
                s += 1
            self._s = s
            if s == e:
                return NEED_DATA
            if self._at(s, e, b"ERXUDP "):
                return self._udp(s, e)
            t = self._eol(s, e)
            if t < 0:
                return NEED_DATA
            self._s = t
            self._ls, self._le = s, t
            return self._classify(s, t)

    def _eol(self, s, e):
        b = self.buf
        while s < e:
            c = b[s]
            if c == _CR or c == _LF:
                return s
            s += 1
        return -1

    def _at(self, s, e, prefix):
        n = len(prefix)
        if e - s < n:
            return False
        b = self.buf
        for i in range(n):
            if b[s + i] != prefix[i]:
                return False
        return True

    def _junk(self):
        """A complete line (already consumed) that makes no sense."""
        self.garbage += 1
        return GARBAGE

    def _bad(self, s, e):
        """Drop the line being read as garbage, up to its end (which may not have arrived)."""
        self.garbage += 1
        t = self._eol(s, e)
        if t < 0:
            self._s = e
            self._discard = True
        else:
            self._s = t
        return GARBAGE

    def _udp(self, s, e):
        # ERXUDP SENDER DEST RPORT LPORT SENDERLLA [RSSI] SECURED [SIDE] DATALEN DATA
        # (docs/protocol.md section 2):
        # DATALEN is the first 4-digit token from index 7 on (both dialects, with or without SA2).
        b = self.buf
        p = s + 7  # four names in one assignment would build a tuple
        tok, ds, n = 1, -1, 0
        while ds < 0:
            q = p
            while q < e and b[q] != _SP and b[q] != _CR and b[q] != _LF:
                q += 1
            if q == e:
                return NEED_DATA if e - s < len(b) else self._bad(s, e)
            if b[q] != _SP or tok > 10:
                return self._bad(s, e)
            if tok >= 7 and q - p == 4:
                n = self._hex(p, q)
                if n < 0:
                    return self._bad(s, e)
                ds = q + 1
            tok += 1
            p = q + 1
        if ds + 2 * n + 1 - s > len(b) and ds + n + 1 - s > len(b):
            return self._bad(s, e)  # cannot fit; resynchronise on the next line end
        if ds + n >= e:
            return NEED_DATA
        self._ls, self._le = s, ds - 1
        c = b[ds + n]
        if c == _CR or c == _LF:
            self.hexdata = False
        else:
            if ds + 2 * n >= e:
                return NEED_DATA if ds + 2 * n + 1 - s <= len(b) else self._bad(s, e)
            c = b[ds + 2 * n]
            if c != _CR and c != _LF:
                return self._bad(s, e)
            # Check every digit before decoding in place: decoded bytes (which may be CR/LF)
            # must never be left in the buffer to be read as lines.
            for i in range(ds, ds + 2 * n):
                if _hexval(b[i]) < 0:
                    return self._bad(s, e)
            for i in range(n):
                b[ds + i] = (_hexval(b[ds + 2 * i]) << 4) | _hexval(b[ds + 2 * i + 1])
            self.hexdata = True
            self._s = ds + 2 * n
            self.payload = self._mv[ds:ds + n]
            return ERXUDP
        self._s = ds + n
        self.payload = self._mv[ds:ds + n]
        return ERXUDP

    def _hex(self, s, e):
        v = 0
        if s >= e:
            return -1
        b = self.buf
        while s < e:
            d = _hexval(b[s])
            if d < 0:
                return -1
            v = (v << 4) | d
            s += 1
        return v

    def _classify(self, s, t):
        b = self.buf
        if self._word(s, t, b"OK"):
            self.code = self.tok_hex(1)
            return OK
        if self._word(s, t, b"FAIL"):
            # "FAIL ER10": the digits are decimal in every manual's table
            self.code = -1
            if self._tok(1) and self._te - self._ts == 4 and b[self._ts] == 69:
                hi, lo = b[self._ts + 2] - 48, b[self._ts + 3] - 48
                if 0 <= hi <= 9 and 0 <= lo <= 9:
                    self.code = hi * 10 + lo
            return FAIL
        if self._word(s, t, b"EVENT"):
            self.code = self.tok_hex(1)
            pi = _EVENT_PARAM[self.dialect]
            self.side = self.tok_hex(3) if self.dialect == DUAL else -1
            self.param = self.tok_hex(pi)
            return EVENT if self.code >= 0 else self._junk()
        if b[s] == _SP:  # an EPANDESC field: read by skscan.field, only while scanning
            return FIELD if b.find(b":", s, t) > 0 else self._junk()
        if self._at(s, t, b"SK") or self._at(s, t, b"ROPT") or self._at(s, t, b"WOPT"):
            return ECHO
        for i in range(s, t):
            if b[i] < _SP or b[i] > 126:
                return self._junk()
        return OTHER

    def _word(self, s, t, w):
        n = len(w)
        return self._at(s, t, w) and (t - s == n or self.buf[s + n] == _SP)

    # --- access to the current line ------------------------------------------------------
    def _tok(self, i):
        """Locate token i of the current line in self._ts/_te (no allocation)."""
        b, p, e = self.buf, self._ls, self._le
        while True:
            while p < e and b[p] == _SP:
                p += 1
            q = p
            while q < e and b[q] != _SP:
                q += 1
            if p == q:
                return False
            if not i:
                self._ts, self._te = p, q
                return True
            i -= 1
            p = q

    def tok_hex(self, i):
        """Token i as a hex number, or -1."""
        return self._hex(self._ts, self._te) if self._tok(i) else -1

    def tok_eq(self, i, ref):
        """Token i equals `ref` (bytes), ignoring the case of hex letters."""
        if not self._tok(i) or self._te - self._ts != len(ref):
            return False
        b, p = self.buf, self._ts
        for j in range(len(ref)):
            c, r = b[p + j], ref[j]
            if c != r and (c | 0x20) != (r | 0x20):
                return False
        return True

