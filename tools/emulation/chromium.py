"""Debian's headless chromium, driven by playwright: how the web page's tests and render_web.py open it.

playwright (requirements.txt) brings the DevTools client only; the browser is the system's
/usr/bin/chromium (`make chromium`), so nothing is downloaded at test time. The flags keep it from
calling home (updates, sync, field trials), which would also break the tests' rule that every
request the page makes goes to the device that served it.
"""
import os

PATH = "/usr/bin/chromium"
ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run")
# a phone's viewport (CSS pixels) for the screenshot and the tests
PHONE = {"width": 390, "height": 844}


def missing():
    """Why the browser cannot run here (None: it can)."""
    if not os.access(PATH, os.X_OK):
        return "%s is missing (make chromium; on Debian: sudo apt install chromium)" % PATH
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is missing (make setup installs requirements.txt)"
    return None


def launch(pw):
    """A headless chromium from a started `sync_playwright()`."""
    return pw.chromium.launch(executable_path=PATH, args=list(ARGS))
