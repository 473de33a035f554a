"""The scan cache on file: a file that is not a scan result the session can join from is no
cache at all, and it is removed so that the next start scans instead of failing again."""
import json
import os
import sys
import time

from broute import scancache
from broute import session
from session_fake import VClock, FakeModule, RBID, PWD, run

GOOD = {"channel": 0x3B, "pan_id": 0x8888, "addr": "001D129012345678", "rssi": -55,
        "ip": "FE80:0000:0000:0000:021D:1290:1234:5678"}


def _path():
    folder = scancache.__file__.replace("\\", "/").rsplit("/", 1)[0]
    root = folder.rsplit("/", 1)[0] if "/" in folder else "."
    try:
        os.mkdir(root + "/build")
    except OSError:
        pass
    # pytest and the unix port may run this at the same time
    return "%s/build/scancache-%s-%d-%d.json" % (root, sys.implementation.name, id(GOOD),
                                                  int(time.time() * 1000) % 1000000000)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _with(text):
    path = _path()
    with open(path, "w") as f:
        f.write(text)
    return path


def _bad_caches():
    def changed(**kv):
        d = dict(GOOD)
        d.update(kv)
        return json.dumps(d)

    def without(key):
        d = dict(GOOD)
        del d[key]
        return json.dumps(d)

    return [
        "", "{oops", "[1, 2]", "null", '"x"', "{}", "[" * 5000 + "]" * 5000,
        json.dumps(dict(GOOD, _pad="x" * 1000)),
        changed(channel=0x20), changed(channel=0x3D), changed(channel=-1), changed(channel="3B"),
        changed(channel=True), changed(channel=59.0), without("channel"),
        changed(pan_id=-1), changed(pan_id=0x10000), changed(pan_id=None), without("pan_id"),
        changed(addr="001D12901234567"), changed(addr="001D1290123456789"),
        changed(addr="001D12901234567G"), changed(addr="001D1290 2345678"),
        changed(addr=0x001D129012345678), without("addr"),
        changed(ip="FE80::21D:1290:1234:5678"), changed(ip="2001:0000:0000:0000:021D:1290:1234:5678"),
        changed(ip="FE80:0000:0000:0001:021D:1290:1234:5678"),
        changed(ip="FE80:0000:0000:0000:021D:1290:1234:567G"),
        changed(ip="FE80:0000:0000:0000:021D:1290:12345:678"), changed(ip=""), changed(ip=None),
        changed(rssi=1), changed(rssi=-129), changed(rssi="-55"), changed(rssi=-55.5),
    ]


def test_a_valid_cache_loads_and_round_trips():
    path = _path()
    try:
        c = scancache.ScanCache(path)
        assert c.load() is None
        c.save(GOOD)
        assert scancache.ScanCache(path).load() == GOOD
        lean = {"channel": 0x21, "pan_id": 0, "addr": "ffffffffffffffff"}  # rssi and ip optional
        c.save(lean)
        assert scancache.ScanCache(path).load() == lean
        low = dict(GOOD, ip="fe80:0000:0000:0000:021d:1290:1234:5678", channel=0x3C,
                   pan_id=0xFFFF, rssi=-128)
        c.save(low)
        assert scancache.ScanCache(path).load() == low
    finally:
        scancache.ScanCache(path).clear()


def test_a_bad_cache_is_no_cache_and_is_removed():
    for text in _bad_caches():
        path = _with(text)
        try:
            assert scancache.ScanCache(path).load() is None, text
            assert not _exists(path), text
        finally:
            scancache.ScanCache(path).clear()


def test_a_bad_cache_file_ends_in_a_scan_and_a_good_cache():
    """The session's warm start with a broken file: one scan, a join, and the file fixed."""
    for text in (json.dumps(dict(GOOD, addr="001D1290ZZZZ5678")), json.dumps(dict(GOOD, channel=0x99))):
        path = _with(text)
        try:
            clock = VClock()
            mod = FakeModule(clock, chunk=7)
            mod.scan_min = 4
            s = session.Session(mod, mod, RBID, PWD, cache=scancache.ScanCache(path), clock=clock,
                                log=lambda m: None)
            assert run(s, clock, lambda: s.reading.seq >= 1, 600000)
            assert "SKSCAN" in mod.sent and s.scans == 1
            with open(path) as f:
                saved = json.load(f)
            assert saved["addr"] == "001D129012345678" and saved["channel"] == 0x3B
        finally:
            scancache.ScanCache(path).clear()
