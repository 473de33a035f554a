"""The error page: a red title, then what to do. Imported while an error is shown
(ui.Ui.page)."""
from ui_theme import BG, FG, DIM, ERR_BAR

TICK_MS = 4000  # advice longer than the screen turns a page this often: ui.Ui redraws on it


def lines(t, m):
    """The advice wrapped to the screen's width (once per error: ui.Ui keeps them)."""
    return wrap(t.small, m.error_advice, t.w - 6)


def draw(ui, now_ms):
    """The advice in `lines`, a page at a time when longer than the screen, the pages
    balanced (no lone last line), with a mark per page at the title bar's right end."""
    t, lines_ = ui.theme, ui.error_lines
    s, fb = t.small, t.fb
    fb.fill(BG)
    fb.fill_rect(0, 0, t.w, t.bar_h, ERR_BAR)
    step = s.height - 1  # the font's descender row doubles as line spacing
    n = len(lines_)
    per = (t.h - t.bar_h - 1) // step
    pages = max(1, (n + per - 1) // per)
    per = (n + pages - 1) // pages
    page = now_ms // TICK_MS % pages
    x = t.w - 3  # where the title must end: left of the page marks
    if pages > 1:
        d = max(3, (t.bar_h + 1) // 4)
        x -= pages * (d + 2) + 3
        for i in range(pages):
            fb.fill_rect(x + 5 + i * (d + 2), (t.bar_h - d) // 2, d, d, FG if i == page else DIM)
    title = ui.model.error_title
    k = len(title)
    while k and 3 + s.width(title, k) > x:  # clipped rather than run into the marks
        k -= 1
    s.text(3, 1, title, FG, k)
    y = t.bar_h + 1
    for line in lines_[page * per:(page + 1) * per]:
        s.text(3, y, line, FG)
        y += step


def wrap(writer, text, width):
    """Split text into lines that fit width pixels of writer's font, words joined by one
    space. Measured a character at a time and cut out of text, so the lines are the only new
    strings."""
    font, lines = writer.font, []
    sp = font.width(32)
    n, i, start = len(text), 0, -1  # the line so far: text[start:end], w pixels
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i == n:
            break
        j, ww = i, 0
        while j < n and not text[j].isspace():
            ww += font.width(ord(text[j]))
            j += 1
        if start >= 0 and w + sp + ww > width:
            lines.append(_line(text, start, end, plain))
            start = -1
        if start < 0:
            start, w, plain = i, ww, True
        else:
            w += sp + ww
            plain = plain and i == end + 1 and text[end] == " "
        end = i = j
    if start >= 0:
        lines.append(_line(text, start, end, plain))
    return lines


def _line(text, start, end, plain):
    """text[start:end] with its words joined by one space (plain: they already are)."""
    return text[start:end] if plain else " ".join(text[start:end].split())
