#!/usr/bin/env python3
"""docs/screens/web.png: the web page as a phone shows it, served by the emulated stick.

The real firmware runs under the MicroPython unix port against the simulator (tools/run_host.py
--http, with the example tariff), sped up until the page's last hour is full of minutes; then
Debian's headless chromium (tools/emulation/chromium.py) loads the page from it at a phone's size
and takes the screenshot.

  .venv/bin/python tools/emulation/render_web.py [--out docs/screens/web.png] [--minutes 60]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import chromium

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    """A loopback port nobody listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def wait_minutes(url, minutes, proc, timeout):
    """Until the stick's last hour holds `minutes` minutes of readings (and it has a reading)."""
    end = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise SystemExit("render_web: the emulated stick ended (%s)" % proc.returncode)
        try:
            have = sum(v is not None for v in _get(url + "/api/history")["minutes"])
            if have >= minutes and _get(url + "/api/now")["power_w"] is not None:
                return
        except OSError:
            pass  # not serving yet
        if time.monotonic() > end:
            raise SystemExit("render_web: the stick's history has not filled in %d s" % timeout)
        time.sleep(1)


def shoot(url, out):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = chromium.launch(pw)
        try:
            page = b.new_page(viewport={"width": chromium.PHONE["width"], "height": 400}, device_scale_factor=2)
            page.goto(url + "/")
            page.wait_for_function("document.querySelectorAll('#hour rect').length > 30 && "
                                   "/W$/.test(document.getElementById('w').innerText)", timeout=20000)
            page.screenshot(path=out, full_page=True)
        finally:
            b.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "screens", "web.png"))
    ap.add_argument("--minutes", type=int, default=60, help="minutes of readings in the last hour's graph")
    ap.add_argument("--time-scale", type=float, default=0.02, help="real seconds per simulated second")
    args = ap.parse_args()
    why = chromium.missing()
    if why:
        raise SystemExit("render_web: " + why)
    port = free_port()
    run_s = args.minutes * 60 * args.time_scale + 60
    with tempfile.TemporaryDirectory() as run_dir:
        p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tools", "run_host.py"), "--http", str(port),
                              "--tariff", "--time-scale", str(args.time_scale), "--seconds", str(int(run_s)),
                              "--run-dir", run_dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = "http://127.0.0.1:%d" % port
            wait_minutes(url, args.minutes - 1, p, run_s)
            shoot(url, args.out)
        finally:
            p.kill()
            p.wait()
    print("render_web: wrote %s" % args.out)


if __name__ == "__main__":
    main()
