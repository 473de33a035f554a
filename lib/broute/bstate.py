"""B-route session states as small ints, so the UI can switch on them without strings."""
from .compat import const

STARTING = const(0)
RESETTING = const(1)
SCANNING = const(2)
JOINING = const(3)
CONNECTED = const(4)
REAUTH = const(5)
RATE_LIMITED = const(6)
ERROR = const(7)

_NAMES = ("starting", "resetting", "scanning", "joining", "connected",
          "re-authenticating", "rate-limited", "error")


def name(state):
    """Short text for the LCD and the log."""
    if 0 <= state < len(_NAMES):
        return _NAMES[state]
    return "unknown"
