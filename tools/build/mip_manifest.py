"""Write package.json, the mip manifest: `mpremote mip install` puts the firmware on a board with it.

    python tools/build/mip_manifest.py           # rewrite package.json from the tree
    python tools/build/mip_manifest.py --check   # exit 1 if package.json is not what it would write

The manifest is generated from the tree, never edited by hand, so it cannot drift from the
files `make deploy` puts on the board. Its destinations are relative to the board's root, the
same layout as tools/build/deploy.py's (there compiled to .mpy, here the .py sources):

    lib/broute/<name>.py  <- lib/broute/<name>.py    the portable package
    lib/<name>.py         <- firmware/<name>.py      board drivers and UI
    fonts/<name>.bin      <- firmware/fonts/<name>.bin
    boot.py, main.py      <- boot.py, main.py        last, so a half-done install never starts

so it is installed with `--target /` (docs/flashing.md). The sources are relative to the
manifest: mip fetches them beside a local package.json or from the repository it came from.
The version is lib/broute/version.py's VERSION, read as text (nothing is imported).
"""
import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MANIFEST = "package.json"
FONTS = os.path.join("firmware", "fonts")
TOP = ("boot.py", "main.py")
PAGE = "page.html"  # the web page (docs/http.md); deploy puts it compressed, page.html.gz


def _files(top, ending, skip=()):
    """Paths relative to ROOT, with "/", of the files under `top` ending in `ending`, sorted."""
    out = []
    for d, dirs, names in os.walk(os.path.join(ROOT, top)):
        rel = os.path.relpath(d, ROOT)
        dirs[:] = sorted(x for x in dirs if x != "__pycache__" and os.path.join(rel, x) not in skip)
        out += [os.path.join(rel, n).replace(os.sep, "/") for n in names if n.endswith(ending)]
    return sorted(out)


def version():
    with open(os.path.join(ROOT, "lib", "broute", "version.py")) as f:
        m = re.search(r"""^VERSION\s*=\s*["']([^"']+)["']""", f.read(), re.M)
    if not m:
        raise SystemExit("mip_manifest: no VERSION = \"...\" line in lib/broute/version.py")
    return m.group(1)


def urls():
    """[[destination on the board, source in the tree], ...] in install order."""
    pairs = [[src, src] for src in _files(os.path.join("lib", "broute"), (".py", ".tpl"))]  # web.tpl: broute.web's text
    pairs += [["lib/" + src[len("firmware/"):], src] for src in _files("firmware", ".py", (FONTS,))]
    pairs += [["fonts/" + src[len("firmware/fonts/"):], src] for src in _files(FONTS, ".bin")]
    pairs.append([PAGE, "lib/broute/page.html"])  # mip copies as is: firmware/websrc.py serves it plain
    pairs += [[name, name] for name in TOP]
    return pairs


def text():
    """package.json as written: one file a line, so a diff shows which file came or went."""
    lines = ",\n".join("    " + json.dumps(p) for p in urls())
    return '{\n  "version": %s,\n  "urls": [\n%s\n  ]\n}\n' % (json.dumps(version()), lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="write nothing; exit 1 if package.json differs from what would be written")
    args = ap.parse_args(argv)
    path = os.path.join(ROOT, MANIFEST)
    want = text()
    try:
        with open(path) as f:
            have = f.read()
    except OSError:
        have = None
    if args.check:
        if have != want:
            print("mip_manifest: %s is %s: run python tools/build/mip_manifest.py"
                  % (MANIFEST, "missing" if have is None else "out of date"), file=sys.stderr)
            return 1
        return 0
    if have != want:
        with open(path, "w") as f:
            f.write(want)
    print("mip_manifest: %s lists %d files (version %s)" % (MANIFEST, len(urls()), version()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
