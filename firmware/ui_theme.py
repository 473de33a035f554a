"""Colours, fonts chosen by display size (font files, fontfile.py; ui_init opens them), and the
parts every screen shares: the status bar and the power graph. Layout comes
from the display size, so the 160x80 StickC and the 240x135 Plus run the same
code."""
from micropython import const
from broute.bstate import SCANNING, CONNECTED
import model as M
from st77xx import rgb
import ui_fmt

# Colours are indices into the display's palette (its frame buffer holds 4
# bits a pixel); PALETTE gives their RGB, in index order. Private const() where no
# other module needs one: folded in, no heap.
BG = const(0)
FG = const(1)
DIM = const(2)
FAINT = const(3)
BAR = const(4)
OK = const(5)
_WARN = const(6)
ALARM = const(7)
EXPORT = const(8)
_INFO = const(9)
ERR_BAR = const(10)
PALETTE = (rgb(0, 0, 0), rgb(255, 255, 255), rgb(150, 150, 150), rgb(60, 60, 60),
           rgb(26, 30, 40), rgb(70, 220, 110), rgb(255, 170, 0), rgb(255, 50, 50),
           rgb(60, 190, 255), rgb(120, 160, 255), rgb(170, 20, 20))

# Load levels.
_L_NONE = const(0)
L_OK = const(1)
L_WARN = const(2)
L_ALARM = const(3)
L_EXPORT = const(4)
LEVEL_COLOUR = (DIM, OK, _WARN, ALARM, EXPORT)
STALE_S = const(180)  # a reading older than this is drawn grey: it is no longer "now"

# The link state as the screens show it: one row per bstate value, in bstate's order (the
# model holds the session's state as is). The status bar's dot colour and label, then what
# the main screen says, big and as a hint below, while there is no reading to show.
LINK = (
    (DIM, "Starting", "Starting", "Waking the Wi-SUN HAT"),            # STARTING
    (DIM, "Restarting HAT", "Restarting", "Waking the Wi-SUN HAT"),  # RESETTING
    (_INFO, "Scanning", "Finding meter", "This can take minutes"),      # SCANNING
    (_INFO, "Joining meter", "Connecting", "Logging in to the meter"),  # JOINING
    (OK, "Connected", "Connected", "Asking for a reading"),            # CONNECTED
    (_WARN, "Re-auth", "Re-connecting", "Renewing the session"),        # REAUTH
    (_WARN, "Rate-limited", "Waiting", "Radio time limit reached"),     # RATE_LIMITED
    (ALARM, "Error", "No reading", ""),                                # ERROR
)


def level(m, power_w=None):
    """Load level from the larger phase current against the contract amperes;
    from the power (100 V per contract ampere) when the meter gave no currents, or for
    a history minute's `power_w`."""
    w = m.power_w if power_w is None else power_w
    if w is None:
        return _L_NONE
    if w < 0:
        return L_EXPORT
    da = m.max_current_da() if power_w is None else None
    pct = da * 10 // m.contract_a if da is not None else w // m.contract_a
    if pct >= 100:
        return L_ALARM
    return L_WARN if pct >= m.warn_percent else L_OK


class Theme:
    """The display's fonts, sizes and per-frame buffer (set by ui_init, at start-up) and the
    parts every screen shares."""

    def status(self, m, now_ms=0):
        """Status line text, rebuilt only when what it shows changes. Connected, it is the
        local time when known (model.clock: NTP or the meter's), else the link's RSSI."""
        c = m.clock(now_ms)
        c = c // 60 if c is not None else None
        k = self._status_key  # compared field by field: a key tuple would allocate
        if (k is None or k[0] != m.status or k[1] != m.scan_duration
                or k[2] != m.rssi_dbm or k[3] != c):
            self._status_key = (m.status, m.scan_duration, m.rssi_dbm, c)
            text = LINK[m.status][1]
            if m.status == SCANNING:
                text = "Scanning, dur. %d" % m.scan_duration
            elif m.status == CONNECTED and c is not None:
                text = "%02d:%02d" % (c // 60 % 24, c % 60)
            elif m.status == CONNECTED and m.rssi_dbm is not None:
                text = "Link %d dBm" % m.rssi_dbm
            self.status_text = text
        return self.status_text

    def status_bar(self, m, now_ms):
        fb, s, h = self.fb, self.small, self.bar_h
        fb.fill_rect(0, 0, self.w, h, BAR)
        r = h // 4
        fb.ellipse(r + 3, h // 2, r, r, LINK[m.status][0], True)
        x_end = self.w - 2
        if m.wifi is not None:
            x_end = self._wifi_icon(x_end, h, m.wifi) - 3
        if m.mqtt is not None:  # an M: white while the broker has us, red while it has not
            x_end -= s.width("M")
            s.text(x_end, 1, "M", FG if m.mqtt else ALARM)
            x_end -= 3
        age = m.age_s(now_ms)
        if age is not None:
            n = ui_fmt.put_age(self.buf, 0, age)
            x_end -= s.width(self.buf, n)
            s.text(x_end, 1, self.buf, _WARN if age >= STALE_S else DIM, n)
            x_end -= 4
        if m.status == CONNECTED and m.rssi_dbm is not None:
            x_end = self._signal_bars(x_end, h, m.rssi_dbm) - 4
        x = 2 * r + 7
        text = self.status(m, now_ms)
        # Clip to what fits left of the age: the status must never overlap it.
        n = len(text)
        while n and x + s.width(text, n) > x_end:
            n -= 1
        s.text(x, 1, text, FG, n)

    def _signal_bars(self, x_end, h, dbm):
        """Four bars from the RSSI; a meter seen at -96 dBm or less gets one (the HAT sees
        about -96..-49 dBm, docs/protocol.md section 2, Scan)."""
        n = 1 + (dbm >= -88) + (dbm >= -77) + (dbm >= -66)
        bw = max(2, h // 7)
        x = x_end - 4 * (bw + 1)
        for i in range(4):
            bh = (h - 4) * (i + 1) // 4
            self.fb.fill_rect(x + i * (bw + 1), h - 2 - bh, bw, bh, FG if i < n else FAINT)
        return x

    def _wifi_icon(self, x_end, h, up):
        """Three quarter-arcs: white when WiFi is up, red when configured but down."""
        c = FG if up else ALARM
        r = h - 5
        cx, cy = x_end - r, h - 3
        for i in range(3, 0, -1):  # no tuple: the frame must not allocate
            k = r * i // 3
            self.fb.ellipse(cx, cy, k, k, c, False, 0b0011)
        self.fb.fill_rect(cx - 1, cy - 1, 2, 2, c)
        return cx - r

    def graph(self, m, x, y, w, h, minutes=M.MINUTES):
        """Bars of the last `minutes` one-minute averages, newest at the right,
        coloured by load level; export drawn below a zero line."""
        fb = self.fb
        hi, lo = 100, 0
        for age in range(minutes):
            v = m.sample(age)
            if v != M.NO_VALUE:
                hi = max(hi, v)
                lo = min(lo, v)
        self.graph_hi, self.graph_lo = hi, lo  # for axis labels; a returned tuple would allocate
        if y >= fb.y0 + fb.band or y + h <= fb.y0:
            return  # not in the band being drawn (st77xx.ST77xx.paint): no bars to draw
        zero = y + h - 1 - (h - 1) * -lo // (hi - lo)
        fb.hline(x, zero, w, FAINT)
        for age in range(minutes):
            v = m.sample(age)
            if v == M.NO_VALUE or v == 0:
                continue
            bh = (h - 1) * abs(v) // (hi - lo) or 1
            c = LEVEL_COLOUR[level(m, v)]
            # Bars share the width exactly: 2 or 3 px each on 160 px.
            bx = x + w * (minutes - 1 - age) // minutes
            bw = x + w * (minutes - age) // minutes - bx
            if v > 0:
                fb.fill_rect(bx, zero - bh, bw, bh, c)
            else:
                fb.fill_rect(bx, zero + 1, bw, bh, c)
