"""The last scan result (channel, pan_id, addr as 16 hex digits, rssi in dBm) in a small JSON file, so a warm start can join without scanning.

Written only when the content changes (the board's flash wears out; a reading never writes).
"""
import json
import os
from .session import text_problem

_MAX_BYTES = 512  # a real cache is about 130 bytes; more is a broken file, not worth the heap


def _int_in(v, lo, hi):
    return type(v) is int and lo <= v <= hi  # type(): a JSON true is no channel


def _link_local(s):
    """The form SKLL64 answers and SKJOIN takes: FE80:0000:0000:0000:xxxx:xxxx:xxxx:xxxx
    (docs/protocol.md section 2)."""
    if not isinstance(s, str) or len(s) != 39:
        return False
    groups = s.split(":")
    if len(groups) != 8 or groups[0].upper() != "FE80" or groups[1:4] != ["0000"] * 3:
        return False
    for g in groups[4:]:
        if text_problem(g, 4, "", "F"):
            return False
    return True


def valid(d):
    """Whether `d` is a scan result the session can join from: the channel (0x21-0x3C) and
    PAN ID go into SKSREG S2/S3, the address into SKLL64, the ip into SKJOIN."""
    return (isinstance(d, dict) and _int_in(d.get("channel"), 0x21, 0x3C)
            and _int_in(d.get("pan_id"), 0, 0xFFFF)
            and not text_problem(d.get("addr"), 16, "", "F")
            and ("ip" not in d or _link_local(d["ip"]))
            and ("rssi" not in d or _int_in(d["rssi"], -128, 0)))


class ScanCache:
    def __init__(self, path):
        self._path = path
        self._last = None

    def load(self):
        """The cached dict, or None when there is none; a file that is not a valid scan
        result is removed, so that a scan follows instead of a join that cannot work."""
        try:
            with open(self._path, "rb") as f:
                text = f.read(_MAX_BYTES + 1)
        except OSError:
            return None
        try:
            d = json.loads(text) if len(text) <= _MAX_BYTES else None
        except ValueError:
            d = None
        if not valid(d):
            self.clear()
            return None
        self._last = d
        return d

    def save(self, d):
        if d == self._last:
            return
        if self._last is None and self.load() == d:
            return
        with open(self._path, "w") as f:
            json.dump(d, f)
        self._last = dict(d)

    def clear(self):
        self._last = None
        try:
            os.remove(self._path)
        except OSError:
            pass


class MemoryCache:
    """The same interface without a file (PC command line without --cache, tests)."""

    def __init__(self, d=None):
        self.data = d
        self.saves = 0

    def load(self):
        return None if self.data is None else dict(self.data)

    def save(self, d):
        if d != self.data:
            self.data = dict(d)
            self.saves += 1

    def clear(self):
        self.data = None
