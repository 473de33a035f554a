"""What the session ladder (session.py) asks of a Wi-SUN module driver, and what it is told.

A driver owns one module family: its commands, event numbers and framing (skdriver.py:
SKSTACK IP, both dialects; j11driver.py: ROHM's J11). The ladder never sees any of them. The
driver class holds what a connected session uses; its join steps are in modules of their
own, one per ladder step (poll.py's START, FIND, JOIN), which `steps(step)` imports and
returns (skstart/skscan/skjoin.py, j11start/j11scan/j11join.py), so that each leaves RAM when
its step ends (`steps()`, then session.drop_join()). The ladder awaits:

  steps(START).reset(d)            reset the module (d: the driver)
  steps(START).start(d)            identify it (sets `version`, `dialect`)
  steps(START).credentials(d, rbid, password)  bytes, checked by the ladder
  steps(FIND).scan(d, duration)    the best PAN found {"channel", "pan_id", "addr", "rssi"} or
                                   None: channel in SKSTACK's numbering 0x21-0x3C, addr the MAC
                                   in 16 hex digits, rssi in dBm; duration 4..8 in SKSTACK's scale
  steps(FIND).resolve(d, addr)     the meter's IPv6 link-local address (str) from its MAC
  steps(JOIN).join(d, target)      JOINED, REFUSED (the meter said no) or NO_ANSWER
  steps(JOIN).end(d)               end the session the module may hold (nothing without one)
  send(frame)                 one UDP frame to the joined meter; False: the radio could not send it
  wait(deadline)              read until on_event returns true (True) or the deadline (None)

While a join step is loaded, its `take(d, k, p)` sees each parsed item first (the driver's
`_jt`) and keeps what only that step brings (versions, scan results, join answers).
The attributes `version` and `dialect` (set by start) and `rssi` (dBm, None until known; the
ladder sets it from a cached scan) are read by the ladder. It learns what happens on the link
through `on_event(kind, arg)`, called from inside those coroutines (an exception raised there
ends the one reading). A command the module refuses or leaves unanswered raises DriverError;
nothing else is raised by a driver.
"""
from .compat import TimeoutError, const, ticks_add, ticks_diff

# on_event kinds
FRAME = const(1)      # arg: the ECHONET Lite payload from the joined meter (a memoryview, valid until
                      # the driver reads again); frames from other senders never get here
LOST = const(2)       # arg: why (text). The session the module held is gone
REAUTH = const(3)     # the session is being re-authenticated: send nothing until REAUTHED (or LOST)
REAUTHED = const(4)
RATE = const(5)       # the radio's transmit-time limit is reached: send nothing until RATE_OFF
RATE_OFF = const(6)
RESTARTED = const(7)  # the module restarted by itself and forgot the credentials

# join() results
JOINED = const(1)
REFUSED = const(2)    # the meter answered and refused: ID or password
NO_ANSWER = const(3)  # the meter never answered: out of reach

# DriverError.code: besides these, a positive code is the module refusing a value it was given
TIMEOUT = const(-1)   # no answer
BUSY = const(10)      # accepted but not possible now (SKSTACK FAIL ER10)


class DriverError(Exception):
    """A command the module refused or left unanswered; `code` says which, str() says it in full."""

    def __init__(self, code, text):
        super().__init__(text)
        self.code = code


# The one waiter both drivers share. Each driver class takes these two functions as methods
# (`wait = driver.wait`): a base class would cost ~300 B of 32-bit heap (its class object;
# measured), plain functions nothing. They use the driver's `_port`, `_clock`, `_p` (its
# parser), `_want`/`_ans` (what ends the exchange under way, and its answer), `eof`, and call
# its `_take(k, p)` (one parsed item: the answer to `_ans`, the rest to on_event) and `_err`.
async def reply(self, want, ms):
    """Drain what was written, then wait for `want`: its answer; DriverError on silence."""
    try:
        await self._port.drain(5000)
    except TimeoutError:
        raise self._err(TIMEOUT)
    a = await self.wait(ticks_add(self._clock.ticks_ms(), ms), want)
    if a is None:
        raise self._err(TIMEOUT)
    return a


async def wait(self, deadline, want=-1):
    """Read until on_event returns true (True) or the deadline (None); the driver's own
    exchanges pass `want`, what ends them (-1: the ladder's wait, -2: nothing), and get
    its answer.

    One coroutine for a whole wait: reading is inlined here, the hot path of every poll.
    """
    self._want, self._ans = want, None
    p = self._p
    while True:
        k = p.next()
        if k:
            if self._take(k, p) and self._want == -1:
                return True
            if self._ans is not None:
                return self._ans
            continue
        left = ticks_diff(deadline, self._clock.ticks_ms())
        if left <= 0:
            return None
        port = self._port
        await port.read(p, left)
        n = port.n
        if n is None:  # nothing yet: the deadline is checked above
            continue
        if not n:  # end of stream: nothing will come; wait out the deadline instead of spinning
            self.eof += 1
            await self._clock.sleep_ms(left)
            return None


# The input side both sans-I/O parsers share (skstack.Parser, j11.Parser take these as methods,
# as the drivers take the waiter above): compat.Port's sink, `space()` then `commit(n)`, or
# `feed(data)` for streams that only offer read(n). A parser has `buf`, its `_s`/`_e` (the
# unread bytes), `_src`/`_si` (what feed() was given and has not copied in yet), `space()`
# and `_next()` (one item, or 0 for "need data").
def commit(self, n):
    self._e += n


def feed(self, data):
    """Take `data` of any length; next() copies it in as it makes room, so lines or frames are
    never lost to a buffer filled in one go. Keep `data` unchanged until next() returns 0
    (need data), then feed more."""
    self._src, self._si = data, 0


def next_item(self):
    """The parser's next item, copying in more of what feed() was given while it needs data."""
    while True:
        k = self._next()
        src = self._src
        if k or src is None:
            return k
        i = self._si
        room = self.space()
        n = min(len(room), len(src) - i)
        room[:n] = src[i:i + n]
        self._e += n
        self._si = i = i + n
        if i == len(src):
            self._src = None
