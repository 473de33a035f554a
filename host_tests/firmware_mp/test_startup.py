"""Start-up on the emulated board: whatever fails (config, board, display, UI) ends on a
screen that says what to fix, or idles with the reason in the log; never a reset loop."""
import asyncio
import json
import fakes  # noqa: F401
import app
from broute import session
import ui
from emu_board import EmuBoard

ID = "00112233445566778899AABBCCDDEEFF"
PW = "0123456789AB"
PATH = "build/startup-config.json"


class Plat:
    """app.Device's interface on the emulated board; RTC memory survives a "reset"."""

    def __init__(self, rtc=None, fail_board=False, fail_watchdog=0):
        self.rtc = rtc
        self.fail_board = fail_board
        self.fail_watchdog = fail_watchdog  # crash the app this many times after start-up
        self.watchdogs = 0
        self.resets = 0
        self.board_obj = None

    def board(self, kind, rx, tx=0, buzzer=True):
        if self.fail_board:
            raise OSError(19)  # ENODEV: no panel on the SPI bus
        self.board_obj = b = EmuBoard("stickc")
        b.state = self.rtc
        return b

    def watchdog(self, ms):
        self.watchdogs += 1
        if self.watchdogs > self.fail_watchdog:
            raise KeyboardInterrupt  # ends main() in the test
        raise RuntimeError("crash after start-up")

    def feed(self):
        pass

    def park(self):
        pass

    def reset(self):
        self.resets += 1


class WdtPlat(Plat):
    def watchdog(self, ms):
        self.watchdogs += 1
        return self


def _write(text):
    try:
        import os
        os.mkdir("build")
    except OSError:
        pass
    with open(PATH, "w") as f:
        f.write(text)


def _config(**values):
    d = {"broute_id": ID, "broute_password": PW}
    for k in values:
        d[k] = values[k]
    _write(json.dumps(d))


def _run(plat, ms=300):
    """Run the app for ms; returns (app, logs, what ended it or None when still running)."""
    logs = []
    a = app.App(plat, PATH, logs.append)
    ended = []

    async def go():
        t = asyncio.create_task(a.run())
        await asyncio.sleep_ms(ms)
        if t.done():
            try:
                await t
            except BaseException as e:
                ended.append(e)
        t.cancel()
    asyncio.run(go())
    return a, logs, ended[0] if ended else None


def _white(board, y0=0):
    """White pixels on the panel from row y0 down."""
    buf = board.screen.buffer
    start = y0 * board.screen.width * 2
    return sum(1 for i in range(start, len(buf), 2) if buf[i] == 0xFF and buf[i + 1] == 0xFF)


def test_portrait_rotation_is_named_on_the_screen_not_a_crash():
    for rot in (0, 2):
        _config(rotation=rot)
        plat = WdtPlat()
        a, logs, ended = _run(plat)
        assert ended is None and plat.resets == 0, ended
        assert a.model.error_title == "Fix config.json"
        assert a.model.error_advice.startswith("rotation: must be 1 or 3"), a.model.error_advice
        assert "portrait" in a.model.error_advice and plat.watchdogs == 1  # running
        assert _white(plat.board_obj) > 100  # the error screen is on the panel


def test_no_display_idles_with_the_reason_logged():
    _config()
    plat = WdtPlat(fail_board=True)
    a, logs, ended = _run(plat)
    assert ended is None and plat.resets == 0 and plat.watchdogs == 0
    assert any("no display" in line and "OSError" in line for line in logs), logs


def test_ui_failure_leaves_a_plain_error_screen():
    _config()
    real = ui.Ui

    class Broken:
        def __init__(self, *args):
            raise OSError(2)  # as with the fonts missing
    ui.Ui = Broken
    try:
        plat = WdtPlat()
        a, logs, ended = _run(plat)
    finally:
        ui.Ui = real
    assert ended is None and plat.resets == 0 and plat.watchdogs == 0
    assert any(line.startswith("start-up failed") for line in logs), logs
    assert _white(plat.board_obj) > 100  # "Start-up failed" in framebuf's own font
    assert _white(plat.board_obj, 36) > 50  # and the advice on its fourth line, in a lower band


def test_huge_and_deep_configs_are_named_on_the_screen():
    ok = '"broute_id": "%s", "broute_password": "%s"' % (ID, PW)
    for text, words in (('{"_c": "%s", %s}' % ("x" * 32768, ok), "larger than 8192 bytes"),
                        ('{"_c": %s1%s, %s}' % ("[" * 2000, "]" * 2000, ok), "nested more than"),
                        ('{"_c": %s1%s, %s}' % ("[" * 20000, "]" * 20000, ok), "larger than"),
                        ("\ufeff{%s}" % ok, None)):
        _write(text)
        plat = WdtPlat()
        a, logs, ended = _run(plat)
        assert ended is None and plat.resets == 0, ended
        if words is None:  # a UTF-8 BOM is fine
            assert a.model.error_title is None and a.cfg.broute_id == ID
        else:
            assert a.model.error_title == "Fix config.json" and words in a.model.error_advice


def test_repeated_crashes_reset_once_never_in_a_loop():
    _config()
    app._CRASH_PAUSE_MS = 1
    try:
        plat = Plat(fail_watchdog=5)
        logs = []
        app.main(plat, PATH, logs.append)  # five crashes: one reset (returns)
        assert plat.resets == 1
        # After the reset (RTC memory kept) the same crashes: no second reset.
        plat2 = Plat(rtc=plat.board_obj.state, fail_watchdog=11)
        try:
            app.main(plat2, PATH, logs.append)
        except KeyboardInterrupt:
            pass
        assert plat2.resets == 0 and plat2.watchdogs == 12
        assert any("a reset did not help" in line for line in logs), logs
    finally:
        app._CRASH_PAUSE_MS = 30000


class _NoHeap:
    """crash.py as a heap too full to run it would have it."""

    def handle(self, a, e, crashes, started):
        raise MemoryError


def test_a_crash_handler_without_heap_retries_without_a_reset():
    import sys
    _config()
    app._CRASH_PAUSE_MS = 1
    try:
        plat = Plat(fail_watchdog=6)
        logs = []
        sys.modules["crash"] = _NoHeap()  # for the first crash: main drops it after
        try:
            app.main(plat, PATH, logs.append)
        except KeyboardInterrupt:
            pass
        # The first crash uncounted, five counted by crash.py: one reset, then a run.
        assert logs.count("app crashed") == 1 and plat.resets == 1 and "crash" not in sys.modules
        assert any("app crashed (5 of 5)" in line for line in logs), logs
    finally:
        app._CRASH_PAUSE_MS = 30000


def test_join_without_answer_is_not_a_wrong_login():
    auth, gone = app._help(session.AUTH_FAILED), app._help(session.JOIN_NO_ANSWER)
    assert auth[0] == "Wrong B-route login" and gone[0] != auth[0]
    assert "closer" in gone[1] and "password" not in gone[1]
    assert "broute_id" in app._help(session.NOT_FOUND)[1]  # a wrong ID also finds no meter
