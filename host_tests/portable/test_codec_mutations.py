"""Mutated real frames on both interpreters: MicroPython's memoryview and int semantics differ from
CPython's, so the codec's 'EchonetError or a value, nothing else' promise is checked on each."""
import eldecode
from corpus import FRAMES
from broute.echonet import EchonetError, Frame


class _Lcg:
    """A tiny deterministic generator, identical on both interpreters."""

    def __init__(self, seed):
        self.x = seed

    def next(self, n):
        self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
        return self.x % n


def _decode_all(f, raw):
    try:
        f.parse(raw)
    except EchonetError:
        return 0
    for i in range(f.opc):
        try:
            eldecode.decode(f.seoj, f.epc(i), f.edt(i))
        except EchonetError:
            pass
    return 1


def test_mutations_raise_only_codec_errors():
    rng = _Lcg(2024)
    f = Frame()
    seeds = [bytes.fromhex(h) for _, h, *_ in FRAMES]
    parsed = 0
    for n in range(4000):
        raw = bytearray(seeds[rng.next(len(seeds))])
        for _ in range(rng.next(4)):
            raw[rng.next(len(raw))] = rng.next(256)
        if rng.next(4) == 0:
            raw = raw[:rng.next(len(raw) + 1)]
        parsed += _decode_all(f, bytes(raw))
    assert parsed > 500  # the mutations must also reach the decoders, not only the header checks
