"""The J11 frame codec (lib/broute/j11.py) on published vectors, fed the way a UART delivers,
plus seeded fuzzing that runs the same under CPython and the MicroPython unix port.

Vectors: the version request and status response quoted in ROHM's BP35C0-J11 UART IF
specification and used by ak1211/BRouteJ11 (j11uart.go); the rest from the unit tests of
Tosainu/bp35c0-j11-stuff (bp35c0-j11/src/command.rs and response.rs), which ran against a real
BP35C0-J11.
"""
import asyncio
import sys

from broute import driver as dr
from broute import j11
from broute import j11ask
from broute.j11driver import J11Driver


def _unhex(s):
    s = s.replace(" ", "")
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))


VERSION_REQ = _unhex("D0EA83FC 006B 0004 03A8 0000")
STATUS_RES = _unhex("D0F9EE5D 2001 0008 033D 0007 01020103")
# (frame, command code, data) from Tosainu's response.rs
RESPONSES = [
    (STATUS_RES, 0x2001, "01020103"),
    (_unhex("D0F9EE5D 205F 0005 0398 0001 01"), 0x205F, "01"),
    (_unhex("D0F9EE5D 2008 0005 0341 0002 02"), 0x2008, "02"),
    (_unhex("D0F9EE5D 2008 0009 0345 027A 0112ABCDEF"), 0x2008, "0112ABCDEF"),
    (_unhex("D0F9EE5D 4051 0006 03AB 0008 0107"), 0x4051, "0107"),
    (_unhex("D0F9EE5D 4051 001D 03C2 051E 000C02 0001020304050607ABCDDE 00102030405060701234 98"),
     0x4051, "000C020001020304050607ABCDDE0010203040506070123498"),
    (_unhex("D0F9EE5D 206B 000D 03AC 00A8 010400010300001 58A"), 0x206B, "01040001030000158A"),
    (_unhex("D0F9EE5D 6018 0023 03AF 06DE FE800001020304050607080 90A0B0C0D ABCD 1234 5678 01 02 DE 0004 98765432"),
     0x6018, "FE80000102030405060708090A0B0C0DABCD1234567801 02DE000498765432"),
    (_unhex("D0F9EE5D 6019 0004 0391 0000"), 0x6019, ""),
    (_unhex("D0F9EE5D 601A 000E 039C 00FB 01 0001020304050607 DE"), 0x601A, "010001020304050607DE"),
    (_unhex("D0F9EE5D 6028 000D 03A9 001D 01 0001020304050607"), 0x6028, "010001020304050607"),
]
STREAM = b"".join(f for f, _, _ in RESPONSES)


def _drain(p, out):
    while True:
        k = p.next()
        if not k:
            return
        if k == j11.FRAME:
            out.append((p.code, bytes(p.view(0, p.n))))
        else:
            out.append(("BAD", p.why))


def _frames(data, chunk=5):
    p = j11.Parser()
    out = []
    for i in range(0, len(data), chunk):
        p.feed(data[i:i + chunk])
        _drain(p, out)
    return out, p


def _want(items):
    return [(c, _unhex(d)) for _, c, d in items]


def test_the_published_requests_are_built_byte_for_byte():
    b = j11ask.Builder()
    assert bytes(b.frame(0x006B)) == VERSION_REQ
    assert bytes(b.frame(0x0001)) == _unhex("D0EA83FC 0001 0004 033E 0000")
    assert bytes(b.frame(0x005F, 5, 0, 5, 0)) == _unhex("D0EA83FC 005F 0008 03A0 000A 05000500")
    assert bytes(b.frame(0x0005, 0x12, 0x34)) == _unhex("D0EA83FC 0005 0006 0344 0046 1234")
    # header sums quoted in ak1211/BRouteJ11 j11uart.go
    assert bytes(b.frame(0x0053))[8:10] == b"\x03\x90" and bytes(b.frame(0x0056))[8:10] == b"\x03\x93"
    assert bytes(b.frame(0x0051, 6, b"\x00\x03\xFF\xF0", 1, b"CCDDEEFF"))[6:10] == b"\x00\x12\x03\x9C"
    b.wipe()
    assert not any(b.buf)


def test_the_udp_header_is_built_once_and_patched_per_send():
    ip = _unhex("FE80000000000000021D129012345678")
    h = j11.UdpHead(ip)
    ecl = _unhex("1081000105FF010288016201E700")
    whole = bytes(h.head(ecl)) + ecl
    data = ip + _unhex("0E1A0E1A") + bytes([0, len(ecl)]) + ecl
    code, ln, hs, ds = whole[4] << 8 | whole[5], whole[6] << 8 | whole[7], whole[8:10], whole[10:12]
    assert whole[:4] == j11.REQUEST and code == 0x0008 and ln == 4 + len(data) and whole[12:] == data
    assert hs == bytes([sum(whole[:8]) >> 8, sum(whole[:8]) & 255])
    assert ds == bytes([(sum(data) >> 8) & 255, sum(data) & 255])
    out = []
    p = j11.Parser(j11.REQUEST)  # a simulator's side reads it back
    p.feed(bytes(h.head(b"\x01")) + b"\x01" + whole)
    _drain(p, out)
    assert out == [(0x0008, ip + _unhex("0E1A0E1A0001") + b"\x01"), (0x0008, data)]


def test_published_responses_in_every_fragmentation():
    for chunk in (1, 2, 3, 7, 12, 13, 64, 4096):
        out, p = _frames(STREAM, chunk)
        assert out == _want(RESPONSES), chunk
        assert p.garbage == 0 and p.bad == 0


def test_field_readers_on_the_version_and_a_short_frame():
    p = j11.Parser()
    p.feed(RESPONSES[6][0])
    assert p.next() == j11.FRAME and p.u8(0) == 1 and p.u16(1) == 0x0400 and p.u16(7) == 0x158A
    assert p.u8(9) == -1 and p.u16(8) == -1  # beyond the data: absent, never an IndexError
    p.feed(RESPONSES[9][0])
    assert p.next() == j11.FRAME and p.s8(9) == -34


def test_garbage_before_between_and_after_frames_is_skipped():
    noise = b"\x00\xFF\xD0\xF9\xEE SKVER\r\nFAIL ER04\r\n\xD0"
    out, p = _frames(noise + STATUS_RES + noise + RESPONSES[1][0] + noise, 3)
    assert out == _want(RESPONSES[:2]) and p.garbage >= 2


def test_a_bad_data_checksum_is_reported_and_the_next_frame_kept():
    bad = bytearray(RESPONSES[3][0])
    bad[-1] ^= 1
    out, p = _frames(bytes(bad) + STATUS_RES, 4)
    assert out == [("BAD", j11.BAD_DATA), (0x2001, _unhex("01020103"))]
    assert p.bad == 1


def test_a_bad_header_checksum_and_a_frame_hidden_in_a_truncated_one():
    bad = bytearray(STATUS_RES)
    bad[9] ^= 1
    # a 6018 cut short on the line: the frame after it starts inside its claimed data
    cut = RESPONSES[7][0][:20]
    out, _ = _frames(bytes(bad) + cut + STATUS_RES + b"\x00" * 40 + RESPONSES[1][0], 5)
    assert out[0] == ("BAD", j11.BAD_HEADER)
    assert (0x2001, _unhex("01020103")) in out and out[-1] == (0x205F, b"\x01")


def test_an_oversize_length_is_refused_without_buffering_it():
    head = bytearray(_unhex("D0F9EE5D 6018 0000 0000 0000"))
    ln = j11.MAX_DATA + 5
    head[6], head[7] = ln >> 8, ln & 255
    s = sum(head[:8])
    head[8], head[9] = s >> 8, s & 255
    out, p = _frames(bytes(head) + bytes(200) + STATUS_RES, 16)
    assert out == [("BAD", j11.BAD_LENGTH), (0x2001, _unhex("01020103"))]
    # the longest real frame still fits
    big = bytearray(b"\xD0\xF9\xEE\x5D\x60\x18" + bytes(6 + j11.MAX_DATA))
    ln = j11.MAX_DATA + 4
    big[6], big[7] = ln >> 8, ln & 255
    s = sum(big[:8])
    big[8], big[9] = s >> 8, s & 255
    out, p = _frames(bytes(big) + STATUS_RES, 100)
    assert out == [(0x6018, bytes(j11.MAX_DATA)), (0x2001, _unhex("01020103"))]


# --- fuzzing: the same seeded sequence on both interpreters -------------------------------
class _Rng:
    """A tiny LCG: `random` differs between CPython and MicroPython; this does not."""

    def __init__(self, seed):
        self.x = seed

    def below(self, n):
        self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.x >> 8) % n

    def bytes(self, n):
        return bytes(self.below(256) for _ in range(n))


def _mutate(r, b):
    """Flip a bit, insert bytes, cut bytes or insert a stray unique code, 1-4 times."""
    for _ in range(1 + r.below(4)):
        op = r.below(4)
        i = r.below(len(b) + 1)
        if op == 0 and b:
            i %= len(b)
            b = b[:i] + bytes([b[i] ^ (1 << r.below(8))]) + b[i + 1:]
        elif op == 1:
            b = b[:i] + r.bytes(1 + r.below(6)) + b[i:]
        elif op == 2:
            b = b[:i] + b[i + 1 + r.below(6):]
        else:
            b = b[:i] + j11.RESPONSE + b[i:]
    return b


def _stream(r):
    parts = []
    for _ in range(1 + r.below(6)):
        k = r.below(4)
        f = RESPONSES[r.below(len(RESPONSES))][0]
        parts.append(r.bytes(r.below(40)) if k == 0 else _mutate(r, f) if k == 1 else f)
    return b"".join(parts)


def test_fuzz_random_mutated_split_concatenated():
    r = _Rng(20261202)
    n = 300 if sys.implementation.name == "micropython" else 1500
    for _ in range(n):
        data = _stream(r)
        p = j11.Parser()
        size = len(p.buf)
        out = []
        i = 0
        while i < len(data):
            k = 1 + r.below(40)
            p.feed(data[i:i + k])
            _drain(p, out)  # only FRAME and BAD come out; anything raised fails the test
            i += k
            assert len(p.buf) == size and 0 <= p._s <= p._e <= size
        for code, d in out:
            if code != "BAD":
                assert 0 <= code <= 0xFFFF and len(d) <= j11.MAX_DATA


def test_fuzz_unmutated_frames_survive_any_noise_without_the_unique_code():
    r = _Rng(7)
    for _ in range(200):
        picks = [RESPONSES[r.below(len(RESPONSES))] for _ in range(1 + r.below(5))]
        data = b""
        for f, _, _ in picks:
            noise = bytes(x if x != 0xD0 else 0 for x in r.bytes(r.below(20)))
            data += noise + f
        out, _ = _frames(data, 1 + r.below(30))
        assert out == _want(picks)


# --- the driver over fuzzed input: nothing but DriverError ------------------------------
class _Clock:
    def __init__(self):
        self.now = 0

    def ticks_ms(self):
        return self.now

    async def sleep_ms(self, ms):
        self.now += ms

    async def wait(self, coro, ms):
        try:
            return await coro
        except IndexError:
            self.now += ms
            raise asyncio.TimeoutError()


class _Stream:
    def __init__(self, data, r):
        self.data, self.r, self.out = data, r, []

    async def read(self, n):
        if not self.data:
            raise IndexError  # the clock turns this into a timeout
        k = min(n, 1 + self.r.below(30), len(self.data))
        b, self.data = self.data[:k], self.data[k:]
        return b

    def write(self, b):
        self.out.append(bytes(b))

    async def drain(self):
        pass


def test_fuzz_the_driver_raises_nothing_but_driver_error():
    r = _Rng(99)
    ip = _unhex("FE80000000000000021D129012345678")
    frames = [f for f, _, _ in RESPONSES] + [_unhex("D0F9EE5D 601A 000E 039C 00FB 03 0001020304050607 DE")]
    n = 40 if sys.implementation.name == "micropython" else 150
    for _ in range(n):
        data = b"".join(_mutate(r, f) if r.below(2) else f for f in
                        [frames[r.below(len(frames))] for _ in range(1 + r.below(8))])
        events = []
        st = _Stream(data, r)
        d = J11Driver(st, st, _Clock(), lambda k, a: events.append(k) and False)
        d._ip, d._up, d._held = ip, True, True
        for call in (lambda: d.wait(1000), lambda: d.steps(1).scan(d, 4), lambda: d.send(b"\x10\x81"), lambda: d.steps(2).join(
                d, {"channel": 0x3B, "pan_id": 1, "addr": "001D129012345678", "ip": ""})):
            try:  # send() checks it is joined when called, the others when awaited
                asyncio.run(call())
            except dr.DriverError:
                pass
        assert all(k in (dr.FRAME, dr.LOST, dr.REAUTHED, dr.RESTARTED) for k in events)


def test_driver_keeps_rssi_and_version_from_the_published_frames():
    events = []
    st = _Stream(RESPONSES[6][0] + RESPONSES[9][0], _Rng(1))
    d = J11Driver(st, st, _Clock(), lambda k, a: events.append(k))
    d.steps(0)  # the version is read while starting (j11ask.take, with j11start's)
    d._want = 0x206B
    asyncio.run(d.wait(10, 0x206B))
    assert d.version == "1.3.5514"
    asyncio.run(d.wait(10))
    assert d.rssi == -34 and events == []  # 601A 01 (MAC up) is no event


def test_resolve_flips_the_universal_local_bit():
    d = J11Driver(_Stream(b"", _Rng(1)), _Stream(b"", _Rng(1)), _Clock(), None)
    ip = asyncio.run(d.steps(1).resolve(d, "001D129012345678"))
    assert ip == "FE80:0000:0000:0000:021D:1290:1234:5678"
