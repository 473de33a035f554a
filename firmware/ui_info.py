"""The info page: the board's facts, the app's (model.info) and the links' rows. Imported while
the page is shown (ui.Ui.page)."""
from ui_theme import BG, FG, DIM

TICK_MS = 5000  # rows that do not fit turn as pages this often: ui.Ui redraws on this tick
_rows = ()  # the frame's rows, made at its first band (st77xx.ST77xx.paint starts at row 0)


def draw(ui, now_ms):
    """No title bar, so six rows fit on the 80 px StickC; more turn as pages."""
    global _rows
    t = ui.theme
    s = t.small
    t.fb.fill(BG)
    y = 1
    if t.fb.y0 == 0:  # the rows' strings once a frame, not once a band
        _rows = info_rows(ui.model, ui.board.facts())
    rows = _rows
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
