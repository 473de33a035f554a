"""The screens. Each draw_* paints the whole frame buffer from the model;
positions derive from the display size and the fonts' heights."""
import model as M
import ui_fmt
from ui_theme import (BG, FG, DIM, FAINT, BAR, EXPORT, ERR_BAR,
                      LEVEL_COLOUR, LINK, STALE_S, level)

ERROR_PAGE_MS = 4000


def _right(w, x_end, y, s, c, n=-1):
    return w.text(x_end - w.width(s, n), y, s, c, n)


def _power(t, m, y, stale):
    """The wattage in big digits (kW with one decimal from 10 kW), unit in the
    mid font on the digits' baseline, right-aligned; colour = load level."""
    d, mid, buf = t.digits, t.mid, t.buf
    top, bottom = d.ink()
    lv = level(m)
    c = DIM if stale else LEVEL_COLOUR[lv]
    w = m.power_w
    if -10000 < w < 10000:
        n = ui_fmt.put_int(buf, 0, w)
        unit = "W"
    else:
        n = ui_fmt.put_tenths(buf, 0, w // 100)
        unit = "kW"
    uw = mid.width(unit)
    x_unit = t.w - uw - 2
    x = x_unit - 2 - d.width(buf, n)
    d.text(x, y - top, buf, c, n)
    _, mbottom = mid.ink()
    mid.text(x_unit, y + bottom - top - mbottom, unit, c)
    return y + bottom - top + 1


def _gauge(t, m, y, stale):
    """Thin bar: the larger phase current as a share of the contract amperes."""
    da = m.max_current_da()
    t.fb.fill_rect(0, y, t.w, 3, FAINT)
    if da is None or m.power_w is None:
        return
    share = min(t.w, t.w * da // (m.contract_a * 10))
    t.fb.fill_rect(0, y, share, 3, DIM if stale else LEVEL_COLOUR[level(m)])
    # A tick at the warning threshold (config warn_ratio).
    t.fb.vline(t.w * m.warn_percent // 100, y - 1, 5, FG)


def _figure(t, x, y, label, tenths, unit):
    """Dim label then the value (tenths) in white: "R 25.1" style."""
    s, buf = t.small, t.buf
    x = s.text(x, y, label, DIM) + 2
    if tenths is None:
        n = ui_fmt.put_str(buf, 0, b"--")
    else:
        n = ui_fmt.put_str(buf, ui_fmt.put_tenths(buf, 0, tenths), unit)
    return s.text(x, y, buf, FG, n)


def draw_main(t, m, now_ms):
    fb, s = t.fb, t.small
    fb.fill(BG)
    t.status_bar(m, now_ms)
    y = t.bar_h + 3
    if m.power_w is None:
        _, _, text, hint = LINK[m.status]
        t.mid.text((t.w - t.mid.width(text)) // 2, y, text, FG)
        y += t.mid.height + 1
        s.text((t.w - s.width(hint)) // 2, y, hint, DIM)
        y = t.h - t.h // 4
        t.graph(m, 0, y, t.w, t.h - y, 60)
        return
    age = m.age_s(now_ms)
    stale = age is not None and age >= STALE_S
    y = _power(t, m, y, stale) + 2
    _gauge(t, m, y, stale)
    y += 5
    x = _figure(t, 1, y - 1, "R", m.current_r_da, b"") + 4
    _figure(t, x, y - 1, "T", m.current_t_da, b"A")
    if m.today_kwh10 is not None:
        buf = t.buf
        n = ui_fmt.put_tenths(buf, 0, m.today_kwh10)
        x = _right(s, t.w - 1, y - 1, "kWh", DIM) - s.width("kWh")
        _right(s, x - 1, y - 1, buf, FG, n)
    y += s.height
    t.graph(m, 0, y, t.w, t.h - y, 60)


def _title(t, text, colour=BAR):
    t.fb.fill_rect(0, 0, t.w, t.bar_h, colour)
    t.small.text(3, 1, text, FG)


def draw_history(t, m, now_ms):
    fb, s, buf = t.fb, t.small, t.buf
    fb.fill(BG)
    _title(t, "Last 60 min")
    y = t.bar_h + 1
    t.graph(m, 0, y, t.w, t.h - y - s.height, M.MINUTES)
    hi, lo = t.graph_hi, t.graph_lo
    n = ui_fmt.put_str(buf, ui_fmt.put_int(buf, 0, hi), b"W")
    _right(s, t.w - 1, 1, buf, DIM, n)
    base = t.h - s.height
    s.text(1, base, "-60m", DIM)
    _right(s, t.w - 1, base, "now", DIM)
    if lo < 0:
        n = ui_fmt.put_str(buf, ui_fmt.put_int(buf, 0, lo), b"W")
        s.text((t.w - s.width(buf, n)) // 2, base, buf, EXPORT, n)


def _kwh_row(t, y, x_kwh, label, value, yen=None):
    """Label, the kWh right-aligned at x_kwh, the cost in yen (broute.tariff) at the right."""
    s, buf = t.small, t.buf
    s.text(2, y, label, DIM)
    if value is None:
        n = ui_fmt.put_str(buf, 0, b"--")
    else:
        n = ui_fmt.put_tenths(buf, 0, value)
    _right(s, x_kwh, y, buf, FG, n)
    if yen is not None:
        x = _right(s, t.w - 2, y, " yen", DIM) - s.width(" yen")
        _right(s, x, y, buf, FG, ui_fmt.put_int(buf, 0, yen))


def _time(t, m, now_ms):
    """The local time (HH:MM) at the title bar's right end, when it is known (model.clock)."""
    c = m.clock(now_ms)
    if c is not None:
        _right(t.small, t.w - 3, 1, t.buf, FG, ui_fmt.put_hhmm(t.buf, 0, c))


def draw_totals(t, m, now_ms):
    """Today's and this month's kWh and cost, the meter's two counters; the time in the title."""
    t.fb.fill(BG)
    _title(t, "Energy, kWh")
    _time(t, m, now_ms)
    s = t.small
    step = (t.h - t.bar_h) // 4
    y = t.bar_h + (step - s.height) // 2 + 1
    x = t.w - 2 - (s.width("00000 yen") + 2 if m.month_yen is not None else 0)
    _kwh_row(t, y, x, "Today", m.today_kwh10, m.today_yen)
    _kwh_row(t, y + step, x, "Month", m.month_kwh10, m.month_yen)
    _kwh_row(t, y + 2 * step, t.w - 2, "Bought", m.energy_kwh10)  # the meter's counters: wide
    _kwh_row(t, y + 3 * step, t.w - 2, "Sold", m.energy_rev_kwh10)


def info_rows(m, extra=()):
    """The info screen's (label, value) rows: the board's facts (extra), the app's
    (model.info), then the radio link."""
    rows = extra + m.info
    if m.rssi_dbm is not None:
        rows += (("Link", "%d dBm" % m.rssi_dbm),)
    if m.wifi is not None:
        rows += (("IP", m.ip) if m.ip else ("WiFi", m.wifi_why),)
    if m.mqtt is not None:
        rows += (("MQTT", m.net_why),)
    return rows


def draw_info(t, m, now_ms, extra=()):
    """info_rows(); no title bar, so six rows fit on the 80 px StickC; more turn as pages
    every 5 s (the UI redraws this page on that tick)."""
    s = t.small
    t.fb.fill(BG)
    y = 1
    rows = info_rows(m, extra)
    per = (t.h - 1) // s.height
    pages = (len(rows) + per - 1) // per
    if pages > 1:
        k = now_ms // 5000 % pages * per
        rows = rows[k:k + per]
    for label, value in rows:
        s.text(2, y, label, DIM)
        vw = s.width(value)
        t.fb.fill_rect(t.w - vw - 4, y, vw + 4, s.height, BG)  # long values win
        s.text(t.w - 2 - vw, y, value, FG)
        y += s.height


def draw_error(t, m, lines, now_ms):
    """Red title, then what to do, pre-wrapped into `lines` by the caller; advice
    longer than the screen is shown a page at a time, turning every 4 s, the pages
    balanced (no lone last line), with a mark per page at the title bar's right end."""
    s, fb = t.small, t.fb
    fb.fill(BG)
    fb.fill_rect(0, 0, t.w, t.bar_h, ERR_BAR)
    step = s.height - 1  # the font's descender row doubles as line spacing
    n = len(lines)
    per = (t.h - t.bar_h - 1) // step
    pages = max(1, (n + per - 1) // per)
    per = (n + pages - 1) // pages
    page = now_ms // ERROR_PAGE_MS % pages
    x = t.w - 3  # where the title must end: left of the page marks
    if pages > 1:
        d = max(3, (t.bar_h + 1) // 4)
        x -= pages * (d + 2) + 3
        for i in range(pages):
            fb.fill_rect(x + 5 + i * (d + 2), (t.bar_h - d) // 2, d, d, FG if i == page else DIM)
    title = m.error_title
    k = len(title)
    while k and 3 + s.width(title, k) > x:  # clipped rather than run into the marks
        k -= 1
    s.text(3, 1, title, FG, k)
    y = t.bar_h + 1
    for line in lines[page * per:(page + 1) * per]:
        s.text(3, y, line, FG)
        y += step


def error_lines(t, m):
    return t.small.wrap(m.error_advice, t.w - 6)
