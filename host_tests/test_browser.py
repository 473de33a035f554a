"""A real headless Chromium (Debian's /usr/bin/chromium, driven by playwright: tools/emulation/
chromium.py) loads the web page from the emulated stick (the real firmware under the MicroPython
unix port, tools/run_host.py --http) and from `broute serve --http`, both against the simulator:
the page shows the simulated meter's watts, coloured by its level, and shows the next ones
without a reload; it asks nothing of any other host; and it says so when the device goes away.

Without chromium these tests skip, except under .ci/run (BROUTE_REQUIRE_CHROMIUM=1), where they fail.
"""
import calendar
import json
import os
import re
import struct
import time
import urllib.request

import pytest

import chromium
import emustick
import simpty
from broker import free_port
from sim_meter import METER, Meter, scenario
from test_web_pc import WebServe

SCALE = "0.1"  # 10 simulated seconds a second: a reading a second, the meter's watts change each second
TICK_S = 10    # the simulated load is constant over 10 s of meter time (tools/simulator/sim_load.py)
WATTS = re.compile(r"^(-?\d+) W$")
LEVEL_RGB = {"normal": "rgb(70, 220, 110)", "near": "rgb(255, 170, 0)", "over": "rgb(255, 50, 50)",
             "export": "rgb(60, 190, 255)"}  # firmware/ui_theme.py PALETTE


@pytest.fixture(scope="module")
def browser():
    why = chromium.missing()
    if why:
        if os.environ.get("BROUTE_REQUIRE_CHROMIUM"):  # .ci/run installs it: missing is a failure
            pytest.fail(why)
        pytest.skip(why)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = chromium.launch(pw)
        yield b
        b.close()


def meter_watts(local_time):
    """The simulated meter's E7 (tools/sim.py's default meter) in the ticks around `local_time`
    ("2024-06-01T11:55:30+0900", the reading's meter time as /api/now gives it): within 30 s
    either side, as the meter tells its time in minutes (0x97; broute.reading takes :30), and a
    tick more for the time between the meter's answer and the reading's time stamp."""
    m = Meter(scenario("normal"))
    w = calendar.timegm(time.strptime(local_time[:19], "%Y-%m-%dT%H:%M:%S"))
    return {struct.unpack(">i", m.value(METER, 0xE7, w + k * TICK_S))[0] for k in range(-4, 5)}


class Watched:
    """A phone-sized tab on `url`, every request it makes and every /api/now answer it gets."""

    def __init__(self, browser, url):
        self.url = url
        self.ctx = browser.new_context(viewport=chromium.PHONE)
        self.requests = []
        self.ctx.on("request", lambda r: self.requests.append((r.url, r.resource_type)))
        self.page = self.ctx.new_page()
        self.nows = []
        self.page.on("response", lambda r: self.nows.append(r) if r.url.endswith("/api/now") else None)
        self.page.goto(url + "/")
        self.page.evaluate("window.loadedOnce = true")  # gone if the page were reloaded

    def watts(self, other_than=None, timeout=30):
        """The watts the page shows once they are a number (other than `other_than`), checked
        against the /api/now answer it drew them from."""
        self.page.wait_for_function(
            "([re, old]) => { const t = document.getElementById('w').innerText;"
            " return new RegExp(re).test(t) && t != old; }",
            arg=[WATTS.pattern, "" if other_than is None else "%d W" % other_than], timeout=timeout * 1000)
        w = int(WATTS.match(self.page.inner_text("#w")).group(1))
        answers = [r.json() for r in self.nows[-2:]]  # a newer answer may be on its way to the page
        now = next(d for d in reversed(answers) if d["power_w"] == w)
        assert w in meter_watts(now["time"]), (w, now)
        colour = self.page.eval_on_selector("#w", "e => getComputedStyle(e).color")
        assert colour == LEVEL_RGB[now["level"]]
        return w

    def check_updates_and_stays_home(self):
        first = self.watts()
        second = self.watts(other_than=first)  # the meter's next watts, with no reload
        assert self.page.evaluate("window.loadedOnce") is True
        assert second != first
        assert re.fullmatch(r"reading \d+ s ago", self.page.inner_text("#age"))
        assert self.page.inner_text("#link") == "connected"
        assert self.page.eval_on_selector_all("#hour rect", "rs => rs.length") >= 1  # /api/history drawn
        urls = [u for u, _ in self.requests]
        assert [t for _, t in self.requests].count("document") == 1
        assert self.url + "/api/history" in urls and len(self.nows) >= 2
        assert all(u.startswith(self.url + "/") for u in urls), urls  # nothing from another host

    def check_unreachable(self):
        """The device gone: the page says so instead of going on showing old watts as now."""
        self.page.wait_for_function(
            "document.getElementById('msg').innerText.startsWith('Device unreachable')", timeout=15000)
        assert "off" in self.page.eval_on_selector("body", "b => b.className")

    def close(self):
        self.ctx.close()


def test_page_from_the_emulated_stick(browser, tmp_path):
    port = free_port()
    st = emustick.Stick(tmp_path, ["--http", str(port), "--tariff"], 120, SCALE)
    tab = None
    try:
        tab = Watched(browser, _when_serving("http://127.0.0.1:%d" % port, st.proc, st.log_path))
        tab.check_updates_and_stays_home()
        assert tab.page.inner_text("#ty").isdigit()  # the tariff's yen
        st.kill()
        tab.check_unreachable()
    finally:
        if tab:
            tab.close()
        st.close()
    log = st.log()
    assert "Traceback" not in log, log


def test_page_from_broute_serve(browser, tmp_path):
    with simpty.sim(tmp_path / "dongle", ["--time-scale", SCALE]) as pty, \
            WebServe(tmp_path, pty, fast=["--time-scale", SCALE]) as serve:
        serve.now(lambda d: d["power_w"] is not None)  # the page's first /api/history has a minute to draw
        tab = Watched(browser, serve.url)
        try:
            tab.check_updates_and_stays_home()
            assert serve.stop() == 0
            tab.check_unreachable()
        finally:
            tab.close()
        assert "Traceback" not in serve.log(), serve.log()


def test_page_before_a_reading(browser, tmp_path):
    """No meter to be found: the page says there is no reading yet and what the link is doing,
    with no watts at all (never a made-up figure)."""
    with simpty.sim(tmp_path / "dongle", ["--time-scale", SCALE, "--scenario", "no-meter"]) as pty, \
            WebServe(tmp_path, pty, fast=["--time-scale", SCALE]) as serve:
        tab = Watched(browser, serve.url)
        try:
            tab.page.wait_for_function("document.getElementById('link').innerText == 'scanning'", timeout=15000)
            assert tab.page.inner_text("#w") == "--" and tab.page.inner_text("#msg") == "No reading yet"
            assert tab.page.inner_text("#age") == "no reading yet" and tab.page.inner_text("#tk") == "--"
        finally:
            tab.close()


def _when_serving(url, proc, log, timeout=60):
    """`url` once its /api/now has watts (so the page's first /api/history has a minute to draw),
    else a failure with the process's log."""
    end = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, "it ended (%s):\n%s" % (proc.returncode, log.read_text())
        try:
            with urllib.request.urlopen(url + "/api/now", timeout=2) as r:
                if json.load(r)["power_w"] is not None:
                    return url
        except OSError:
            pass  # not serving yet
        assert time.monotonic() < end, "no reading served after %d s:\n%s" % (timeout, log.read_text())
        time.sleep(0.3)
