"""The last scan result (channel, pan_id, addr as 16 hex digits, lqi) in a small JSON file, so a warm start can join without scanning.

Written only when the content changes (the board's flash wears out; a reading never writes).
"""
import json
import os


class ScanCache:
    def __init__(self, path):
        self._path = path
        self._last = None

    def load(self):
        """The cached dict, or None when there is no usable file."""
        try:
            with open(self._path) as f:
                d = json.load(f)
        except (OSError, ValueError):
            return None
        if not isinstance(d, dict):
            return None
        if not (isinstance(d.get("channel"), int) and isinstance(d.get("pan_id"), int)
                and isinstance(d.get("addr"), str) and len(d["addr"]) == 16):
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
