"""The history page: the last hour's one-minute averages, the scale's top (and bottom, when
power was exported) in watts. Imported while the page is shown (ui.Ui.page)."""
import model as M
import ui_fmt
from ui_screens import right, title
from ui_theme import BG, DIM, EXPORT


def draw(ui, now_ms):
    t = ui.theme
    s, buf = t.small, t.buf
    t.fb.fill(BG)
    title(t, "Last 60 min")
    y = t.bar_h + 1
    t.graph(ui.model, 0, y, t.w, t.h - y - s.height, M.MINUTES)
    hi, lo = t.graph_hi, t.graph_lo
    n = ui_fmt.put_str(buf, ui_fmt.put_int(buf, 0, hi), b"W")
    right(s, t.w - 1, 1, buf, DIM, n)
    base = t.h - s.height
    s.text(1, base, "-60m", DIM)
    right(s, t.w - 1, base, "now", DIM)
    if lo < 0:
        n = ui_fmt.put_str(buf, ui_fmt.put_int(buf, 0, lo), b"W")
        s.text((t.w - s.width(buf, n)) // 2, base, buf, EXPORT, n)
