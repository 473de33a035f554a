"""The main job on the PC: the real firmware on an emulated board, talking to the simulator.

    python tools/run_host.py [--board stickc|plus] [--dialect bp35a1|bp35c0|rl7023-ips|j11]
        [--hat bp35a1|c1] [--scenario normal] [--fault NAME[:ARG][@T]]...
        [--time-scale F] [--seconds N] [--terminal [--log FILE]]
        [--mqtt HOST[:PORT] [--mqtt-user U --mqtt-password P] [--client-id ID]] [--tariff]
        [--http PORT]

Starts tools/sim.py on a free TCP port, writes a config matching the simulated meter
(or uses --config), then runs tools/emulation/host_firmware.py under the MicroPython unix port
with the app from firmware/ and lib/. Screens go to out/frames/ as PNG (latest.png is
always the current one); --terminal also draws them, fitted to the terminal, with the
firmware's last log lines under them (the whole log in out/firmware.log).
Ctrl-C or --seconds stops. With --mqtt the generated config has wifi (the emulated WLAN,
tools/emulation/network.py, is the PC's network) and mqtt: the stick publishes to that broker.
With --http the generated config has wifi and http, the run folder gets the page as the stick's
flash has it (page.html.gz), and the emulated stick serves on 127.0.0.1:PORT (docs/http.md).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import unicodedata

import png

import paths  # noqa: F401  (tools/build/, for mpycompile)
import mpycompile  # noqa: E402
import deploy  # noqa: E402  (the page as the stick's flash has it)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
SIM_ID = "00112233445566778899AABBCCDDEEFF"
SIM_PASSWORD = "0123456789AB"


def write_config(path, **values):
    d = {"broute_id": SIM_ID, "broute_password": SIM_PASSWORD, "board": "auto",
         "contract_amperes": 30, "poll_seconds": 10}
    d.update(values)
    with open(path, "w") as f:
        json.dump(d, f, indent=2)


class Sim:
    """tools/sim.py as a child process on a free port; stopped on exit."""

    def __init__(self, args):
        cmd = [sys.executable, os.path.join(ROOT, "tools", "sim.py"), "--tcp", "127.0.0.1:0"]
        self.proc = subprocess.Popen(cmd + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.stop()
            raise SystemExit("run_host: the simulator did not start: %r" % line)
        self.port = int(line.split()[3].rsplit(":", 1)[1])

    def stats(self):
        try:
            self.proc.stdin.write("stats\n")
            self.proc.stdin.flush()
            return json.loads(self.proc.stdout.readline())
        except (OSError, ValueError):
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)


def parser():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", choices=("stickc", "plus"), default=os.environ.get("BOARD", "stickc"))
    ap.add_argument("--scenario", default=os.environ.get("SCENARIO", "normal"))
    ap.add_argument("--dialect", default="bp35a1",
                    help="the simulated module: bp35a1, bp35c0, rl7023-ips (SKSTACK) or j11")
    ap.add_argument("--hat", choices=("bp35a1", "c1"),
                    help="the HAT the emulated stick carries (default: c1 with --dialect j11, "
                         "else bp35a1); the firmware finds out which by itself")
    ap.add_argument("--fault", action="append", default=[], help="passed to sim.py; repeatable")
    ap.add_argument("--random-faults", type=float, default=0.0, metavar="RATE")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-scale", type=float, default=1.0,
                    help="real seconds per simulated second (0.1: ten times faster)")
    ap.add_argument("--seconds", type=float, default=0, help="stop after N real seconds")
    ap.add_argument("--terminal", action="store_true",
                    help="show the screen and the last log lines in the terminal")
    ap.add_argument("--log", default=os.path.join(ROOT, "out", "firmware.log"),
                    help="with --terminal, the firmware's whole log goes here")
    ap.add_argument("--frames", default=os.path.join(ROOT, "out", "frames"))
    ap.add_argument("--max-frames", type=int, default=300)
    ap.add_argument("--config", help="config file for the firmware (default: one matching the sim)")
    ap.add_argument("--no-config", action="store_true", help="start without a config file")
    ap.add_argument("--wrong-password", action="store_true",
                    help="the meter expects another password than the config has")
    ap.add_argument("--poll", type=int, default=10, help="poll_seconds in the generated config")
    ap.add_argument("--mqtt", metavar="HOST[:PORT]",
                    help="publish to this MQTT broker: the generated config gets wifi (the PC's "
                         "network, tools/emulation/network.py) and mqtt")
    ap.add_argument("--mqtt-user", help="with --mqtt: the broker's user")
    ap.add_argument("--mqtt-password", help="with --mqtt: the broker's password")
    ap.add_argument("--client-id", default=None, help="with --mqtt: the MQTT client id")
    ap.add_argument("--http", type=int, metavar="PORT",
                    help="serve the web page, /api and /metrics on 127.0.0.1:PORT: the generated "
                         "config gets wifi and http (docs/http.md)")
    ap.add_argument("--tariff", action="store_true",
                    help="the generated config gets docs/mqtt.md's example tariff (costs in yen)")
    ap.add_argument("--buttons", default="", help='button script "at_ms:A|B:short|long,..."')
    ap.add_argument("--heapsize", default="256k", help="MicroPython heap (-X heapsize)")
    ap.add_argument("--run-dir", default=os.path.join(ROOT, "out", "host"),
                    help="the emulated board's working folder (config.json, scan.json)")
    ap.add_argument("--stats", help="write the run's figures as JSON here")
    ap.add_argument("--source", action="store_true",
                    help="import the .py sources instead of compiled .mpy (slower start, more heap)")
    return ap


class Terminal:
    """The screen and the firmware's last log lines, redrawn in place from the top.

    Both must fit the terminal (rows and columns): the picture is scaled down to leave
    LOG_LINES lines for the log under it and one spare line, so nothing ever scrolls;
    log lines are cut to the width and never printed into the picture.
    """
    LOG_LINES = 6

    def __init__(self, out=None, size=None):
        self._out = out or sys.stdout
        self._size = size  # (columns, lines); None: asked on every redraw (the window may change)
        self._lock = threading.Lock()
        self._picture = None
        self._log = []

    def size(self):
        return self._size or tuple(shutil.get_terminal_size((160, 48)))

    def picture(self, rows, w, h):
        with self._lock:
            self._picture = (rows, w, h)
            self._draw()

    def log(self, line):
        with self._lock:
            self._log = (self._log + [line])[-self.LOG_LINES:]
            self._draw()

    def _draw(self):
        self._out.write(self.render())
        self._out.flush()

    def render(self):
        """One redraw: cursor home, picture, a rule, the log lines, the rest cleared."""
        cols, lines = self.size()
        out = []
        room = lines - self.LOG_LINES - 2  # the rule, and a spare line at the bottom
        if self._picture and room > 0:
            out += _ansi(*self._picture, columns=cols - 1, lines=room)
        out.append("\x1b[0m" + "-" * min(cols - 1, 40) + "\x1b[K")
        out += [_fit(line, cols - 1) + "\x1b[K" for line in self._log]
        return "\x1b[H" + "\n".join(out) + "\x1b[J"


def _fit(text, columns):
    """Printable text cut to `columns` cells (control bytes could move the cursor)."""
    out = []
    for c in text:
        if not c.isprintable():
            c = " "
        columns -= 2 if unicodedata.east_asian_width(c) in "WF" else 1
        if columns < 0:
            break
        out.append(c)
    return "".join(out)


def _ansi(rows, w, h, columns, lines):
    """The screen as text lines: one character = two pixel rows (upper half block), every
    step-th pixel so that it fits in `columns` x `lines` (a 160-pixel StickC needs 160 columns)."""
    step = max(1, -(-w // max(1, columns)), -(-h // max(1, 2 * lines)))
    out = []
    for y in range(0, h, 2 * step):
        top, bottom = rows[y], rows[min(y + step, h - 1)]
        line = []
        for x in range(0, w * 3, 3 * step):
            line.append("\x1b[38;2;%d;%d;%dm\x1b[48;2;%d;%d;%dm\u2580"
                        % (tuple(top[x:x + 3]) + tuple(bottom[x:x + 3])))
        out.append("".join(line) + "\x1b[0m\x1b[K")
    return out


def raw_to_png(folder, terminal=None):
    """Convert the raw RGB565 frames the firmware side dumped; keep latest.png current
    (and show it on the Terminal, if given)."""
    names = sorted(n for n in os.listdir(folder) if n.endswith(".raw"))
    for name in names:
        path = os.path.join(folder, name)
        w, h = (int(v) for v in name[:-4].rsplit("-", 1)[1].split("x"))
        with open(path, "rb") as f:
            data = f.read()
        if len(data) < w * h * 2:
            break  # still being written
        rows = []
        for y in range(h):
            row = bytearray()
            for i in range(y * w * 2, (y + 1) * w * 2, 2):
                v = (data[i] << 8) | data[i + 1]  # big-endian, as the panel receives it
                row += bytes(((v >> 8) & 0xF8, (v >> 3) & 0xFC, (v << 3) & 0xF8))
            rows.append(row)
        png_path = path[:-4].rsplit("-", 1)[0] + ".png"
        with open(png_path, "wb") as f:
            png.Writer(w, h, greyscale=False).write(f, rows)
        os.replace(path, path + ".done")
        os.remove(path + ".done")
        with open(png_path, "rb") as src, open(os.path.join(folder, "latest.png.tmp"), "wb") as dst:
            dst.write(src.read())
        os.replace(os.path.join(folder, "latest.png.tmp"), os.path.join(folder, "latest.png"))
        if terminal and name == names[-1]:
            terminal.picture(rows, w, h)


def _log_lines(stream, path, term):
    """The firmware's output: all of it to the log file, the last lines under the picture."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        for line in stream:
            f.write(line)
            f.flush()
            term.log(line.rstrip("\n"))


def _converter(folder, stop, terminal):
    while not stop.wait(0.5):
        raw_to_png(folder, terminal)
    raw_to_png(folder, terminal)


def compile_mpy(out):
    """Bytecode .mpy of lib/ and firmware/ for the unix port: the heap then holds what the
    board's would (no compiler at import), apart from 64-bit pointers."""
    mpycompile.compile_board(out, march=None)
    shutil.copyfile(os.path.join(ROOT, deploy.TEMPLATE), os.path.join(out, "broute", "web.tpl"))  # beside web.mpy
    return out


def net_config(args):
    """The wifi / mqtt / tariff keys --mqtt and --tariff add to a generated config."""
    out = {}
    if getattr(args, "mqtt", None):
        host, _, port = args.mqtt.partition(":")
        m = {"host": host, "port": int(port or 1883)}
        for k, v in (("user", args.mqtt_user), ("password", args.mqtt_password),
                     ("client_id", args.client_id)):
            if v:
                m[k] = v
        out["wifi"] = {"ssid": "emulated", "password": "emulated-wifi"}
        out["mqtt"] = m
    if getattr(args, "http", None):
        out["wifi"] = {"ssid": "emulated", "password": "emulated-wifi"}
        out["http"] = {"port": args.http}
    if getattr(args, "tariff", False):
        out["tariff"] = example_tariff()
    return out


def example_tariff():
    """docs/mqtt.md's example tariff (the block after its <!-- tariff-example --> mark)."""
    with open(os.path.join(ROOT, "docs", "mqtt.md")) as f:
        text = f.read().split("<!-- tariff-example -->", 1)[1]
    return json.loads(text.split("```json", 1)[1].split("```", 1)[0])["tariff"]


def prepare(args):
    """The run folder: the config (generated, copied or none), no scan cache, no old frames."""
    cfg = os.path.join(args.run_dir, "config.json")
    if args.no_config:
        if os.path.exists(cfg):
            os.remove(cfg)
    elif args.config:
        with open(args.config, "rb") as src, open(cfg, "wb") as dst:
            dst.write(src.read())
    else:
        write_config(cfg, poll_seconds=args.poll, **net_config(args))
    write_page(args.run_dir)
    cache = os.path.join(args.run_dir, "scan.json")
    if os.path.exists(cache):
        os.remove(cache)  # every run starts like a fresh stick
    if args.frames:
        os.makedirs(args.frames, exist_ok=True)
        for name in os.listdir(args.frames):
            if name.endswith((".png", ".raw")):
                os.remove(os.path.join(args.frames, name))


def write_page(folder):
    """page.html.gz, as tools/build/deploy.py puts it on the stick's flash."""
    with open(os.path.join(folder, deploy.PAGE), "wb") as f:
        f.write(deploy.page_gz())


def firmware_command(args, sim_port):
    """The unix port's command line running the firmware against the simulator on sim_port."""
    cmd = [MICROPYTHON, "-X", "heapsize=" + args.heapsize,
           os.path.join(ROOT, "tools", "emulation", "host_firmware.py"),
           "--uart", "127.0.0.1:%d" % sim_port, "--board", args.board,
           "--hat", args.hat or ("c1" if args.dialect == "j11" else "bp35a1"),
           "--config", "config.json", "--time-scale", str(args.time_scale),
           "--seconds", str(args.seconds), "--max-frames", str(args.max_frames)]
    if args.frames:
        cmd += ["--frames", os.path.abspath(args.frames)]
    if args.buttons:
        cmd += ["--buttons", args.buttons]
    if args.stats:
        cmd += ["--stats", os.path.abspath(args.stats)]
    if not args.source:
        cmd += ["--mpy", compile_mpy(os.path.join(ROOT, "out", "host-mpy"))]
    return cmd


def run(args, capture=False):
    """Run one emulated session; returns (exit code, output or None, sim stats)."""
    os.makedirs(args.run_dir, exist_ok=True)
    if args.terminal and not args.frames:
        args.frames = os.path.join(ROOT, "out", "frames")
    prepare(args)
    sim_args = ["--scenario", args.scenario, "--dialect", args.dialect,
                "--time-scale", str(args.time_scale), "--seed", str(args.seed)]
    if args.wrong_password:
        sim_args += ["--password", "ZZZZZZZZZZZZ"]
    if args.random_faults:
        sim_args += ["--random-faults", str(args.random_faults)]
    for f in args.fault:
        sim_args += ["--fault", f]
    sim = Sim(sim_args)
    cmd = firmware_command(args, sim.port)
    proc = None
    stop = threading.Event()
    conv = reader = None
    term = Terminal() if args.terminal and not capture else None
    if term:
        print("\x1b[2J", end="", flush=True)  # the screen is redrawn in place from the top
    if args.frames:
        conv = threading.Thread(target=_converter, args=(args.frames, stop, term), daemon=True)
        conv.start()
    piped = capture or term
    try:
        proc = subprocess.Popen(cmd, cwd=args.run_dir, text=True, errors="replace",
                                stdout=subprocess.PIPE if piped else None,
                                stderr=subprocess.STDOUT if piped else None)
        timeout = args.seconds + 60 if args.seconds else None
        if term:
            reader = threading.Thread(target=_log_lines, args=(proc.stdout, args.log, term),
                                      daemon=True)
            reader.start()
            proc.wait(timeout)
            out = None
        else:
            out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out, sim.stats()
    except KeyboardInterrupt:
        return 130, None, None
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait(5)
        sim.stop()
        stop.set()
        if conv:
            conv.join(30)
        if reader:
            reader.join(5)
            print("\nfirmware log: " + os.path.relpath(args.log))


def main(argv=None):
    args = parser().parse_args(argv)
    code, _, stats = run(args)
    if stats:
        print("sim: " + json.dumps(stats))
    return code


if __name__ == "__main__":
    sys.exit(main())
