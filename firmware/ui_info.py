"""The info page: ui_screens.info_rows() with the board's facts. Imported while the page is
shown (ui.Ui.page)."""
from ui_screens import info_rows
from ui_theme import BG, FG, DIM

TICK_MS = 5000  # rows that do not fit turn as pages this often: ui.Ui redraws on this tick


def draw(ui, now_ms):
    """No title bar, so six rows fit on the 80 px StickC; more turn as pages."""
    t = ui.theme
    s = t.small
    t.fb.fill(BG)
    y = 1
    rows = info_rows(ui.model, ui.board.facts())
    per = (t.h - 1) // s.height
    pages = (len(rows) + per - 1) // per
    if pages > 1:
        k = now_ms // TICK_MS % pages * per
        rows = rows[k:k + per]
    for label, value in rows:
        s.text(2, y, label, DIM)
        vw = s.width(value)
        t.fb.fill_rect(t.w - vw - 4, y, vw + 4, s.height, BG)  # long values win
        s.text(t.w - 2 - vw, y, value, FG)
        y += s.height
