"""Random and mutated bytes: the codec answers with a value or EchonetError, never anything else."""
from hypothesis import given, settings, strategies as st

import eldecode
from corpus import FRAMES
from broute.echonet import EchonetError, Frame

SEEDS = [bytes.fromhex(h) for _, h, *_ in FRAMES]


def _decode_all(raw):
    f = Frame()
    try:
        f.parse(raw)
    except EchonetError:
        return
    for i in range(f.opc):
        try:
            eldecode.decode(f.seoj, f.epc(i), f.edt(i))
        except EchonetError:
            pass


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes(raw):
    _decode_all(raw)


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6),
       st.integers(0, 300), st.binary(max_size=8))
def test_mutated_real_frames(seed, flips, cut, tail):
    raw = bytearray(seed)
    for pos, value in flips:
        if raw:
            raw[pos % len(raw)] = value
    _decode_all(bytes(raw[:cut]) + tail)


@settings(max_examples=2000, deadline=None)
@given(st.integers(0x80, 0xFF), st.binary(max_size=200), st.sampled_from([0x028801, 0x0EF001]))
def test_every_decoder_on_any_edt(epc, edt, eoj):
    try:
        eldecode.decode(eoj, epc, edt)
    except EchonetError:
        pass
