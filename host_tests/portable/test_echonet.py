"""Frame parsing and building, on CPython and the MicroPython unix port alike."""
from broute import echonet
import eldecode
from broute.echonet import EchonetError, Frame, Builder, Tids
from corpus import FRAMES, INVALID


def _h(s):
    return bytes.fromhex(s)


def test_corpus_headers_and_properties():
    f = Frame()
    for label, hexs, tid, seoj, deoj, esv, props in FRAMES:
        f.parse(_h(hexs))
        assert (f.tid, f.seoj, f.deoj, f.esv) == (tid, seoj, deoj, esv), label
        for epc, _ in props:
            assert f.find(epc) >= 0, label


def test_edt_is_a_view_not_a_copy():
    buf = bytearray(_h("1081000102880105FF017201E704000002AE"))
    f = Frame().parse(buf)
    edt = f.edt(0)
    assert isinstance(edt, memoryview)
    buf[-1] = 0xAF
    assert edt[3] == 0xAF


def test_properties_in_order_with_lengths():
    f = Frame().parse(_h("1081100202880105FF017202E7040000029CE80400280028"))
    assert f.opc == 2
    assert [f.epc(i) for i in range(2)] == [0xE7, 0xE8]
    assert [f.pdc(i) for i in range(2)] == [4, 4]
    assert bytes(f.edt(1)) == _h("00280028")
    assert f.find(0xE0) == -1


def test_invalid_frames_name_the_problem():
    f = Frame()
    for label, hexs, words in INVALID:
        try:
            f.parse(_h(hexs))
        except EchonetError as e:
            assert words in str(e), (label, str(e))
        else:
            assert False, "accepted " + label


def test_failed_parse_leaves_no_stale_properties():
    f = Frame().parse(_h("1081000102880105FF017201E704000002AE"))
    try:
        f.parse(_h("1081000102880105FF017202E704000002AE"))
    except EchonetError:
        pass
    assert f.opc == 0 and f.find(0xE7) == -1


def test_get_several_epcs_in_one_frame():
    b = Builder()
    frame = b.get(1, echonet.METER, b"\xe7\xe8\xe0")
    assert bytes(frame) == _h("1081000105FF010288016203E700E800E000")


def test_get_rejects_empty_and_oversized():
    b = Builder(size=20)
    for epcs in (b"", bytes(range(0x80, 0x90))):
        try:
            b.get(1, echonet.METER, epcs)
        except EchonetError:
            continue
        assert False, len(epcs)


def test_setc_day_selection():
    frame = Builder().setc(0x1234, echonet.METER, 0xE5, b"\x00")
    assert bytes(frame) == _h("1081123405FF010288016101E50100")


def test_infc_res_answers_with_same_tid_and_empty_edts():
    infc = Frame().parse(_h("1081ABCD02880105FF017402EA0B07E70C13001E000000458EEB0B07E70C13001E0000000015"))
    res = Builder().infc_res(infc)
    assert bytes(res) == _h("1081ABCD05FF010288017A02EA00EB00")


def test_infc_res_only_for_infc():
    inf = Frame().parse(_h("108100000EF0010EF0017301D50401028801"))
    try:
        Builder().infc_res(inf)
    except EchonetError:
        return
    assert False


def test_built_frames_parse_back():
    f = Frame()
    f.parse(Builder().get(7, echonet.METER, b"\xd3\xe1\xd7"))
    assert (f.tid, f.esv, f.opc, f.epc(2), f.pdc(2)) == (7, echonet.GET, 3, 0xD7, 0)


def test_tids_wrap_at_ffff():
    t = Tids(0xFFFE)
    assert [t.next() for _ in range(4)] == [0xFFFE, 0xFFFF, 0, 1]


def test_esv_names():
    assert eldecode.ESV_NAMES[0x72] == "Get_Res"
    assert eldecode.ESV_NAMES[0x7A] == "INFC_Res"
