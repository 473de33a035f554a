"""The last scan result (channel, pan_id, addr as 16 hex digits, rssi in dBm) in a small JSON file, so a warm start can join without scanning.

Written only when the content changes (the board's flash wears out; a reading never writes).
What a valid result is, is scanvalid.py's, loaded only while the file is read.
"""
import json
import os

_MAX_BYTES = 512  # a real cache is about 130 bytes; more is a broken file, not worth the heap


class ScanCache:
    def __init__(self, path):
        self._path = path
        self._last = None  # what the file holds as last read or written ({}: no file); None: not read

    def load(self):
        """The cached dict, or None when there is none; a file that is not a valid scan
        result is removed, so that a scan follows instead of a join that cannot work."""
        try:
            with open(self._path, "rb") as f:
                text = f.read(_MAX_BYTES + 1)
        except OSError:
            self._last = {}
            return None
        try:
            d = json.loads(text) if len(text) <= _MAX_BYTES else None
        except ValueError:
            d = None
        from .scanvalid import valid  # the ladder's find step drops it once read (stepfind.py)
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
        self._last = {}
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
