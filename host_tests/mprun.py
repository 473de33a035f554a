"""Run the portable test modules under the MicroPython unix port.

The same files run under pytest on CPython: each module holds plain `test_*`
functions using bare asserts, so both interpreters execute identical cases.
"""
import os
import sys


def _modules(folder):
    names = [n[:-3] for n in os.listdir(folder) if n.startswith("test_") and n.endswith(".py")]
    names.sort()
    return names


def run(folder):
    for p in (folder, "tools", "tools/build", "tools/bench", "tools/emulation", "tools/simulator", "tools/reader",
              "lib", "firmware"):  # the one place; run from the repository's root
        sys.path.insert(0, p)
    passed = failed = 0
    for name in _modules(folder):
        mod = __import__(name)
        tests = [t for t in dir(mod) if t.startswith("test_")]
        tests.sort()
        for t in tests:
            try:
                getattr(mod, t)()
                passed += 1
            except Exception as e:  # report and go on: one failure must not hide others
                failed += 1
                print("FAIL", name + "." + t)
                sys.print_exception(e)
    print("micropython: %d passed, %d failed" % (passed, failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if run(sys.argv[1] if len(sys.argv) > 1 else "host_tests/portable") else 0)
