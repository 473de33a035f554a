"""The one place the host entry points put the project's folders on sys.path.

A script in tools/ run directly (CPython or the MicroPython unix port) has tools/ on
sys.path already, as its own folder; one that imports lib/ or firmware/ modules starts with

    import paths  # noqa: F401  (lib/, firmware/ and tools/ on sys.path)

Modules that are not entry points never edit sys.path: the script that imports them (or
host_tests/conftest.py under pytest, host_tests/mprun.py under MicroPython) has set it.
"""
import sys

_here = __file__ if __file__.startswith("/") else __import__("os").getcwd() + "/" + __file__
ROOT = _here.rsplit("/", 2)[0]  # <root>/tools/paths.py
del _here


def put_first(folder):
    """`folder` (absolute, or relative to the repository's root) first on sys.path, unless
    it is there already."""
    p = folder if folder.startswith("/") else ROOT + "/" + folder
    if p not in sys.path:
        sys.path.insert(0, p)


for _f in ("tools", "lib", "firmware"):
    put_first(_f)
