"""Start-up, once per power-up: config, board, model, UI. The app drops this module (and
config) from sys.modules after use, so their code is not kept on the heap (tools/bench/mem32.py).

Nothing here raises: whatever fails is shown on the screen, as it would fail the same way
after any number of resets; without a display, the serial log says it.
"""
import sys
import model as vm
from ui import Ui
import ui_init  # noqa: F401  held for the start-up: Ui's constructor runs it, then drops it
from broute.version import VERSION
from app import _short
from broute.compat import drop


def setup(a):
    """Fill in a (an app.App): cfg, board, model, ui, info. False: no UI to run."""
    a.cfg, kind, problem = read_config(a.path, a.log)
    cfg = a.cfg
    if a.board is None:
        try:
            a.board = a.platform.board(kind, cfg.uart_rx if cfg else 26, cfg.uart_tx if cfg else 0,
                                       cfg.buzzer if cfg else True)
            if cfg:
                a.board.hat = cfg.hat  # the pins of the HAT the config names (board.wirings)
        except Exception as e:  # no display to tell it on: the serial log must do
            a.log("start-up failed, no display: %s" % _short(e))
            sys.print_exception(e)
            return False
    try:
        if cfg:
            a.model = vm.Model(cfg.contract_amperes, int(cfg.warn_ratio * 100 + 0.5))
            # percent to level 1..8, rounded up: only 0 turns the screen off
            a.ui = Ui(a.board, a.model, (cfg.brightness * 8 + 99) // 100, cfg.rotation)
        else:
            a.model = vm.Model()
            a.ui = Ui(a.board, a.model)
    except Exception as e:
        a.log("start-up failed: %s" % _short(e))
        sys.print_exception(e)
        a.ui = None
        _plain_error(a.board, a.log, "Start-up failed", _short(e), "Reinstall: make deploy")
        return False
    if cfg and cfg.tariff:
        from broute.tariffcfg import load
        a.tariff = load(cfg.tariff)
        drop("broute.tariffcfg")  # the parser is used once; broute.tariff (per reading) stays
    a._info = (("Firmware", VERSION),)
    drop("broute.version")  # the string is all that is needed
    if problem:
        a.model.set_error(*problem)
    else:
        a._info += (("Contract", "%d A, poll %d s" % (cfg.contract_amperes, cfg.poll_seconds)),)
    a.model.info = a._info
    return True


def read_config(path, log):
    """(Config or None, board kind, None or the error screen's (title, text)); path None
    is config.PATH. A Config keeps nothing of the config module, which is dropped here
    (imported here, not at the top: a global would keep it alive until setup ends)."""
    import config
    path = path or config.PATH
    try:
        cfg = config.load(path)
    except config.ConfigError as e:
        for line in e.lines():
            log("config: " + line)
        cfg, kind = None, config.peek_board(path)
        problem = ("No config file" if e.missing else "Fix config.json", str(e))
    except Exception as e:  # MemoryError and the like: the file is to blame, and says so
        log("config: cannot be read: %s" % _short(e))
        cfg, kind = None, "auto"
        problem = ("Fix config.json", "config.json cannot be read (%s): make it smaller and "
                   "simpler, like config.example.json" % _short(e))
    else:
        log("config: " + config.summary(cfg))
        kind, problem = cfg.board, None
    del sys.modules["config"]
    drop("broute.credcheck")  # config's ID and password rules: used once
    if "broute.tariffcfg" in sys.modules:  # config's tariff check: used once
        drop("broute.tariffcfg")
    return cfg, kind, problem


def _plain_lines(arg):
    """One band of the plain error screen (st77xx.ST77xx.paint draws every band)."""
    d, lines = arg
    d.fill(0)
    y = 2
    for text in lines:
        d.text(text, 2, y, 1)
        y += 12


def _plain_error(board, log, title, detail, advice):
    """An error screen in framebuf's built-in 8x8 font: the UI's fonts may be what failed."""
    try:
        d = board.display
        d.set_palette((0, 0xFFFF))  # index 1: white in either byte order
        d.paint(_plain_lines, (d, (title, detail[:d.width // 8], detail[d.width // 8:d.width // 4], advice)))
        board.backlight(8)
    except Exception as e:
        log("no error screen either: %s" % _short(e))
