"""Frame render figures on the host (MicroPython unix port):

  micropython -X heapsize=110k tools/bench/bench_ui.py stickc   (the ESP32's heap)
  micropython -X heapsize=200k tools/bench/bench_ui.py           (both boards)

Prints the heap each open font file takes (its index, glyph buffer and file
object: the bitmaps stay in the file), then per board size the frame buffer
band size (4-bit: the page is drawn once per band, st77xx.ST77xx.paint; there is no
whole-screen frame buffer) and the RGB565 strip each band is converted through, the heap the
display takes (the emulated board keeps no panel memory here), the heap the UI
takes once built, the mean render and render+push time of the main screen (the
push is the palette conversion; the fake SPI bus costs nothing), the glyph
reads per frame and the heap bytes allocated per frame (gc disabled). On the
ESP32 each glyph read (seek + readinto from littlefs) costs ~100-300 us, far
more than on a PC: weigh the reads with that.
"""
import sys

if __name__ == "__main__":  # run as a script: tools/ (paths.py) in place of its own folder
    sys.path[0] = sys.path[0].rsplit("/", 1)[0]
import paths  # noqa: F401,E402  (the project's folders)
import gc
from time import ticks_us, ticks_diff
import model as M
from emu_board import EmuBoard
import fontfile

FRAMES = 200


def bench(kind):
    gc.collect()
    before = gc.mem_alloc()
    board = EmuBoard(kind, screen=False)
    d = board.display
    strip_bytes = len(d._sbuf)
    gc.collect()
    after_fb = gc.mem_alloc()
    from ui import Ui
    m = M.Model(30)
    m.status, m.rssi_dbm, m.wifi = M.CONNECTED, -60, True
    m.set_energy(5.4, 12345.6, 10.0)
    for i in range(60):
        m.add_power(400 + 37 * i, i * 60000)
    ui = Ui(board, m)
    for s in range(10):  # warm up: status text built, digits' ink measured
        m.set_reading(1234 + s * 1111, 68, 59, 3600000)
        ui.render(3600000 + s * 1000)
    gc.collect()
    ui_bytes = gc.mem_alloc() - after_fb
    t0 = ticks_us()
    for i in range(FRAMES):  # every band drawn, none pushed
        y = 0
        while y < d.height:
            d.y0 = y
            ui.render(3600000 + (i % 10) * 1000)
            y += d.band
    d.y0 = 0
    render_us = ticks_diff(ticks_us(), t0) // FRAMES
    gc.collect()
    gc.disable()  # so the heap in use only grows by what the frames allocate
    a0 = gc.mem_alloc()
    t0 = ticks_us()
    for i in range(FRAMES):
        m.changed()
        ui.update(3600000 + (i % 10) * 1000)
    push_us = ticks_diff(ticks_us(), t0) // FRAMES
    per_frame = (gc.mem_alloc() - a0) // FRAMES
    gc.enable()
    print("%-6s %dx%d  band %d B (%d rows) + strip %d B (%d rows; heap +%d)  UI+fonts %d B  "
          "render %d us  render+push %d us  glyph reads/frame %d  allocated/frame %d B"
          % (kind, d.width, d.height, len(d.buffer), d.band, strip_bytes, d._rows, after_fb - before,
             ui_bytes, render_us, push_us, reads(ui, m), per_frame))


def reads(ui, m):
    """Glyph reads one main-screen frame makes, counted on the file objects (a line of
    text across a band border is read once per band it touches)."""
    t = ui.theme
    n = [0]
    for w in (t.small, t.mid, t.digits):
        f = w.font._f
        if not isinstance(f, _Counting):
            w.font._f = _Counting(f, n)
    m.changed()
    ui.update(3600000)  # every band
    return n[0]


class _Counting:
    """A font file that counts readinto calls."""

    def __init__(self, f, n):
        self._f, self._n = f, n

    def seek(self, pos):
        return self._f.seek(pos)

    def readinto(self, buf, size):
        self._n[0] += 1
        return self._f.readinto(buf, size)


def fonts(kinds):
    """Heap each open font takes (on the board the same, plus littlefs's file cache)."""
    names = ["small", "mid", "big"]
    if "plus" in kinds:
        names.append("huge")
    d = fontfile.folder()
    keep = []
    for name in names:
        gc.collect()
        a = gc.mem_alloc()
        keep.append(fontfile.Font(d + "/" + name + ".bin"))
        gc.collect()
        print("%-5s font heap %d B" % (name, gc.mem_alloc() - a))


KINDS = sys.argv[1:] or ("stickc", "plus")
fonts(KINDS)
for kind in KINDS:
    bench(kind)
    gc.collect()
