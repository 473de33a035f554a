"""The UI controller: which screen, brightness, orientation, redraws.

Button A cycles the screens, a long press on A steps the brightness down to
off and back to full, button B flips the screen. That state is kept in RTC
memory by the board (survives soft resets, never wears the flash) until the
config's brightness or rotation changes. Redraws
happen when the model changes or the shown age ticks: the page is drawn once per
band of rows and each band pushed as drawn, in one window (st77xx.ST77xx.paint),
so there is no whole-screen frame buffer and no flicker. The time given to render() and update() is the app's
clock, the one the session stamps its readings with (Reading.ticks).
"""
import sys
from micropython import const
from ui_screens import draw_main
from ui_theme import level, L_ALARM

MAIN = const(0)
HISTORY = const(1)
TOTALS = const(2)
INFO = const(3)
PAGES = const(4)
BRIGHT_STEPS = (8, 5, 2, 0)  # long press walks these; 0 = screen off
# Each page but the main one is drawn by its own module, imported while it is shown (page()).
_MODULES = (None, "ui_history", "ui_totals", "ui_info")
_NO_ERROR = (None, None)


class Ui:
    def __init__(self, board, model, bright=BRIGHT_STEPS[0], rotation=1):
        """bright (backlight level 0..8) and rotation (1 or 3) are the config's. The buttons'
        choices survive a soft reset in RTC memory until the config changes: a redeployed
        value applies at the next start, with no power-off needed."""
        import ui_init  # start-up code, dropped after
        try:
            ui_init.setup(self, board, model, bright, rotation)
        finally:
            sys.modules.pop("ui_init", None)

    def save(self):
        """Into RTC memory (not flash): page, brightness, flip, the config they were chosen
        under, crash resets."""
        self.board.save_state(bytes((self.page, self.bright, self.flipped, self._setting,
                                     self.resets)))

    # Button actions (the app wires the buttons to these).
    def next_page(self):
        if self.bright == 0:  # first press only wakes the screen
            self.set_brightness(BRIGHT_STEPS[0])
            return
        self.page = (self.page + 1) % PAGES
        self._shown[0] = None
        self.save()

    def step_brightness(self):
        i = BRIGHT_STEPS.index(self.bright) if self.bright in BRIGHT_STEPS else -1
        self.set_brightness(BRIGHT_STEPS[(i + 1) % len(BRIGHT_STEPS)])

    def set_brightness(self, level_):
        self.bright = level_
        self.board.backlight(level_)
        self._shown[0] = None
        self.save()

    def flip(self):
        self.flipped = not self.flipped
        self.board.flip()
        self.save()
        self._shown[0] = None
        if self._now is not None:  # no frame buffer to push again: redrawn, the same picture
            self.update(self._now)

    def page_module(self):
        """The shown page's drawing module (ui_error while there is an error), None for the
        main page (ui_screens, resident). The others are imported when shown and the one
        before dropped, so only the main page's code stays on the heap: an import of a
        page's few hundred bytes (tools/bench/mem32.py) when a button or an error turns to it."""
        m = self.model
        name = "ui_error" if m.error_title else _MODULES[self.page]
        if name != self._name:
            if self._name:
                sys.modules.pop(self._name, None)
            self._page = None  # freed before the next is imported: never two on the heap
            self._err, self.error_lines = _NO_ERROR, ()  # the advice's lines go with their page
            self._page = __import__(name) if name else None
            self._name = name
        e = self._err  # compared field by field: a tuple to compare with would allocate
        if name == "ui_error" and (e[0] != m.error_title or e[1] != m.error_advice):
            self._err = (m.error_title, m.error_advice)
            self.error_lines = self._page.lines(self.theme, m)
        return self._page

    def render(self, now_ms):
        """Draw the current screen into the display's band (paint() calls it once per band)."""
        mod = self.page_module()
        if mod:
            mod.draw(self, now_ms)
        else:
            draw_main(self.theme, self.model, now_ms)

    def update(self, now_ms):
        """Redraw and push if anything visible changed; drive the alarm."""
        m = self.model
        alarm = level(m) == L_ALARM
        if alarm != self._alarm:
            self._alarm = alarm
            self.board.alert(alarm)
        if self.bright == 0:
            return False
        # What is on screen: page, model version, shown age, time tick.
        # Kept in a list: a key tuple would allocate.
        age = m.age_s(now_ms)
        # pages that change with time alone (device info, long error advice) say how often
        mod = self.page_module()
        tick = getattr(mod, "TICK_MS", 0)
        tick = now_ms // tick if tick else 0
        k = self._shown
        if k[0] == self.page and k[1] == m.version and k[2] == age and k[3] == tick:
            return False
        k[0] = self.page
        k[1] = m.version
        k[2] = age
        k[3] = tick
        self._now = now_ms
        self.board.display.paint(self._frame, now_ms)
        return True
