"""The totals page: today's and this month's kWh and cost, the meter's two counters, the
time in the title. Imported while the page is shown (ui.Ui.page)."""
import ui_fmt
from ui_screens import right, title
from ui_theme import BG, FG, DIM


def _row(t, y, x_kwh, label, value, yen=None):
    """Label, the kWh right-aligned at x_kwh, the cost in yen (broute.tariff) at the right."""
    s, buf = t.small, t.buf
    s.text(2, y, label, DIM)
    if value is None:
        n = ui_fmt.put_str(buf, 0, b"--")
    else:
        n = ui_fmt.put_tenths(buf, 0, value)
    right(s, x_kwh, y, buf, FG, n)
    if yen is not None:
        x = right(s, t.w - 2, y, " yen", DIM) - s.width(" yen")
        right(s, x, y, buf, FG, ui_fmt.put_int(buf, 0, yen))


def draw(ui, now_ms):
    t, m = ui.theme, ui.model
    t.fb.fill(BG)
    title(t, "Energy, kWh")
    c = m.clock(now_ms)  # the local time (HH:MM) when it is known (model.clock)
    if c is not None:
        right(t.small, t.w - 3, 1, t.buf, FG, _put_hhmm(t.buf, 0, c))
    s = t.small
    step = (t.h - t.bar_h) // 4
    y = t.bar_h + (step - s.height) // 2 + 1
    x = t.w - 2 - (s.width("00000 yen") + 2 if m.month_yen is not None else 0)
    _row(t, y, x, "Today", m.today_kwh10, m.today_yen)
    _row(t, y + step, x, "Month", m.month_kwh10, m.month_yen)
    _row(t, y + 2 * step, t.w - 2, "Bought", m.energy_kwh10)  # the meter's counters: wide
    _row(t, y + 3 * step, t.w - 2, "Sold", m.energy_rev_kwh10)


def _put_hhmm(buf, pos, stamp):
    """The time of day of a local stamp (seconds) as 09:05."""
    for v in (stamp // 3600 % 24, stamp // 60 % 60):
        buf[pos] = 48 + v // 10
        buf[pos + 1] = 48 + v % 10
        buf[pos + 2] = 58  # ':'
        pos += 3
    return pos - 1
