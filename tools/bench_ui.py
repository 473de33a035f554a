"""Frame render figures on the host (MicroPython unix port):

  micropython -X heapsize=110k tools/bench_ui.py stickc   (the ESP32's heap)
  micropython -X heapsize=200k tools/bench_ui.py           (both boards)

Prints, per board size, the frame buffer size, the heap the fonts take once
imported and their glyph caches warmed, the mean render and render+push time
of the main screen, and the heap bytes allocated per frame (gc disabled).
"""
import sys

sys.path.insert(0, "firmware")
sys.path.insert(0, "tools")
import gc
from time import ticks_us, ticks_diff
import model as M
from emu_board import EmuBoard

FRAMES = 200


def bench(kind):
    gc.collect()
    before = gc.mem_alloc()
    board = EmuBoard(kind)
    fb_bytes = len(board.display.buffer)
    gc.collect()
    after_fb = gc.mem_alloc()
    from ui import Ui
    m = M.Model(30)
    m.status, m.rssi_dbm, m.lqi, m.wifi = M.CONNECTED, -60, 120, True
    m.set_energy(5.4, 12345.6, 10.0)
    for i in range(60):
        m.add_power(400 + 37 * i, i * 60000)
    ui = Ui(board, m)
    for s in range(10):  # warm the glyph caches
        m.set_reading(1234 + s * 1111, 68, 59, 3600000)
        ui.render(3600000 + s * 1000)
    gc.collect()
    ui_bytes = gc.mem_alloc() - after_fb
    t0 = ticks_us()
    for i in range(FRAMES):
        ui.render(3600000 + (i % 10) * 1000)
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
    print("%-6s %dx%d  frame buffer %d B (heap +%d)  UI+fonts+caches %d B  render %d us  "
          "render+push %d us  allocated/frame %d B"
          % (kind, board.display.width, board.display.height, fb_bytes, after_fb - before,
             ui_bytes, render_us, push_us, per_frame))


def fonts(kinds):
    """Heap each font module takes once imported (as .py here; .mpy on the board)."""
    names = ["font_small", "font_mid", "font_big"]
    if "plus" in kinds:
        names.append("font_huge")
    for name in names:
        gc.collect()
        a = gc.mem_alloc()
        __import__(name)
        gc.collect()
        print("%-10s heap %d B" % (name, gc.mem_alloc() - a))


KINDS = sys.argv[1:] or ("stickc", "plus")
fonts(KINDS)
for kind in KINDS:
    bench(kind)
    gc.collect()
