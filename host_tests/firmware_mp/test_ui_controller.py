"""Buttons, screen cycling, brightness, flip and remembered state on the emulated board."""
import asyncio
import micropython
from broute import bstate
import fakes  # noqa: F401
import model as M
import ui
from buttons import Button
from emu_board import EmuBoard, FakePin
from writer import Writer
from fontfile import Font, folder


def _presses(script, long_ms=300):
    """Run a Button on a fake pin driven by script [(level, ms), ...]."""
    pin = FakePin(1)
    got = []
    b = Button(pin, lambda: got.append("short"), lambda: got.append("long"), long_ms=long_ms)

    async def main():
        task = asyncio.create_task(b.run())
        for level, ms in script:
            pin.value(level)
            await asyncio.sleep_ms(ms)
        task.cancel()
    asyncio.run(main())
    return got


def test_button_short_long_and_bounce():
    assert _presses([(0, 100), (1, 100)]) == ["short"]
    assert _presses([(0, 500), (1, 100)]) == ["long"]  # no short after a long
    bounce = [(0, 5), (1, 5), (0, 5), (1, 5)]
    assert _presses(bounce + [(0, 120), (1, 100)]) == ["short"]
    assert _presses([(0, 10), (1, 100)]) == []  # a 10 ms glitch is not a press


def _ui(state=None):
    board = EmuBoard("stickc")
    board.state = state
    m = M.Model(contract_a=30)
    return board, m, ui.Ui(board, m)


def test_pages_brightness_flip_are_remembered():
    board, m, u = _ui()
    u.next_page()
    # page, level, flipped, the config's (level 8, rotation 1) they were chosen under, resets
    assert u.page == ui.HISTORY and board.state == bytes((1, 8, 0, 8 | 1 << 4, 0))
    u.step_brightness()
    assert board.brightness == 5
    u.flip()
    assert board.display.rotation == 3 and board.state == bytes((1, 5, 1, 8 | 1 << 4, 0))
    # A soft reset: a new board/UI restores page, brightness and orientation.
    board2, m2, u2 = _ui(board.state)
    assert (u2.page, board2.brightness, board2.display.rotation) == (1, 5, 3)


def test_button_b_flips_the_picture_on_the_panel():
    """B: the panel is told the other landscape orientation (MADCTL), then sent the whole
    frame again through that orientation's window."""
    board, m, u = _ui()
    u.update(0)
    d = board.display
    board.spi.log = []
    before = bytes(board.screen.buffer)

    async def main():
        task = asyncio.create_task(Button(board.pin_b, u.flip).run())
        await board.play(((0, "B", "short"),))
        await asyncio.sleep_ms(100)
        task.cancel()
    asyncio.run(main())
    assert u.flipped and d.rotation == 3 and board.state[2] == 1
    madctl, cx, ry = d._rot[3]
    assert madctl != d._rot[1][0]
    cmds = []  # (command, data bytes)
    for dc, data in board.spi.log:
        if dc == 0:
            cmds.append([data[0], b""])
        else:
            cmds[-1][1] += data
    assert cmds[0] == [0x36, bytes((madctl,))]
    assert cmds[1] == [0x2A, bytes((0, cx, (cx + d.width - 1) >> 8, (cx + d.width - 1) & 255))]
    assert cmds[2] == [0x2B, bytes((0, ry, 0, ry + d.height - 1))]
    assert cmds[3][0] == 0x2C and len(cmds[3][1]) == d.width * d.height * 2
    assert bytes(board.screen.buffer) == before  # the same picture, turned by the panel


def test_screen_off_and_wake():
    board, m, u = _ui()
    for _ in ui.BRIGHT_STEPS[1:]:
        u.step_brightness()
    assert board.brightness == 0 and not u.update(0)  # nothing pushed while off
    u.next_page()  # wakes, stays on the same page
    assert board.brightness == 8 and u.page == ui.MAIN and u.update(0)


def test_redraw_only_on_change_and_alarm():
    board, m, u = _ui()
    assert u.update(1000) and not u.update(1100)
    m.set_reading(3500, 320, 250, 1000)
    assert u.update(1200) and board.led_on and board.alerts == [True]
    assert u.update(2000)  # the age went from 0 s to 1 s
    m.set_reading(500, 40, 30, 2000)
    u.update(2100)
    assert not board.led_on and board.alerts == [True, False]


def test_error_screen_overrides_pages():
    board, m, u = _ui()
    u.next_page()
    m.set_error("No config file", "Copy config.json to the board, then reset.")
    u.update(0)
    fb = board  # the panel's picture
    # Title bar is the error red, whatever page was selected.
    assert fb.pixel(1, 1) == fb.pixel(150, 2) != 0


def test_long_error_advice_turns_pages():
    board, m, u = _ui()
    m.set_error("Wi-SUN HAT silent", "word " * 40)
    fb = board.screen
    assert u.update(0)
    first = bytes(fb.buffer)
    assert not u.update(1000)  # same page: nothing pushed
    assert u.update(4000) and bytes(fb.buffer) != first
    m.set_error("Short", "Reset.")
    u.update(8000)
    short = bytes(fb.buffer)
    u.update(12000)
    assert bytes(fb.buffer) == short  # one page: nothing turns


def test_main_frame_allocates_nothing_after_warm_up():
    board, m, u = _ui()
    m.status, m.rssi_dbm, m.wifi = bstate.CONNECTED, -60, True
    m.set_energy(3.2, 1000.5, None)
    for i in range(60):
        m.add_power(500 + 10 * i, i * 60000)
    m.set_reading(1234, 68, 59, 60 * 60000)
    for age in range(10):  # warm-up: every digit's glyph cached, status text built
        u.render(60 * 60000 + age * 1000)
    micropython.heap_lock()
    try:
        u.render(60 * 60000 + 17000)
        m.changed()
        assert u.update(60 * 60000 + 18000)  # render + push to the panel
        assert not u.update(60 * 60000 + 18100)
    finally:
        micropython.heap_unlock()


def test_writer_width_and_colour():
    board = EmuBoard("stickc")
    fb = board.display
    w = Writer(fb, Font(folder() + "/small.bin"))
    fb.fill(0)
    end = w.text(0, 0, "88", 9)  # a palette index
    assert end == w.width("88") == w.width(b"88") == 2 * w.width("8")
    colours = set(fb.pixel(x, y) for x in range(end) for y in range(w.height))
    assert colours == {0, 9}
    fb.fill(15)
    w.text(0, 0, "88", 0)  # index 0 on a filled background: still transparent
    colours = set(fb.pixel(x, y) for x in range(end) for y in range(w.height))
    assert colours == {0, 15}
    from ui_error import wrap  # the error page's, the one page with advice to wrap
    assert wrap(w, "aaa bbb ccc", w.width("aaa bbb")) == ["aaa bbb", "ccc"]


def _ink_cols(fb, y0, y1, bg):
    return set(x for x in range(fb.display.width) for y in range(y0, y1) if fb.pixel(x, y) != bg)


def test_error_title_never_runs_into_the_page_marks():
    """Every title the app shows, on both panels, stays clear of the page marks in full."""
    import advice
    titles = [v[0] for v in advice.HELP.values()] + ["No config file", "Fix config.json",
                                                     "Firmware error", "Start-up failed"]
    for kind in ("stickc", "plus"):
        board = EmuBoard(kind)
        m = M.Model()
        u = ui.Ui(board, m)
        fb, bar = board, u.theme.bar_h  # the panel's picture
        for title in titles:
            m.set_error(title, "Short.")
            board.display.paint(u.render, 0)
            bg = fb.pixel(0, bar - 1)  # the bar's red
            alone = _ink_cols(fb, 0, bar, bg)
            m.set_error(title, "word " * 60)
            board.display.paint(u.render, 0)
            both = _ink_cols(fb, 0, bar, bg)
            marks = both - alone
            assert alone <= both, (kind, title)  # the title is drawn whole
            # a clear gap, wider than the one between two letters
            assert marks and min(marks) - max(alone) > 5, (kind, title, min(marks), max(alone))


def test_error_pages_are_balanced():
    """Advice one line longer than a page splits evenly, not into a full page and a lone line."""
    board = EmuBoard("stickc")
    m = M.Model()
    u = ui.Ui(board, m)
    t, fb = u.theme, board  # the panel's picture
    step = t.small.height - 1
    per_page = (t.h - t.bar_h - 1) // step
    words = 1
    from ui_error import wrap
    while len(wrap(t.small, "word " * words, t.w - 6)) <= per_page:
        words += 1
    m.set_error("Fix config.json", "word " * words)
    counts = []
    for now in (0, 4000):
        board.display.paint(u.render, now)
        lines = 0
        for i in range(per_page):
            y = t.bar_h + 1 + i * step
            if any(fb.pixel(x, yy) == 1 for x in range(t.w) for yy in range(y, y + step)):
                lines += 1
        counts.append(lines)
    assert sum(counts) == per_page + 1 and abs(counts[0] - counts[1]) <= 1, counts
