"""From the session to the pixels: the model holds the session's link state (bstate) and
its reading as they are, names and time stamp included, and ui_theme.LINK is the one
table of what each state looks like."""
import json
import fakes  # noqa: F401
import app
from broute import bstate
from broute import session
import ui_theme
from emu_board import EmuBoard

ID = "00112233445566778899AABBCCDDEEFF"
PW = "0123456789AB"
PATH = "build/link-config.json"


class Plat:
    def board(self, kind, rx, tx=0, buzzer=True):
        return EmuBoard("stickc")


class Clock:
    """The app's (and so the session's) clock, far from time.ticks_ms()."""
    now = 7000000

    def ticks_ms(self):
        return self.now


def _app():
    try:
        import os
        os.mkdir("build")
    except OSError:
        pass
    with open(PATH, "w") as f:
        f.write(json.dumps({"broute_id": ID, "broute_password": PW}))
    a = app.App(Plat(), PATH, lambda line: None, Clock())
    assert a._setup()
    a.session = s = session.Session(None, None, ID, PW, None, None, None, contract_a=30)
    return a, s


def test_one_row_per_link_state():
    assert len(ui_theme.LINK) == len(bstate._NAMES)
    assert all(len(row) == 4 for row in ui_theme.LINK)
    assert ui_theme.LINK[bstate.STARTING][1:3] == ("Starting", "Starting")
    assert ui_theme.LINK[bstate.RESETTING][1:3] == ("Restarting HAT", "Restarting")
    assert ui_theme.LINK[bstate.SCANNING][2] == "Finding meter"
    assert ui_theme.LINK[bstate.CONNECTED][:2] == (ui_theme.OK, "Connected")
    assert ui_theme.LINK[bstate.ERROR][:2] == (ui_theme.ALARM, "Error")


def test_the_model_holds_the_session_state_as_it_is():
    a, s = _app()
    t = a.ui.theme
    for st in range(len(bstate._NAMES)):
        if st == bstate.ERROR:
            continue  # the error screen: test_startup and the app tests
        s.state = st
        a._on_session("state")
        assert a.model.status == st
        a.ui.update(Clock.now)
        assert t.status(a.model) == ("Scanning, dur. 0" if st == bstate.SCANNING
                                     else ui_theme.LINK[st][1]), st
    s.state = bstate.RESETTING  # restarting the HAT has its own label and dot
    a._on_session("state")
    a.ui.update(Clock.now)
    fb, h = a.board, t.bar_h  # the panel's picture
    r = h // 4
    assert fb.pixel(r + 3, h // 2) == ui_theme.DIM


def test_the_reading_reaches_the_model_under_its_names_and_time():
    a, s = _app()
    r = s.reading
    r.power_w, r.current_r_da, r.current_t_da = 1234, 68, 59
    r.today_kwh, r.energy_kwh, r.energy_rev_kwh = 5.4, 12345.6, 310.2
    r.ticks = Clock.now - 9000  # stamped by the session, on the app's clock
    a._on_session("reading")
    m = a.model
    assert (m.power_w, m.current_r_da, m.current_t_da) == (1234, 68, 59)
    assert (m.today_kwh10, m.energy_kwh10, m.energy_rev_kwh10) == (54, 123456, 3102)
    assert m.ticks == r.ticks and m.age_s(Clock.now) == 9
    assert m.sample(0) == 1234
