"""Detection of the module family (lib/broute/detect.py): the sniffer on bytes, and the probe
against both simulators in virtual time (sim_module in each SKSTACK dialect, sim_j11), a
silent UART (None, within the time bound) and a J11 module mid-boot. After detection the
module must still be fit for its driver: the session reaches its first reading."""
import asyncio

import pytest

from broute import detect
from broute import session as bs
from broute.scancache import MemoryCache
import sim_vlink as vl
from sim_faults import Faults
from sim_meter import DEFAULT_ID, DEFAULT_PASSWORD, Meter, scenario
from sim_module import Module

try:
    import sim_j11
except ImportError:  # the J11 simulator not there yet
    sim_j11 = None
needs_j11 = pytest.mark.skipif(sim_j11 is None, reason="tools/simulator/sim_j11.py missing")

J11_VERSION_RES = bytes.fromhex("D0F9EE5D206B000D03E0") + bytes.fromhex("0000") + bytes(9)


def _j11(code, data=b""):
    head = bytes.fromhex("D0F9EE5D") + code.to_bytes(2, "big") + (4 + len(data)).to_bytes(2, "big")
    return head + (sum(head) & 0xFFFF).to_bytes(2, "big") + (sum(data) & 0xFFFF).to_bytes(2, "big") + data


def _sniff(*chunks):
    s = detect.Sniffer()
    for c in chunks:
        s.feed(c)
    return s


def test_sniffer_names_each_family_from_its_answer_only():
    assert _sniff(b"SKVER\r\nEVER 1.2.10\r\nOK\r\n").family == "skstack"
    assert _sniff(b"\xd0\xea\x83\xfc\x00k\r\nFAIL ER04\r\n").family == "skstack"  # the echoed garbage
    s = _sniff(_j11(0x206B, b"\x01\x04\x00\x01\x02\x00\x00\x00\x03"))
    assert (s.family, s.code) == ("j11", 0x206B)
    assert _sniff(_j11(0x6019, b"\x01")).code == 0x6019  # booting: its boot notification
    assert _sniff(b"SKVER\r\n", b"\r\n").family is None  # an echo alone says nothing
    assert _sniff(b"\x00\xff" * 200).family is None


def test_sniffer_finds_answers_split_anywhere_and_after_garbage():
    frame = _j11(0x206B, b"\x01" + bytes(8))
    for junk in (b"", b"\x00\xd0\xf9", bytes(range(256)) * 2):
        data = junk + frame
        for cut in range(1, len(data)):
            assert _sniff(data[:cut], data[cut:]).family == "j11", (junk, cut)
    text = b"\xff\xfe" * 40 + b"EVER 1.2.10\r\n"
    for cut in range(1, len(text)):
        assert _sniff(text[:cut], text[cut:]).family == "skstack", cut


def test_sniffer_refuses_a_j11_header_with_a_wrong_checksum():
    bad = bytearray(_j11(0x206B, b"\x01"))
    bad[9] ^= 1
    assert _sniff(bytes(bad)).family is None


class Silent:
    """A UART with nothing on it: writes vanish, reads wait."""

    def __init__(self, clock):
        self.written = []
        clock.mod = self

    def write(self, b):
        self.written.append(bytes(b))

    async def drain(self):
        pass

    async def read(self, n):
        while True:
            await asyncio.sleep(0)

    def release(self, now):
        pass

    def next_due(self):
        return None


def _probe(link, clock):
    return asyncio.run(detect.probe(link, link, clock))


def _sk(dialect):
    clock = vl.VClock()
    m = Module(dialect, Meter(scenario("normal")), Faults([], 0, 1))
    return vl.Link(m, clock), clock, m


def _j11sim(**kw):
    clock = vl.VClock()
    m = sim_j11.Module(Meter(scenario("normal")), Faults([], 0, 1, family="j11"), **kw)
    return vl.Link(m, clock), clock, m


@pytest.mark.parametrize("dialect", ["bp35a1", "bp35c0", "rl7023-ips"])
def test_a_skstack_module_is_found_by_its_version_answer(dialect):
    link, clock, m = _sk(dialect)
    assert _probe(link, clock) == "skstack"
    assert clock.now < 100  # it answered at once: the J11 question was never asked
    assert link.written == [detect.ASK_TEXT] and m.wopt_writes == 0


@needs_j11
def test_a_j11_module_is_found_by_its_version_response():
    link, clock, m = _j11sim()
    clock.now = 10000  # long booted
    m.read(10.0)
    assert _probe(link, clock) == "j11"
    assert link.written == [detect.ASK_TEXT, detect.ASK_J11]
    assert detect.ANSWER_MS <= clock.now - 10000 < 2 * detect.ANSWER_MS


@needs_j11
def test_a_j11_module_mid_boot_is_found_by_its_boot_notification():
    link, clock, m = _j11sim()
    clock.now = 10000
    m.restart(10.0)  # powered up just now: it ignores both questions, then says 6019 by itself
    m.read(10.0)
    assert _probe(link, clock) == "j11"
    assert clock.now - 10000 < 2 * detect.ANSWER_MS


def test_a_silent_uart_is_none_within_the_time_bound():
    clock = vl.VClock()
    link = Silent(clock)
    assert _probe(link, clock) is None
    assert clock.now <= 2 * detect.ANSWER_MS + 10
    assert link.written == [detect.ASK_TEXT, detect.ASK_J11]


def _first_reading(link, clock, family):
    s = bs.Session(link, link, DEFAULT_ID, DEFAULT_PASSWORD, MemoryCache(), clock,
                   driver=detect.driver(family))
    assert vl.run(s, clock, lambda: s.reading.seq >= 1, clock.now + 300000), s.reason
    return s


@pytest.mark.parametrize("dialect", ["bp35a1", "bp35c0"])
def test_after_detection_a_skstack_module_still_reaches_the_first_reading(dialect):
    link, clock, m = _sk(dialect)
    assert _probe(link, clock) == "skstack"
    s = _first_reading(link, clock, "skstack")
    assert type(s._drv).__name__ == "SkDriver" and m.wopt_writes == 0


@needs_j11
def test_after_detection_a_j11_module_still_reaches_the_first_reading():
    link, clock, m = _j11sim()
    assert _probe(link, clock) == "j11"
    s = _first_reading(link, clock, "j11")
    assert type(s._drv).__name__ == "J11Driver"
    assert getattr(m, "flash_writes", 0) == 0


def test_the_driver_of_each_family():
    from broute.j11driver import J11Driver
    from broute.skdriver import SkDriver
    assert detect.driver("skstack") is SkDriver and detect.driver("j11") is J11Driver


class Board:
    """What firmware/board.py offers detect.on_board, over links."""
    hat, hat_rx, hat_tx = "auto", 26, 0

    def __init__(self, clock, modules):
        self.clock, self.modules = clock, modules  # rx pin -> a module (or None: silent)
        self.opened, self.reset = [], False

    async def uart_streams(self, rx):
        self.opened.append(rx)
        m = self.modules.get(rx)
        link = Silent(self.clock) if m is None else vl.Link(m, self.clock)
        return link, link

    def reset_line(self, cls):
        self.reset = True
        return cls


def test_on_board_walks_the_wirings_and_says_when_nothing_answers():
    clock = vl.VClock()
    m = Module("bp35a1", Meter(scenario("normal")), Faults([], 0, 1))
    b = Board(clock, {36: m})  # the old HAT rev0.1: RX on G36
    logs = []
    r, w, drv = asyncio.run(detect.on_board(b, "auto", clock, logs.append))
    assert b.opened == [26, 36] and not b.reset and drv.__name__ == "SkDriver"
    assert "Wi-SUN module: no answer on G26" in logs and "Wi-SUN module: skstack on G36" in logs

    clock = vl.VClock()
    b = Board(clock, {})
    told = []

    async def give_up():
        t = asyncio.ensure_future(detect.on_board(b, "auto", clock, logs.append, lambda: told.append(1)))
        while clock.now < 30000:
            await asyncio.sleep(0)
        t.cancel()
    asyncio.run(give_up())
    assert told == [1] and not b.reset and len(b.opened) >= 6  # retried, told once


def test_the_wirings_of_each_hat_and_family():
    w = detect.wirings
    assert w("auto", "auto", 26) == ((26, None), (36, None))
    assert w("auto", "auto", 36) == ((36, None), (26, None))  # the old BP35A1 HAT rev0.1 first
    assert w("c1", "auto", 26) == w("auto", "j11", 26) == ((36, "j11"),)
    assert w("bp35a1", "auto", 36) == w("auto", "skstack", 36) == ((36, "skstack"),)


@needs_j11
def test_only_j11_on_g36_makes_g26_the_reset_line():
    def found(modules, hat="auto", tx=0):
        clock = vl.VClock()
        b = Board(clock, modules)
        b.hat, b.hat_tx = hat, tx
        _, _, drv = asyncio.run(detect.on_board(b, "auto", clock, lambda line: None))
        return b.reset, b.hat
    booted = sim_j11.Module(Meter(scenario("normal")), Faults([], 0, 1, family="j11"))
    assert found({36: booted}) == (True, "c1")
    assert found({36: Module("bp35a1", Meter(scenario("normal")), Faults([], 0, 1))}) == (False, "auto")
    j11 = sim_j11.Module(Meter(scenario("normal")), Faults([], 0, 1, family="j11"))
    assert found({26: j11}) == (False, "auto")  # wired by hand on G26: no reset line known
