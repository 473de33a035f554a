"""SKSTACK IP line parser and command builders, fed the way a UART delivers: in fragments."""
from broute import skstack as sk
from broute import skdriver as skcmd  # SKSENDTO's header lives in the SKSTACK driver
from broute import skask, skstart, skscan, skjoin  # the join's lines and commands, in its join steps

IP_M = b"FE80:0000:0000:0000:021D:1290:1234:5678"
IP_ME = b"FE80:0000:0000:0000:021D:1290:0003:C890"


def _unhex(s):
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))


FRAME = _unhex("1081000102880105FF017201E704000002AE")


def _drain(p, out, text=False):
    """Collect (kind, detail) for every event the parser has; `text`: other lines with their text."""
    while True:
        k = p.next()
        if not k:
            return
        if k == sk.ERXUDP:
            out.append((k, bytes(p.payload), p.hexdata, p.tok_hex(3)))
        elif k == sk.EVENT:
            out.append((k, p.code, p.param, p.side))
        elif k in (sk.OK, sk.FAIL):
            out.append((k, p.code))
        elif k == sk.FIELD:
            out.append((k,) + skscan.field(p))
        elif k == sk.OTHER and skask.kind(p) != sk.OTHER:
            out.append((skask.kind(p),))
        elif text and k != sk.GARBAGE:
            out.append((k, skscan.text(p)))
        else:
            out.append((k,))


def _events(data, dialect=sk.SINGLE, chunk=5, size=1024):
    """Feed `data` in `chunk`-byte pieces; collect (kind, detail) after every piece."""
    p = sk.Parser(size)
    p.dialect = dialect
    out = []
    for i in range(0, len(data), chunk):
        p.feed(data[i:i + chunk])
        _drain(p, out)
    return out, p


def test_answers_and_echo():
    for chunk in (1, 3, 64):
        ev, _ = _events(b"SKVER\r\nEVER 1.2.10\r\nOK\r\nSKSREG S2\r\nESREG 3B\r\nOK\r\nFAIL ER10\r\n", chunk=chunk)
        assert ev == [(sk.ECHO,), (skask.EVER,), (sk.OK, -1), (sk.ECHO,), (sk.OTHER,), (sk.OK, -1),
                      (sk.FAIL, 10)], ev


def test_ropt_answer_ends_in_cr_only():
    ev, _ = _events(b"OK 00\rEVENT 21 " + IP_M + b" 00\r\n", chunk=2)
    assert ev == [(sk.OK, 0), (sk.EVENT, 0x21, 0, -1)]


def test_event_layout_per_dialect():
    single, _ = _events(b"EVENT 21 " + IP_M + b" 02\r\nEVENT 25 " + IP_M + b"\r\n")
    assert single == [(sk.EVENT, 0x21, 2, -1), (sk.EVENT, 0x25, -1, -1)]
    dual, _ = _events(b"EVENT 21 " + IP_M + b" 0 01\r\nEVENT 25 " + IP_M + b" 0\r\n", sk.DUAL)
    assert dual == [(sk.EVENT, 0x21, 1, 0), (sk.EVENT, 0x25, -1, 0)]


def test_erxudp_binary_with_crlf_inside():
    data = b"\x10\x81\x0d\x0a" + FRAME[4:]  # TID = CR LF
    head = b"ERXUDP " + IP_M + b" " + IP_ME + b" 0E1A 0E1A 001D129012345678 1 %04X " % len(data)
    for chunk in (1, 7, 200):
        ev, _ = _events(head + data + b"\r\nOK\r\n", chunk=chunk)
        assert ev == [(sk.ERXUDP, data, False, 0x0E1A), (sk.OK, -1)], ev


def test_erxudp_hex_and_dual_side_and_sa2():
    hx = b"1081000102880105FF017201E704000002AE"
    a1 = b"ERXUDP " + IP_M + b" " + IP_ME + b" 0E1A 0E1A 001D129012345678 1 0012 " + hx + b"\r\n"
    dse = b"ERXUDP " + IP_M + b" " + IP_ME + b" 0E1A 0E1A 001D129012345678 1 0 0012 " + hx + b"\r\n"
    sa2 = b"ERXUDP " + IP_M + b" " + IP_ME + b" 0E1A 0E1A 001D129012345678 B2 1 0 0012 " + hx + b"\r\n"
    ev, _ = _events(a1 + dse + sa2, sk.DUAL, chunk=11)
    assert ev == [(sk.ERXUDP, FRAME, True, 0x0E1A)] * 3, ev


def test_epandesc_fields():
    data = (b"EVENT 20 " + IP_M + b"\r\nEPANDESC\r\n  Channel:3B\r\n  Channel Page:09\r\n  Pan ID:8888\r\n"
            b"  Addr:001D129012345678\r\n  LQI:B2\r\n  PairID:0123ABCD\r\nEVENT 22 " + IP_M + b"\r\n")
    ev, _ = _events(data, chunk=4)
    assert ev == [(sk.EVENT, 0x20, -1, -1), (skask.EPANDESC,), (sk.FIELD, b"Channel", 0x3B),
                  (sk.FIELD, b"Channel Page", 9), (sk.FIELD, b"Pan ID", 0x8888),
                  (sk.FIELD, b"Addr", 0x001D129012345678), (sk.FIELD, b"LQI", 0xB2),
                  (sk.FIELD, b"PairID", 0x0123ABCD), (sk.EVENT, 0x22, -1, -1)], ev


def test_ll64_answer_and_einfo_dialect():
    ev, p = _events(IP_M + b"\r\n")
    assert ev == [(skask.ADDR,)]
    p = sk.Parser()
    p.feed(b"EINFO " + IP_ME + b" 001D129000003C89 21 FFFF FFFE\r\nEINFO " + IP_ME + b" 001D129000003C89 21 FFFF 0\r\n")
    assert p.next() == sk.OTHER and skask.kind(p) == skask.EINFO and skstart.dialect_of_einfo(p) == sk.SINGLE
    assert p.next() == sk.OTHER and skask.kind(p) == skask.EINFO and skstart.dialect_of_einfo(p) == sk.DUAL


def test_garbage_and_overlong_lines_resynchronise():
    noise = b"\xff\x00\xfe garbage\r\n" + b"X" * 300 + b"\r\n"
    ev, p = _events(noise + b"OK\r\n", chunk=9, size=128)
    assert ev[-1] == (sk.OK, -1)
    assert (sk.GARBAGE,) in ev and p.garbage >= 2
    # an ERXUDP whose data is cut short by the next line: the OK after it survives or is lost,
    # but the parser never raises and keeps going
    bad = b"ERXUDP " + IP_M + b" " + IP_ME + b" 0E1A 0E1A 001D129012345678 1 0012 10\r\n"
    ev, _ = _events(bad + b"OK\r\n" + b"EVENT 25 " + IP_M + b"\r\n" * 20, chunk=3)
    assert (sk.EVENT, 0x25, -1, -1) in ev


def test_erxudp_bad_datalen_is_garbage():
    ev, _ = _events(b"ERXUDP " + IP_M + b" " + IP_ME + b" 0E1A 0E1A 001D129012345678 1 00Z2 xx\r\nOK\r\n")
    assert ev == [(sk.GARBAGE,), (sk.OK, -1)]


def test_tok_eq_ignores_case():
    p = sk.Parser()
    p.feed(b"ERXUDP fe80:0000:0000:0000:021d:1290:1234:5678 " + IP_ME + b" 0E1A 0E1A 001D129012345678 1 0001 \x00\r\n")
    assert p.next() == sk.ERXUDP
    assert p.tok_eq(1, IP_M) and not p.tok_eq(2, IP_M)


def test_command_builders():
    assert skscan.scan_line(sk.SINGLE, 6) == b"SKSCAN 2 FFFFFFFF 6\r\n"
    assert skscan.scan_line(sk.DUAL, 10) == b"SKSCAN 2 FFFFFFFF A 0\r\n"
    assert skask.sreg(b"S2", 0x21, 2) == b"SKSREG S2 21\r\n"
    assert skask.sreg(b"S3", 0x88, 4) == b"SKSREG S3 0088\r\n"
    assert skstart.setpwd(b"0123456789AB") == b"SKSETPWD C 0123456789AB\r\n"
    st = skjoin.sendto(sk.SINGLE, IP_M)
    assert bytes(skcmd.header(st, 0x12)) == b"SKSENDTO 1 " + IP_M + b" 0E1A 1 0012 "
    assert bytes(skcmd.header(st, 0xAF)) == b"SKSENDTO 1 " + IP_M + b" 0E1A 1 00AF "  # patched again
    assert bytes(skcmd.header(skjoin.sendto(sk.DUAL, IP_M), 0x4D0)) == b"SKSENDTO 1 " + IP_M + b" 0E1A 1 0 04D0 "


def test_mask_hides_secrets():
    assert "0123" not in skask.mask(skstart.setpwd(b"0123456789AB"))
    assert "0000" not in skask.mask(skstart.setrbid(b"00112233445566778899AABBCCDDEEFF"))
    assert skask.mask(b"SKVER\r\n") == "SKVER"


def test_line_after_a_dropped_overlong_one_survives_a_read_boundary():
    """The CR/LF ending a dropped line may be the first byte of the next read."""
    p = sk.Parser()
    p.feed(b"X" * 1500)
    assert p.next() == sk.NEED_DATA
    p.feed(b"\r\nOK\r\nFAIL ER10\r\n")
    got = []
    while True:
        k = p.next()
        if not k:
            break
        got.append((k, p.code))
    assert got == [(sk.OK, -1), (sk.FAIL, 10)], got
    assert p.garbage == 1


def test_bad_hex_erxudp_is_dropped_whole_and_nothing_decoded_is_a_line():
    # Hex data decoding to CR LF "OK" CR LF, then a character that is not hex.
    hx = b"0D0A4F4B0D0A" + b"Z" + b"0" * 23
    line = b"ERXUDP " + IP_M + b" " + IP_ME + b" 0E1A 0E1A 001D129012345678 1 0012 " + hx + b"\r\n"
    for chunk in (1, 13, 400):
        ev, p = _events(line + b"EVENT 25 " + IP_M + b"\r\n", chunk=chunk)
        assert ev == [(sk.GARBAGE,), (sk.EVENT, 0x25, -1, -1)], ev
        assert p.garbage == 1


def test_one_feed_larger_than_the_buffer_loses_no_line():
    data = b"".join(b"EVENT 21 " + IP_M + b" %02X\r\n" % (i % 3) for i in range(60))
    p = sk.Parser(128)
    p.feed(data)
    params = []
    while True:
        k = p.next()
        if not k:
            break
        assert k == sk.EVENT
        params.append(p.param)
    assert params == [i % 3 for i in range(60)] and p.garbage == 0


# --- the same stream gives the same events however it is split into reads ---------------------

def _noise(rnd, n):
    return bytes(rnd.choice(b"\r\n \x00\xffZ:0AEKOR") for _ in range(n))


def _udp_line(rnd, dialect):
    n = rnd.randint(0, 40)
    data = bytes(rnd.choice(b"\r\n\x00\x10\x81OK ") for _ in range(n))
    side = b" 0" if dialect == sk.DUAL else b""
    head = b"ERXUDP " + IP_M + b" " + IP_ME + b" 0E1A 0E1A 001D129012345678 1" + side + b" %04X " % n
    shape = rnd.randint(0, 5)
    if shape == 0:  # binary, may hold CR/LF
        return head + data + b"\r\n"
    hx = b"".join(b"%02X" % c for c in data)
    if shape == 1 and n:  # hex with a bad digit somewhere
        i = rnd.randint(0, len(hx) - 1)
        hx = hx[:i] + b"G" + hx[i + 1:]
    elif shape == 2:  # cut short by the next line
        hx = hx[:rnd.randint(0, len(hx))]
    return head + hx + b"\r\n"


def _stream(rnd, size, dialect):
    parts = []
    for _ in range(rnd.randint(1, 30)):
        r = rnd.randint(0, 11)
        if r == 0:
            parts.append(b"OK\r\n")
        elif r == 1:
            parts.append(b"FAIL ER%02d\r\n" % rnd.randint(0, 99))
        elif r == 2:
            side = b" 0" if dialect == sk.DUAL else b""
            parts.append(b"EVENT %02X " % rnd.randint(0x20, 0x33) + IP_M + side + b" 0%d\r\n" % rnd.randint(0, 2))
        elif r in (3, 4):
            parts.append(_udp_line(rnd, dialect))
        elif r == 5:
            parts.append(b"EPANDESC\r\n  Channel:%02X\r\n  Pan ID:%04X\r\n  Addr:001D1290%08X\r\n  LQI:%02X\r\n"
                         % (rnd.randint(0x21, 0x3C), rnd.getrandbits(16), rnd.getrandbits(24), rnd.getrandbits(8)))
        elif r == 6:  # over-long, of any kind
            head = rnd.choice((b"X", b"ERXUDP ", b"EVENT 21 ", b"  Addr:"))
            parts.append(head + b"Y" * rnd.randint(size - 20, 2 * size) + rnd.choice((b"\r\n", b"\r", b"\n")))
        elif r == 7:
            parts.append(_noise(rnd, rnd.randint(1, 30)))
        elif r == 8:
            parts.append(b"OK 00\r")  # ROPT: CR only
        elif r == 9:
            parts.append(IP_M + b"\r\n")
        elif r == 10:
            parts.append(b"ESREG %02X\r\n" % rnd.getrandbits(8))
        else:
            parts.append(b"SKSCAN 2 FFFFFFFF 6\r\n")
    return b"".join(parts)


def _split_feed(data, rnd, size, dialect):
    p = sk.Parser(size)
    p.dialect = dialect
    out = []
    i = 0
    while i < len(data):
        n = rnd.randint(1, rnd.choice((2, 16, size, 3 * size)))
        p.feed(data[i:i + n])
        i += n
        _drain(p, out, True)
    return out, p.garbage


def _split_readinto(data, rnd, size, dialect):
    p = sk.Parser(size)
    p.dialect = dialect
    out = []
    i = 0
    while i < len(data):
        room = p.space()
        n = min(len(room), len(data) - i, rnd.randint(1, rnd.choice((2, 16, size))))
        room[:n] = data[i:i + n]
        p.commit(n)
        i += n
        _drain(p, out, True)
    return out, p.garbage


def test_events_do_not_depend_on_how_the_stream_is_split():
    import random
    random.seed(7)
    for case in range(150):
        size = (128, 256, 1024)[case % 3]
        dialect = (sk.SINGLE, sk.DUAL)[case % 2]
        data = _stream(random, size, dialect)
        one = sk.Parser(size)
        one.dialect = dialect
        one.feed(data)
        ref = []
        _drain(one, ref, True)
        ref = (ref, one.garbage)
        for _ in range(4):
            assert _split_feed(data, random, size, dialect) == ref, (case, data)
            assert _split_readinto(data, random, size, dialect) == ref, (case, data)
