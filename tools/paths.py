"""The one place the host entry points put the project's folders on sys.path.

tools/ holds the entry points scripts rely on (broute.py, sim.py, run_host.py) and this
file; the host programs are in folders by role:

    tools/reader/     the PC reader behind tools/broute.py (PC-only, never deployed)
    tools/simulator/  the Wi-SUN module and smart meter behind tools/sim.py
    tools/emulation/  the firmware on the PC: emulated board, `machine` fake, PNG frames
    tools/bench/      measurements: benchmarks, soak, the 32-bit heap (mem32)
    tools/build/      mpy-cross compile, deploy, fonts

A script in tools/ has tools/ on sys.path already, as its own folder, and starts with

    import paths  # noqa: F401  (the project's folders)

A script in a role folder has only that folder; it points sys.path[0] at tools/ first (its
own folder comes back with the others):

    import sys
    if __name__ == "__main__":  # run as a script: tools/ (paths.py) in place of its own folder
        sys.path[0] = sys.path[0].rsplit("/", 1)[0]
    import paths  # noqa: F401,E402  (the project's folders)

Modules that are not entry points never edit sys.path: the script that imports them (or
host_tests/conftest.py under pytest, host_tests/mprun.py under MicroPython) has set it.
lib/ comes before tools/: lib/broute is the package, tools/broute.py a script.
"""
import sys

_here = __file__ if __file__.startswith("/") else __import__("os").getcwd() + "/" + __file__
ROOT = _here.rsplit("/", 2)[0]  # <root>/tools/paths.py
del _here

# first to last on sys.path; host_tests/portable for session_fake (sim_vlink's virtual clock,
# bench_session's allocation figures)
FOLDERS = ("firmware", "lib", "tools/reader", "tools/simulator", "tools/emulation", "tools/bench",
           "tools/build", "tools", "host_tests/portable")


def put_first(folder):
    """`folder` (absolute, or relative to the repository's root) first on sys.path, unless
    it is there already."""
    p = folder if folder.startswith("/") else ROOT + "/" + folder
    if p not in sys.path:
        sys.path.insert(0, p)


for _f in reversed(FOLDERS):
    put_first(_f)
