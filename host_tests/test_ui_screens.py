"""Render every screen on the emulated board under MicroPython, then check
the PNGs the way a person would look at them: the colour of the wattage,
text present where it should be, the graph's shape, the error title bar."""
import os
import subprocess

import png
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MP = os.path.join(ROOT, ".venv", "bin", "micropython")

GREEN, AMBER, RED, BLUE = (70, 220, 110), (255, 170, 0), (255, 50, 50), (60, 190, 255)


@pytest.fixture(scope="module", params=["stickc", "plus"])
def screens(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    r = subprocess.run([MP, "tools/emulation/render_screens.py", str(out), request.param], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    alarms = dict(line.split() for line in lines if not line.startswith("rows "))
    alarms["rows"] = [line[5:] for line in lines if line.startswith("rows ")]
    return out, alarms


def load(out, name):
    w, h, rows, _ = png.Reader(filename=str(out / (name + ".png"))).asRGB8()
    rows = [list(r) for r in rows]
    return w, h, [[tuple(r[i:i + 3]) for i in range(0, len(r), 3)] for r in rows]


def near(c, ref, tol=24):
    return all(abs(a - b) <= tol for a, b in zip(c, ref))


def count(px, box, colour):
    x0, y0, x1, y1 = box
    return sum(near(px[y][x], colour) for y in range(y0, y1) for x in range(x0, x1))


def watt_box(w, h):
    """Where the big figure sits: below the status bar, above the info line."""
    return (0, h * 20 // 100, w, h * 55 // 100)


@pytest.mark.parametrize("name, colour", [("main_normal", GREEN), ("main_near", AMBER),
                                          ("main_over", RED), ("main_export", BLUE)])
def test_wattage_colour_follows_load(screens, name, colour):
    out, alarms = screens
    w, h, px = load(out, name)
    box = watt_box(w, h)
    area = (box[2] - box[0]) * (box[3] - box[1])
    hits = count(px, box, colour)
    others = [count(px, box, c) for c in (GREEN, AMBER, RED, BLUE) if c != colour]
    assert hits > area // 6, (name, hits, area)  # big digits fill the area
    assert max(others) < hits // 10
    assert (alarms[name] == "alarm") == (name == "main_over")  # LED / buzzer only over the limit


def test_status_bar_and_waiting_screens_have_text(screens):
    out, _ = screens
    for name in ("main_normal", "scanning", "joining", "reauth", "rate_limited"):
        w, h, px = load(out, name)
        bar = (10, 0, w // 2, h // 8)
        assert count(px, bar, (255, 255, 255)) > 20, name
    for name in ("scanning", "joining"):  # no reading yet: "Finding meter", "Connecting"
        w, h, px = load(out, name)
        assert count(px, watt_box(w, h), (255, 255, 255)) > 100, name
        for c in (GREEN, AMBER, RED):
            assert count(px, watt_box(w, h), c) == 0, name


def test_stale_reading_is_grey(screens):
    out, _ = screens
    w, h, px = load(out, "rate_limited")  # last reading 250 s old
    assert count(px, watt_box(w, h), GREEN) == 0
    assert count(px, watt_box(w, h), (150, 150, 150)) > 100


def test_history_graph_shows_the_spike(screens):
    """The scenario has a +1200 W kettle 16..19 minutes ago: its bars stand out."""
    out, _ = screens
    w, h, px = load(out, "history")

    def bar_height(minutes_ago):
        x = w * (59 - minutes_ago) // 60 + 1
        return sum(1 for y in range(h) if near(px[y][x], GREEN) or near(px[y][x], AMBER))
    spike = bar_height(17)
    assert spike > 1.4 * bar_height(5) and spike > 1.4 * bar_height(30)


def test_error_screens(screens):
    out, _ = screens
    for name in ("error_no_config", "error_bad_config", "error_auth", "error_no_meter",
                 "error_module", "error_out_of_reach"):
        w, h, px = load(out, name)
        assert count(px, (0, 0, w, 3), (170, 20, 20)) > w * 2, name  # red title bar
        advice = (0, h // 4, w, h)
        assert count(px, advice, (255, 255, 255)) > 150, name  # several lines of advice


def test_every_screen_differs(screens):
    out, _ = screens
    names = sorted(p for p in os.listdir(out))
    data = {open(out / n, "rb").read() for n in names}
    assert len(names) == 17 and len(data) == len(names)


def test_info_screen_shows_what_the_firmware_shows(screens):
    """The rows come from the real app: its version, the address WiFi gave, the broker's state."""
    out, info = screens
    with open(os.path.join(ROOT, "lib", "broute", "version.py")) as f:
        version = f.read().split('VERSION = "')[1].split('"')[0]
    rows = dict(r.split("=", 1) for r in info["rows"][0].split("|"))
    assert rows["Firmware"] == version
    assert list(rows) == ["Board", "Power", "Firmware", "Contract", "Module", "Link", "IP", "MQTT"]
    assert rows["IP"] == "192.168.1.23" and rows["MQTT"] == "connected"
    assert "mqttpassword" not in info["rows"][0] and "wifipassword" not in info["rows"][0]


def test_sizes_follow_the_board(screens, request):
    """Every screen has its board's panel size: 160x80 on the StickC, 240x135 on the Plus."""
    out, _ = screens
    want = {"stickc": (160, 80), "plus": (240, 135)}[request.node.callspec.params["screens"]]
    for name in os.listdir(out):
        w, h, _ = load(out, name[:-4])
        assert (w, h) == want, name


# The firmware's modules after each step below, under the unix port: the start-up code
# (board_init, st77xx_init, ui_init) and the pages but the main one are off the heap unless shown.
_RESIDENT = """
import sys
sys.path[0:0] = ["firmware", "lib", "tools/emulation"]
import model as M
from emu_board import EmuBoard
from ui import Ui
PAGES = ("ui_history", "ui_totals", "ui_info", "ui_error", "ui_init", "st77xx_init", "board_init")

def loaded(step):
    print(step, " ".join(n for n in PAGES if n in sys.modules) or "-")

m = M.Model(30)
u = Ui(EmuBoard("stickc"), m)
u.update(0)
loaded("start")
for i in range(4):
    u.next_page()
    u.update(0)
    loaded("page%d" % u.page)
m.set_error("No meter found", "Move the stick closer to the meter.")
u.update(0)
loaded("error")
m.set_error(None, "")
u.update(0)
loaded("cleared")
"""


def test_only_the_shown_pages_code_is_loaded():
    """Each page but the main one is imported while shown and dropped after (ui.Ui.page_module);
    the start-up modules are dropped once they have run."""
    r = subprocess.run([MP, "-c", _RESIDENT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n") == ["start -", "page1 ui_history", "page2 ui_totals", "page3 ui_info",
                                    "page0 -", "error ui_error", "cleared -", ""]


_WRAP = """
import sys
sys.path[0:0] = ["firmware", "lib", "tools/emulation"]
from emu_board import EmuBoard
from fontfile import Font, folder
from writer import Writer
from ui_error import wrap
w = Writer(EmuBoard("stickc", screen=False).display, Font(folder() + "/small.bin"))
width = w.width("Move the stick")
for text in ("Move the stick closer to the meter", "Move  the\\nstick closer", "x " + "y" * 40 + " z", "  "):
    lines = wrap(w, text, width)
    print("|".join(lines), all(w.width(s) <= width or " " not in s for s in lines))
"""


def test_advice_wraps_into_lines_that_fit():
    """Words joined by one space whatever separated them; a word too long for a line gets its own."""
    r = subprocess.run([MP, "-c", _WRAP], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n") == ["Move the stick|closer to the|meter True",
                                    "Move the stick|closer True", "x|" + "y" * 40 + "|z True",
                                    " True", ""]
