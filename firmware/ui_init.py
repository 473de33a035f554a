"""The UI's start-up, once per power-up (ui.Ui's constructor imports it, then drops it): the
theme's fonts and sizes, the buttons' choices kept in RTC memory."""
from micropython import const
import fontfile
from ui import MAIN, PAGES
from ui_theme import PALETTE, Theme
from writer import Writer

_LEVELS = const(8)  # backlight levels 1..8 (axp192.LEVELS)


def setup(u, board, model, bright, rotation):
    """Fill in a new ui.Ui `u`. bright (backlight level 0..8) and rotation (1 or 3) are the
    config's. The buttons' choices survive a soft reset in RTC memory until the config
    changes: a redeployed value applies at the next start, with no power-off needed."""
    u.board = board
    u.model = model
    u.theme = _theme(board.display)
    u._shown = [None, None, None, None]  # see Ui.update()
    u._setting = bright | rotation << 4  # the config as last applied
    u.page, u.bright, flipped = MAIN, bright, False
    u.resets = 0  # crash resets in a row, for the app (app.main)
    u._frame = u.render  # bound once: a bound method made per frame would allocate
    u._now = None  # the time of the last frame, to redraw it flipped
    u._alarm = False
    u._name = u._page = None  # the shown page's module: Ui.page_module() sets these and
    u._err = u.error_lines = None  # the error whose advice error_lines holds
    saved = board.load_state()
    if saved and len(saved) >= 5 and saved[0] < PAGES and saved[1] <= _LEVELS:
        u.resets = saved[4]
        if saved[3] == u._setting:
            u.page, u.bright, flipped = saved[0], saved[1], bool(saved[2])
    board.display.set_rotation(rotation)
    u.flipped = False
    if flipped:
        u.flip()
    board.backlight(u.bright)


def _theme(fb):
    t = Theme()
    t.fb = fb
    fb.set_palette(PALETTE)
    t.w, t.h = fb.width, fb.height
    big = t.h >= 120
    d = fontfile.folder()
    t.mid = w = Writer(fb, fontfile.Font(d + "/mid.bin"))
    t.small = w if big else Writer(fb, fontfile.Font(d + "/small.bin"), w.pal)
    t.digits = Writer(fb, fontfile.Font(d + ("/huge.bin" if big else "/big.bin")), w.pal)
    t.bar_h = t.small.height + 2
    t.buf = bytearray(24)  # per-frame figures are formatted in here
    t._status_key = None
    t.graph_hi = t.graph_lo = 0
    t.status_text = ""
    return t
