"""A crashed app: count it, say so on the screen, and reset the board only after repeated
crashes, and only once. app.main imports this per crash and drops it after (a crash is rare,
so its code is not kept on the heap: docs/hardware.md section 4)."""
import sys
from time import ticks_ms, ticks_diff
from micropython import const
import app as _app

_CRASHES_MAX = const(5)  # app crashes in a row before machine.reset()


def handle(a, e, crashes, started):
    """The crash count after this crash of a (an app.App) in the run begun at `started`, or
    None once the board was reset."""
    if ticks_diff(ticks_ms(), started) > _app.CRASH_FORGET_MS:
        crashes = 0  # only crashes in quick succession count towards a reset
    crashes += 1
    log = a.log
    log("app crashed (%d of %d):" % (crashes, _CRASHES_MAX))
    sys.print_exception(e)
    final = False
    if crashes >= _CRASHES_MAX:
        if _may_reset(a):
            log("too many crashes: resetting the board")
            a.platform.reset()
            return None
        log("too many crashes, and a reset did not help: retrying without one")
        crashes = 0
        final = True
    _show(a, e, crashes, final)
    return crashes


def _show(a, e, n, final):
    if a.model is None:
        return
    if final:
        then = "Stopped resetting: power the stick off and on, or update it."
    else:
        then = "Restarting in %d s (%d of %d)." % (_app._CRASH_PAUSE_MS // 1000, n, _CRASHES_MAX)
    a.model.set_error("Firmware error", "%s. %s" % (_app._short(e), then))
    try:
        a.ui.update(a.clock.ticks_ms())
    except Exception:
        pass


def _may_reset(a):
    """True once: a reset that was followed by the same crashes is not repeated."""
    ui = a.ui
    if ui is None or ui.resets:
        return False
    ui.resets = 1
    ui.save()
    return True
