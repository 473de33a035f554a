"""SKSTACK IP line parser and command builders, fed the way a UART delivers: in fragments."""
import skstack as sk
import skcmd

IP_M = b"FE80:0000:0000:0000:021D:1290:1234:5678"
IP_ME = b"FE80:0000:0000:0000:021D:1290:0003:C890"


def _unhex(s):
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))


FRAME = _unhex("1081000102880105FF017201E704000002AE")


def _events(data, dialect=sk.SINGLE, chunk=5, size=1024):
    """Feed `data` in `chunk`-byte pieces; collect (kind, detail) after every piece."""
    p = sk.Parser(size)
    p.dialect = dialect
    out = []
    for i in range(0, len(data), chunk):
        p.feed(data[i:i + chunk])
        while True:
            k = p.next()
            if not k:
                break
            if k == sk.ERXUDP:
                out.append((k, bytes(p.payload), p.hexdata, p.tok_hex(3)))
            elif k == sk.EVENT:
                out.append((k, p.code, p.param, p.side))
            elif k in (sk.OK, sk.FAIL, sk.ESREG):
                out.append((k, p.code))
            elif k == sk.FIELD:
                out.append((k, p.fkey, p.value))
            else:
                out.append((k,))
    return out, p


def test_answers_and_echo():
    for chunk in (1, 3, 64):
        ev, _ = _events(b"SKVER\r\nEVER 1.2.10\r\nOK\r\nSKSREG S2\r\nESREG 3B\r\nOK\r\nFAIL ER10\r\n", chunk=chunk)
        assert ev == [(sk.ECHO,), (sk.EVER,), (sk.OK, -1), (sk.ECHO,), (sk.ESREG, 0x3B), (sk.OK, -1),
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
    assert ev == [(sk.EVENT, 0x20, -1, -1), (sk.EPANDESC,), (sk.FIELD, sk.F_CHANNEL, 0x3B),
                  (sk.FIELD, sk.F_PAGE, 9), (sk.FIELD, sk.F_PAN, 0x8888),
                  (sk.FIELD, sk.F_ADDR, 0x001D129012345678), (sk.FIELD, sk.F_LQI, 0xB2),
                  (sk.FIELD, sk.F_PAIR, 0x0123ABCD), (sk.EVENT, 0x22, -1, -1)], ev


def test_ll64_answer_and_einfo_dialect():
    ev, p = _events(IP_M + b"\r\n")
    assert ev == [(sk.ADDR,)]
    p = sk.Parser()
    p.feed(b"EINFO " + IP_ME + b" 001D129000003C89 21 FFFF FFFE\r\nEINFO " + IP_ME + b" 001D129000003C89 21 FFFF 0\r\n")
    assert p.next() == sk.EINFO and sk.dialect_of_einfo(p) == sk.SINGLE
    assert p.next() == sk.EINFO and sk.dialect_of_einfo(p) == sk.DUAL


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
    assert skcmd.scan(sk.SINGLE, 6) == b"SKSCAN 2 FFFFFFFF 6\r\n"
    assert skcmd.scan(sk.DUAL, 10) == b"SKSCAN 2 FFFFFFFF A 0\r\n"
    assert skcmd.sreg(b"S2", 0x21, 2) == b"SKSREG S2 21\r\n"
    assert skcmd.sreg(b"S3", 0x88, 4) == b"SKSREG S3 0088\r\n"
    assert skcmd.setpwd(b"0123456789AB") == b"SKSETPWD C 0123456789AB\r\n"
    st = skcmd.SendTo(sk.SINGLE, IP_M)
    assert bytes(st.header(0x12)) == b"SKSENDTO 1 " + IP_M + b" 0E1A 1 0012 "
    assert bytes(skcmd.SendTo(sk.DUAL, IP_M).header(0x4D0)) == b"SKSENDTO 1 " + IP_M + b" 0E1A 1 0 04D0 "


def test_mask_hides_secrets():
    assert "0123" not in skcmd.mask(skcmd.setpwd(b"0123456789AB"))
    assert "0000" not in skcmd.mask(skcmd.setrbid(b"00112233445566778899AABBCCDDEEFF"))
    assert skcmd.mask(b"SKVER\r\n") == "SKVER"
