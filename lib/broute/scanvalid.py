"""What a scan result the session can join from is (`valid`): the scan cache's check of its
file (scancache.py), imported by ScanCache.load and dropped once it has answered."""


def _int_in(v, lo, hi):
    return type(v) is int and lo <= v <= hi  # type(): a JSON true is no channel


def _hex(s, n):
    """Whether `s` is text of `n` hex digits (either case)."""
    return isinstance(s, str) and len(s) == n and all(c in "0123456789ABCDEFabcdef" for c in s)


def _link_local(s):
    """The form SKLL64 answers and SKJOIN takes: FE80:0000:0000:0000:xxxx:xxxx:xxxx:xxxx
    (docs/protocol.md section 2)."""
    if not isinstance(s, str) or len(s) != 39:
        return False
    groups = s.split(":")
    if len(groups) != 8 or groups[0].upper() != "FE80" or groups[1:4] != ["0000"] * 3:
        return False
    return all(_hex(g, 4) for g in groups[4:])


def valid(d):
    """Whether `d` is a scan result the session can join from: the channel (0x21-0x3C) and
    PAN ID go into SKSREG S2/S3, the address into SKLL64, the ip into SKJOIN."""
    return (isinstance(d, dict) and _int_in(d.get("channel"), 0x21, 0x3C)
            and _int_in(d.get("pan_id"), 0, 0xFFFF)
            and _hex(d.get("addr"), 16)
            and ("ip" not in d or _link_local(d["ip"]))
            and ("rssi" not in d or _int_in(d["rssi"], -128, 0)))
