# These modules need framebuf, ticks and heap_lock: they run under the
# MicroPython unix port via host_tests/test_firmware_mp.py, not under pytest.
collect_ignore_glob = ["test_*.py"]
