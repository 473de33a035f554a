"""Put the firmware on a board: compile, copy only what changed, upload the config, reset.

    python tools/build/deploy.py --port /dev/ttyUSB0 [--config my-config.json] [--no-reset]

Board layout: boot.py and main.py at the root, the portable package as lib/broute/*.mpy and
every firmware module as lib/<name>.mpy (on the ESP32 /lib is on sys.path), the web bodies' text
as lib/broute/web.tpl (beside web.mpy, which reads it), the font files as fonts/<name>.bin (firmware/fontfile.py
reads them from /fonts), the web page gzip-compressed as page.html.gz and config.json at the root
(docs/http.md). The board hashes its own files in
one `mpremote exec`, so unchanged files are not rewritten (flash wear, and speed).
lib/deployed.txt lists the modules and fonts this tool put there, so renamed or removed
ones are deleted without touching anything else in lib/ (mip packages, for example).
All paths are relative: the ESP32 starts in "/", the unix port in its working folder.
Uses `mpremote resume` throughout: a soft reset would let an armed watchdog fire
mid-copy (and ends the unix port).
"""
import argparse
import glob
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys

if __name__ == "__main__":  # run as a script: tools/ (paths.py) in place of its own folder
    sys.path[0] = sys.path[0].rsplit("/", 1)[0]
import paths  # noqa: F401,E402  (lib/ and firmware/, for config)
import mpycompile  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOP = ("boot.py", "main.py")
FONTS = "fonts"  # firmware/fonts/*.bin -> fonts/*.bin on the board
MANIFEST = "lib/deployed.txt"
PAGE = "page.html.gz"  # lib/broute/page.html as the stick serves it (firmware/websrc.py)
TEMPLATE = "lib/broute/web.tpl"  # the web bodies' text, read from flash beside broute.web (docs/http.md)
_OWNED = ("lib/", FONTS + "/")  # folders whose files the manifest lists
ARCHES = {"xtensawin": 10, "x64": 2, "x86": 1, "armv7m": 5, "rv32imc": 11}


class DeployError(Exception):
    """Something the user must fix; the message says what."""


# Where USB serial adapters appear: Linux (CH9102/CP210x as ttyUSB, native USB as ttyACM), macOS.
_PORT_GLOBS = ("/dev/ttyUSB*", "/dev/ttyACM*", "/dev/cu.usbserial*", "/dev/cu.wchusbserial*",
               "/dev/cu.usbmodem*")
USAGE = "make deploy PORT=/dev/ttyUSB0 CONFIG=my-config.json"


def serial_ports():
    return sorted(p for g in _PORT_GLOBS for p in glob.glob(g))


def ports_hint():
    found = serial_ports()
    if found:
        return "Serial ports here: " + " ".join(found)
    return ("No serial port is there (/dev/ttyUSB*, /dev/ttyACM*): is the stick plugged in, "
            "with a data cable (not a charge-only one)?")


def port_problem(port):
    """Why mpremote cannot open `port`, as far as the file system tells (None: no reason seen).

    Only device paths are checked; mpremote's shortcuts (a0, u0, id:...) are its own.
    """
    if "/" not in port:
        return None
    try:
        st = os.stat(port)
    except OSError:
        return "%s: no such device.\n%s" % (port, ports_hint())
    if not os.access(port, os.R_OK | os.W_OK):
        try:
            import grp
            group = grp.getgrgid(st.st_gid).gr_name
        except (ImportError, KeyError):
            group = "dialout"
        return ("%s: permission denied. Add yourself to the %s group: sudo usermod -aG %s $USER, "
                "then log out and in again" % (port, group, group))
    return None


def _tool(name):
    local = os.path.join(os.path.dirname(sys.executable), name)
    found = local if os.path.exists(local) else shutil.which(name)
    if not found:
        raise DeployError("%s not found: run `make setup`" % name)
    return found


def page_gz():
    """The page compressed once on the PC, so the stick streams it from flash as it is (mtime 0:
    the same bytes every build, so an unchanged page is not copied again)."""
    with open(os.path.join(ROOT, "lib", "broute", "page.html"), "rb") as f:
        return gzip.compress(f.read(), 9, mtime=0)


def build(out, march="xtensawin"):
    """Compile lib/ and firmware/ into out/lib/*.mpy, copy boot.py/main.py and the fonts, compress
    the page; {rel path: bytes}."""
    try:
        mpys = mpycompile.compile_board(os.path.join(out, "lib"), march)
    except mpycompile.CompileError as e:
        raise DeployError(str(e))
    files = {}
    for mod in sorted(mpys):
        with open(mpys[mod], "rb") as f:
            files["lib/%s.mpy" % mod] = f.read()
    for name in TOP:
        with open(os.path.join(ROOT, name), "rb") as f:
            files[name] = f.read()
    shutil.copyfile(os.path.join(ROOT, TEMPLATE), os.path.join(out, TEMPLATE))
    with open(os.path.join(out, TEMPLATE), "rb") as f:
        files[TEMPLATE] = f.read()
    os.makedirs(os.path.join(out, FONTS), exist_ok=True)
    for name in sorted(os.listdir(os.path.join(ROOT, "firmware", FONTS))):
        if name.endswith(".bin"):
            rel = FONTS + "/" + name
            shutil.copyfile(os.path.join(ROOT, "firmware", rel), os.path.join(out, rel))
            with open(os.path.join(out, rel), "rb") as f:
                files[rel] = f.read()
    files[MANIFEST] = "".join(n + "\n" for n in sorted(files) if n.startswith(_OWNED)).encode()
    with open(os.path.join(out, MANIFEST), "wb") as f:
        f.write(files[MANIFEST])
    for name in TOP:
        shutil.copyfile(os.path.join(ROOT, name), os.path.join(out, name))
    files[PAGE] = page_gz()
    with open(os.path.join(out, PAGE), "wb") as f:
        f.write(files[PAGE])
    return files


# Runs on the board: version, then size and sha256 of each file we may replace.
_SURVEY = """
import os, sys, binascii
try:
 import hashlib
except ImportError:
 hashlib = None
print('V', sys.implementation._mpy, '.'.join(str(x) for x in sys.implementation.version[:3]))
def _h(p):
 try:
  f = open(p, 'rb')
 except OSError:
  return
 d = hashlib.sha256() if hashlib else None
 b = bytearray(512)
 n = 0
 while True:
  k = f.readinto(b)
  if not k:
   break
  n += k
  if d:
   d.update(memoryview(b)[:k])
 f.close()
 print('F', p, n, binascii.hexlify(d.digest()).decode() if d else '-')
_l = []
for _d in ('lib', 'lib/broute', '%s'):
 try:
  _l += [_d + '/' + x for x in os.listdir(_d) if '.' in x]  # files, not lib/broute
  print('D', _d)
 except OSError:
  pass
for _p in _l + ['boot.py', 'main.py', '%s', 'config.json']:
 _h(_p)
try:
 for _n in open('%s'):
  print('M', _n.strip())
except OSError:
 pass
""" % (FONTS, PAGE, MANIFEST)


class Board:
    """The board as seen through mpremote: survey once, then one batched copy."""

    def __init__(self, port, timeout=60):
        self._port = port
        self._base = [_tool("mpremote"), "connect", port, "resume"]
        self._timeout = timeout
        self.mpy = None
        self.version = None
        self.dirs = set()    # of lib and fonts, those the board has
        self.files = {}      # rel path -> (size, sha256 hex or "-")
        self.deployed = set()

    def _run(self, args):
        try:
            r = subprocess.run(self._base + args, capture_output=True, text=True,
                               timeout=self._timeout)
        except subprocess.TimeoutExpired:
            raise DeployError("the board did not answer within %d s" % self._timeout)
        if r.returncode:
            if "failed to access" in r.stderr:  # mpremote could not open the port
                raise DeployError(port_problem(self._port) or (
                    "%s is in use by another program (a serial monitor, `mpremote repl`, Thonny, "
                    "the Arduino IDE?): close it and try again" % self._port))
            raise DeployError("mpremote failed: %s" % (r.stderr.strip() or r.stdout.strip()))
        return r.stdout

    def survey(self):
        for line in self._run(["exec", _SURVEY]).splitlines():
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "V":
                self.mpy, self.version = int(parts[1]), parts[2]
            elif parts[0] == "D" and len(parts) == 2:
                self.dirs.add(parts[1])
            elif parts[0] == "F" and len(parts) == 4:
                self.files[parts[1]] = (int(parts[2]), parts[3])
            elif parts[0] == "M" and len(parts) == 2:
                self.deployed.add(parts[1])
        if self.mpy is None:
            raise DeployError("the board did not report its MicroPython version")

    def check_compatible(self, files, march):
        if self.mpy & 0xFF != 6:
            raise DeployError("the board runs MicroPython %s, which cannot load these .mpy files: "
                              "flash 1.23 or newer (docs/flashing.md)" % self.version)
        # Byte 2 of a .mpy carries the architecture only when it holds native code;
        # bytecode-only files load on any port (the unix port in the deploy test).
        native = [r for r in files if r.endswith(".mpy") and files[r][2] >> 2]
        if native and self.mpy >> 10 != ARCHES[march]:
            raise DeployError("%s holds %s machine code but the board's architecture is %d"
                              % (native[0], march, self.mpy >> 10))

    def changed(self, files):
        """Paths in `files` whose content differs on the board."""
        out = []
        for rel in sorted(files):
            data = files[rel]
            have = self.files.get(rel)
            if have is None or have[0] != len(data):
                out.append(rel)
            elif have[1] != "-" and have[1] != hashlib.sha256(data).hexdigest():
                out.append(rel)
        return out

    def apply(self, copies, removals, reset):
        """One mpremote call: mkdirs, copies (lib and fonts first, boot/main/config last),
        removals, reset."""
        args = []
        for d in ("lib", "lib/broute", FONTS):
            if d not in self.dirs:
                args += ["fs", "mkdir", ":" + d, "+"]
        for rel, src in copies:
            args += ["fs", "cp", "-f", src, ":" + rel, "+"]
        for rel in removals:
            args += ["fs", "rm", ":" + rel, "+"]
        if reset:
            args += ["reset", "+"]
        if args:
            self._run(args[:-1])


def plan(board, files, config_text):
    """(copies as (rel, local path) in a safe order, removals) for this board."""
    wanted = dict(files)
    if config_text is not None:
        wanted["config.json"] = config_text
    changed = board.changed(wanted)
    first = [r for r in changed if r.startswith(_OWNED) and r != MANIFEST]
    last = [r for r in changed if r not in first]
    removals = sorted(r for r in board.deployed if r not in files and r in board.files)
    return first + last, removals


def check_config(path):
    """Validate the config on the PC with the firmware's own checker and refuse the example's
    placeholder credentials (they pass the checker, then no meter ever answers); return its bytes."""
    import config  # firmware/config.py, which takes the B-route ID and password rules from lib/
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as e:
        raise DeployError("cannot read %s: %s" % (path, e.strerror))
    try:
        cfg = config.parse(text)
    except config.ConfigError as e:
        raise DeployError("%s is not usable:\n  %s" % (path, "\n  ".join(e.lines())))
    with open(os.path.join(ROOT, "config.example.json")) as f:
        example = json.load(f)
    left = [k for k in ("broute_id", "broute_password") if getattr(cfg, k) == example.get(k)]
    if left:
        what = " and ".join(left) + (" are still the placeholders" if left[1:]
                                     else " is still the placeholder")
        raise DeployError("%s: %s from config.example.json: put in the B-route ID and password "
                          "from your power company's letter" % (path, what))
    return text


def deploy(port, config_path=None, reset=True, march="xtensawin", out=None, dry_run=False,
           log=print):
    out = out or os.path.join(ROOT, "build", "deploy")
    config_text = check_config(config_path) if config_path else None
    problem = port_problem(port)
    if problem:
        raise DeployError(problem)
    files = build(out, march)
    board = Board(port)
    board.survey()
    board.check_compatible(files, march)
    changed, removals = plan(board, files, config_text)
    copies = []
    for rel in changed:
        src = config_path if rel == "config.json" else os.path.join(out, rel)
        copies.append((rel, src))
    log("MicroPython %s: %d of %d files changed, %d to remove%s" % (
        board.version, len(copies), len(files) + (config_text is not None), len(removals),
        " (dry run)" if dry_run else ""))
    for rel, _ in copies:
        log("  copy   " + rel)
    for rel in removals:
        log("  remove " + rel)
    if not dry_run:
        board.apply(copies, removals, reset)
        if reset:
            log("board reset")
    return changed, removals


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", help="serial port of the board, e.g. /dev/ttyUSB0")
    ap.add_argument("--config", help="config JSON to validate and upload as config.json")
    ap.add_argument("--no-reset", action="store_true", help="leave the board running as it is")
    ap.add_argument("--march", default="xtensawin", choices=sorted(ARCHES),
                    help="mpy-cross architecture (xtensawin for the ESP32)")
    ap.add_argument("--build-only", action="store_true", help="compile into build/deploy and stop")
    ap.add_argument("--dry-run", action="store_true", help="show what would change, copy nothing")
    args = ap.parse_args(argv)
    try:
        if args.build_only:
            files = build(os.path.join(ROOT, "build", "deploy"), args.march)
            print("built %d files in build/deploy" % len(files))
            return 0
        if not args.port:
            raise DeployError("which serial port is the stick on? For example:\n  %s\n%s"
                              % (USAGE, ports_hint()))
        deploy(args.port, args.config, not args.no_reset, args.march, dry_run=args.dry_run)
    except DeployError as e:
        print("deploy: " + str(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
