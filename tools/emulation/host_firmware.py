"""Run the real firmware app on the emulated board, under the MicroPython unix port.

    micropython tools/emulation/host_firmware.py --uart 127.0.0.1:PORT [--board stickc|plus] [--hat bp35a1|c1]
        [--config PATH] [--frames DIR] [--seconds N] [--time-scale F]
        [--buttons "at_ms:A:short,..."] [--stats PATH] [--mpy DIR]

tools/run_host.py starts the simulator and this; soak and bench read the JSON it
writes with --stats. The app's watchdog is a checking stand-in: a starved
watchdog or a reset ends the run with exit code 3 or 4, as the board would reset.
"""
import asyncio
import gc
import json
import sys
from time import ticks_ms, ticks_diff

if __name__ == "__main__":  # run as a script: tools/ (paths.py) in place of its own folder
    sys.path[0] = sys.path[0].rsplit("/", 1)[0]
import paths  # noqa: E402  the project's folders (the run's own folder is the cwd)
if "--mpy" in sys.argv:  # compiled modules first, loaded as the board loads them
    paths.put_first(sys.argv[sys.argv.index("--mpy") + 1])

from emu_board import EmuBoard  # noqa: E402
from fake_machine import WDT  # noqa: E402

EXIT_WATCHDOG = 3
EXIT_RESET = 4


class CheckingWatchdog(WDT):
    """machine.WDT (fake_machine's, which counts the feeds) that ends the run when it would
    have fired."""

    async def check(self):
        while True:
            await asyncio.sleep_ms(500)
            if ticks_diff(ticks_ms(), self.last) > self.ms:
                print("host: WATCHDOG would reset the board (not fed for %d ms)" % self.ms)
                raise SystemExit(EXIT_WATCHDOG)


class HostPlatform:
    """What app.Device does on the stick, for the emulated board. Its WiFi is
    tools/emulation/network.py (joined, real sockets); no NTP: the PC's clock is set already."""

    ntp = False

    def __init__(self, board):
        self._board = board  # its kind from the command line: the emulator cannot probe a panel
        self.board_obj = None
        self.wdt = None

    def board(self, kind, rx, tx=0, buzzer=True):
        self._board.buzzer = self._board.buzzer and buzzer
        self.board_obj = self._board
        return self.board_obj

    def watchdog(self, ms):
        self.wdt = CheckingWatchdog(timeout=ms)
        asyncio.create_task(self.wdt.check())
        return self.wdt

    def park(self):
        pass

    def chip_id(self):
        return "m5-emu"

    def reset(self):
        print("host: the firmware asked for machine.reset()")
        raise SystemExit(EXIT_RESET)


class Stats:
    """What soak and bench check: readings, gaps, heap, log events."""

    def __init__(self, clock):
        self.clock = clock
        self.readings = 0
        self.first = self.last = None
        self.max_gap_ms = 0           # in session (simulated) time
        self.heap_peak = 0            # live heap after a collection
        self.cycle_alloc = []         # bytes allocated between consecutive readings
        self.events = {}
        self._alloc = None
        self.stall_ms = 0             # the loop's longest turn beyond a 10 ms sleep (real time)
        self.stall_after_ms = 0       # counted from this long into the run (start-up excluded)

    async def loop_lag(self):
        """How long the asyncio loop was held by one call: a 10 ms sleep that took longer."""
        t0 = ticks_ms()
        while True:
            t = ticks_ms()
            await asyncio.sleep_ms(10)
            lag = ticks_diff(ticks_ms(), t) - 10
            if lag > self.stall_ms and ticks_diff(t, t0) > self.stall_after_ms:
                self.stall_ms = lag

    def log(self, line):
        print(line)
        for key in ("app crashed", "session crashed", "ui error", "restarting the session",
                    "leaving it to the watchdog", "trouble: "):
            if line.startswith(key) or key in line:
                self.events[key] = self.events.get(key, 0) + 1

    def reading(self):
        now = self.clock.ticks_ms()
        a = gc.mem_alloc()
        if self._alloc is not None and a >= self._alloc:
            self.cycle_alloc.append(a - self._alloc)  # no collection in between
            if len(self.cycle_alloc) > 100:
                self.cycle_alloc.pop(0)
        self._alloc = a
        if self.last is not None:
            self.max_gap_ms = max(self.max_gap_ms, ticks_diff(now, self.last))
        else:
            self.first = now
        self.last = now
        self.readings += 1

    def heap(self):
        gc.collect()
        self.heap_peak = max(self.heap_peak, gc.mem_alloc())
        self._alloc = None  # the collection breaks the per-cycle count

    def as_dict(self, a, wdt, page=None):
        allocs = sorted(self.cycle_alloc)
        now = self.clock.ticks_ms()
        return {
            "readings": self.readings,
            "max_gap_s": self.max_gap_ms // 1000,
            "since_last_s": None if self.last is None else ticks_diff(now, self.last) // 1000,
            "heap_peak": self.heap_peak,
            "heap_total": gc.mem_alloc() + gc.mem_free(),
            "alloc_per_cycle_median": allocs[len(allocs) // 2] if allocs else None,
            "alloc_per_cycle_max": allocs[-1] if allocs else None,
            "events": self.events,
            "state": None if a.session is None else a.session.state,
            "error_title": a.model.error_title if a.model else None,
            "error_advice": a.model.error_advice if a.model else None,
            "power_w": a.model.power_w if a.model else None,
            "today_kwh10": a.model.today_kwh10 if a.model else None,
            "energy_kwh10": a.model.energy_kwh10 if a.model else None,
            "status": a.model.status if a.model else None,
            "wdt_feeds": wdt.feeds if wdt else 0,
            "wdt_max_gap_ms": wdt.max_gap if wdt else 0,
            "session_restarts": a.restarts,
            "page": page,
            "rotation": a.board.display.rotation if a.board else None,  # button B flips 1 <-> 3
            "alerts": len(a.board.alerts) if a.board else 0,
            "alarms_on": a.board.alerts.count(True) if a.board else 0,
            "beeps": a.board.beeps if a.board else 0,
            "led": a.board.led_on if a.board else None,
            "ui_errors": a.ui_errors,
            "module": None if a.session is None else a.session.dialect,
            "hat": a.board.hat if a.board else None,
            "hat_contention": a.board.contention if a.board else None,
            "module_resets": a.board.resets if a.board else 0,
            "loop_stall_max_ms": self.stall_ms,
            "mqtt": a.model.mqtt if a.model else None,
            "net_why": a.model.net_why if a.model else None,
            "ip": a.model.ip if a.model else None,
        }


def _args(argv):
    opts = {"uart": None, "board": "stickc", "config": "config.json", "frames": None,
            "seconds": 0, "time-scale": 1.0, "buttons": "", "stats": None,
            "max-frames": 300, "mpy": None, "hat": "bp35a1", "stall-after": 3000}
    i = 0
    while i < len(argv):
        k = argv[i][2:]
        if k not in opts:
            raise SystemExit("host_firmware: unknown option " + argv[i])
        i += 1
        opts[k] = argv[i]
        i += 1
    host, port = opts["uart"].rsplit(":", 1)
    opts["uart"] = (host, int(port))
    return opts


def _buttons(spec):
    out = []
    for item in spec.split(","):
        if item:
            at, name, kind = item.split(":")
            out.append((int(at), name, kind))
    return out


async def _frames(board, opts):
    """Dump each new frame the firmware pushed as raw RGB565 (no allocation on this heap);
    run_host.py turns them into PNG files and terminal pictures."""
    seen = -1
    n = 0
    folder = opts["frames"]
    cap = int(opts["max-frames"])
    d = board.screen
    while True:
        await asyncio.sleep_ms(200)
        if board.spi.count == seen:
            continue
        seen = board.spi.count
        if folder:
            name = "%05d" % n if n < cap else "latest"  # past the cap only the newest is kept
            with open("%s/frame-%s-%dx%d.raw" % (folder, name, d.width, d.height), "wb") as f:
                f.write(d.buffer)
            n += 1


async def _host(opts, board):
    import app
    from broute.compat import Clock
    clock = Clock(1 / float(opts["time-scale"]))
    stats = Stats(clock)
    plat = HostPlatform(board)
    a = app.App(plat, opts["config"], stats.log, clock)
    task = asyncio.create_task(a.run())
    stats.stall_after_ms = int(opts["stall-after"])
    asyncio.create_task(stats.loop_lag())
    started = ticks_ms()
    seq = 0
    n = 0
    if opts["frames"]:
        asyncio.create_task(_frames(board, opts))
    if opts["buttons"]:
        asyncio.create_task(board.play(_buttons(opts["buttons"])))
    seconds = float(opts["seconds"])
    while not task.done():
        await asyncio.sleep_ms(20)
        s = a.session
        if s is not None and s.reading.seq != seq:
            seq = s.reading.seq
            stats.reading()
        n += 1
        if n % 250 == 0:
            stats.heap()
        if seconds and ticks_diff(ticks_ms(), started) > seconds * 1000:
            break
    stats.heap()
    page = a.ui.page if a.ui else None
    gc.collect()
    result = stats.as_dict(a, plat.wdt, page)
    if opts["stats"]:
        with open(opts["stats"], "w") as f:
            json.dump(result, f)
    print("host: " + json.dumps(result))
    if task.done():
        await task  # the app ended: raise what ended it


def main(argv):
    opts = _args(argv)
    # The panel's memory (host-only, 64.8 KB on the Plus) before the firmware is imported,
    # while the heap is whole: the board has no such block to fit in beside the firmware.
    board = EmuBoard(opts["board"], opts["uart"], carries=opts["hat"])
    asyncio.run(_host(opts, board))


if __name__ == "__main__":
    main(sys.argv[1:])
