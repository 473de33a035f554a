#!/usr/bin/env python3
"""B-route command line for a PC or Raspberry Pi, on the same lib/ code as the firmware.

  broute.py decode <hex frame | whole ERXUDP line>   print one JSON object describing the frame
  broute.py read --port DEV [--count N] [--json]     read a meter through a USB Wi-SUN dongle
"""
import argparse
import json
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "lib"))

import echonet  # noqa: E402
import eldecode  # noqa: E402
import meter  # noqa: E402
from echonet import EchonetError  # noqa: E402

_SENTINELS = (meter.NO_DATA, meter.OVERFLOW, meter.UNDERFLOW)


class InputError(ValueError):
    """The command line text is neither a hex frame nor an ERXUDP line."""


def split_input(text):
    """Returns (frame bytes, ERXUDP envelope dict or None); accepts both module dialects."""
    tokens = text.split()
    if not tokens:
        raise InputError("nothing to decode")
    if tokens[0] != "ERXUDP":
        try:
            return bytes.fromhex("".join(tokens)), None
        except ValueError:
            raise InputError("not hex and not an ERXUDP line")
    # single-stack: 9 tokens; dual-stack adds SIDE (10), and with SA2 a signal field (11)
    dialects = {9: "single-stack", 10: "dual-stack", 11: "dual-stack"}
    if len(tokens) not in dialects:
        raise InputError("ERXUDP line has %d fields; expected 9 (single-stack) or 10 (dual-stack)" % len(tokens))
    length, data = int(tokens[-2], 16), tokens[-1]
    try:
        frame = bytes.fromhex(data)
    except ValueError:
        raise InputError("ERXUDP data is not hex ASCII (a binary payload cannot be pasted)")
    if len(frame) != length:
        raise InputError("ERXUDP DATALEN says %d bytes, data holds %d" % (length, len(frame)))
    envelope = {"sender": tokens[1], "dest": tokens[2], "rport": tokens[3], "lport": tokens[4],
                "sender_mac": tokens[5], "secured": tokens[6] == "1", "dialect": dialects[len(tokens)]}
    return frame, envelope


def _plain(v):
    """Sentinels become None (reported separately in 'status')."""
    return None if v in _SENTINELS else v


def _status(values):
    names = [repr(v) for v in values if v in _SENTINELS]
    return {"status": names[0] if len(set(names)) == 1 else names} if names else {}


def _iso(t):
    return "%04d-%02d-%02dT%02d:%02d:%02d" % tuple(t)


def _energy(raw, scale):
    if raw is meter.NO_DATA or scale is None:
        return _plain(raw)
    return round(meter.kwh(raw, scale[0], scale[1]), 6)


def natural(eoj, epc, edt, scale):
    """Value in natural units (W, A, kWh, ISO date-time) plus unit and status fields."""
    v = eldecode.decode(eoj, epc, edt)
    energy_unit = "kWh" if scale else "count"
    if eoj >> 8 == echonet.NODE_PROFILE >> 8:
        return {"value": ["%06X" % e for e in v]}
    if epc == 0xE7:
        return dict({"value": _plain(v), "unit": "W"}, **_status([v]))
    if epc == 0xE8:
        amps = {"r": None if v[0] in _SENTINELS else v[0] / 10, "t": None if v[1] in _SENTINELS else v[1] / 10}
        return dict({"value": amps, "unit": "A"}, **_status(v))
    if epc in (0xE0, 0xE3):
        return dict({"value": _energy(v, scale), "unit": energy_unit, "counter": _plain(v)}, **_status([v]))
    if epc in (0xEA, 0xEB):
        return dict({"value": {"time": _iso(v[:6]), "energy": _energy(v[6], scale)}, "unit": energy_unit},
                    **_status([v[6]]))
    if epc in (0xE2, 0xE4):
        return {"value": {"day": v[0], "energy": [_energy(x, scale) for x in v[1]]}, "unit": energy_unit}
    if epc == 0xEC:
        slots = [{"normal": _energy(n, scale), "reverse": _energy(r, scale)} for n, r in v[5]]
        return {"value": {"time": _iso(list(v[:5]) + [0]), "slots": slots}, "unit": energy_unit}
    if epc == 0xED:
        return {"value": {"time": _iso(list(v[:5]) + [0]), "count": v[5]}}
    if epc in (0x9D, 0x9E, 0x9F):
        return {"value": ["%02X" % e for e in v]}
    if epc == 0xE1:
        return {"value": v, "unit": "kWh per count"}
    return {"value": v}


def _scale(f, coefficient, unit_code):
    """Coefficient and unit for kWh: from the frame itself, else from the command line."""
    i = f.find(0xD3)
    if i >= 0 and f.pdc(i):
        coefficient = meter.coefficient(f.edt(i))
    i = f.find(0xE1)
    unit = meter.unit_kwh(bytes([unit_code])) if unit_code is not None else None
    if i >= 0 and f.pdc(i):
        unit = meter.unit_kwh(f.edt(i))
    return None if unit is None else (coefficient, unit)


def describe(raw, envelope=None, coefficient=1, unit_code=None):
    f = echonet.Frame().parse(raw)
    scale = _scale(f, coefficient, unit_code)
    props = []
    for i in range(f.opc):
        epc, edt = f.epc(i), f.edt(i)
        p = {"epc": "%02X" % epc, "name": eldecode.name(f.seoj, epc), "pdc": f.pdc(i), "raw": bytes(edt).hex().upper()}
        if f.pdc(i):
            try:
                p.update(natural(f.seoj, epc, edt, scale))
            except EchonetError as e:
                p.update({"value": None, "error": str(e)})
        props.append(p)
    out = {"tid": f.tid, "seoj": "%06X" % f.seoj, "deoj": "%06X" % f.deoj,
           "esv": {"code": "%02X" % f.esv, "name": eldecode.ESV_NAMES.get(f.esv, "unknown")}, "properties": props}
    if envelope:
        out["erxudp"] = envelope
    return out


def cmd_decode(args):
    try:
        raw, envelope = split_input(" ".join(args.frame))
        print(json.dumps(describe(raw, envelope, args.coefficient, args.unit), ensure_ascii=False))
    except (InputError, EchonetError) as e:
        print(json.dumps({"error": str(e)}), file=sys.stdout)
        return 1
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["read"]:  # argparse's REMAINDER drops leading options such as --port
        import broute_read
        return broute_read.main(argv[1:])
    ap = argparse.ArgumentParser(prog="broute.py", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    d = sub.add_parser("decode", help="decode a hex ECHONET Lite frame or a whole ERXUDP line")
    d.add_argument("frame", nargs="+", help="hex bytes, or the ERXUDP line (quoted or not)")
    d.add_argument("--coefficient", type=int, default=1, help="D3 coefficient when the frame has none (default 1)")
    d.add_argument("--unit", type=lambda s: int(s, 16), default=None,
                   help="E1 unit code in hex (e.g. 01 = 0.1 kWh) when the frame has none; without it counters stay raw")
    r = sub.add_parser("read", help="read a meter through a USB Wi-SUN dongle", add_help=False)
    r.add_argument("rest", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    if args.command == "decode":
        return cmd_decode(args)
    import broute_read
    return broute_read.main(args.rest)


if __name__ == "__main__":
    sys.exit(main())
