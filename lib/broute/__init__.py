"""The portable B-route code: runs on the stick, the MicroPython unix port and CPython."""
