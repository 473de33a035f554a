"""The main screen, always on the heap, and what the other pages share. Each draw paints the
whole screen (once per band, st77xx.ST77xx.paint) from the model; positions derive from the
display size and the fonts' heights. The other pages (ui_history, ui_totals, ui_info,
ui_error) are imported by the UI while they are shown and dropped after (ui.Ui.page)."""
import ui_fmt
from ui_theme import BG, FG, DIM, FAINT, BAR, LEVEL_COLOUR, LINK, STALE_S, level


def right(w, x_end, y, s, c, n=-1):
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
        x = right(s, t.w - 1, y - 1, "kWh", DIM) - s.width("kWh")
        right(s, x - 1, y - 1, buf, FG, n)
    y += s.height
    t.graph(m, 0, y, t.w, t.h - y, 60)


def title(t, text, colour=BAR):
    t.fb.fill_rect(0, 0, t.w, t.bar_h, colour)
    t.small.text(3, 1, text, FG)
