"""WiFi, in the one asyncio loop (issue 10: WiFi never blocks the display or the meter link).
Loaded only when config.json has "wifi". What runs once per start, join, connection, clock
setting or failure (the radio's set-up, a join attempt, the publisher's set-up, MQTT's connect,
NTP, DNS) is netonce.py's, loaded by once() for the call.
"""
import asyncio
import sys
from time import ticks_ms, ticks_diff, ticks_add
from micropython import const

_NTP_EVERY_S = const(21600)              # six hours: how long NTP is preferred (docs/mqtt.md 4)


class NetError(Exception):
    """What the network did wrong, in the words the info screen shows: a name that did not
    resolve, a UDP question with no answer, a broker that refused us, broke MQTT or went silent."""


def once(name, *args):
    """netonce's `name` called with args (a coroutine for the async ones); the module is
    forgotten at once (a coroutine keeps what it needs until it ends)."""
    import netonce
    try:
        return getattr(netonce, name)(*args)
    finally:
        sys.modules.pop("netonce", None)


def setup(app, cfg):
    """app.net, and app.pub when config.json has mqtt (netonce.setup)."""
    once("setup", app, cfg)


class Net:
    """The WiFi task. model.wifi (False: configured, not joined), model.ip and model.wifi_why
    are the screens'; mqtt.Publisher waits on model.wifi. `dns` is the network's DNS server."""

    def __init__(self, app, wifi, ntp=True, offset_min=540):
        self.app = app
        self.wifi = wifi    # {"ssid", "password"}: the password never leaves this object
        self.ntp = ntp
        self.offset = offset_min * 60
        self.dns = None

    async def run(self):
        """Join (netonce.join, while not joined), show the address, set the clock by NTP every
        six hours; look again every 2 s."""
        a = self.app
        m = a.model
        wlan = once("wlan")
        fails = 0
        due = ticks_ms()  # the next NTP question
        while True:
            if not wlan.isconnected():
                if not await once("join", self, wlan, fails):
                    fails += 1
                    continue
            fails = 0
            if not m.wifi:
                ip = wlan.ifconfig()
                self.dns = ip[3]
                self._show(True, ip[0])
                a.log("wifi: joined, %s" % ip[0])
            if self.ntp and ticks_diff(ticks_ms(), due) >= 0:
                try:
                    await once("sync", self)
                    due = ticks_add(ticks_ms(), _NTP_EVERY_S * 1000)
                except (OSError, NetError) as e:
                    a.log("ntp: %s" % e)
                    due = ticks_add(ticks_ms(), 300000)  # again in 5 min
            await asyncio.sleep_ms(2000)

    def set_utc(self, t):
        """NTP's answer (UTC seconds since 2000-01-01): the RTC and the shown clock."""
        a = self.app
        f = getattr(a.platform, "set_utc", None)
        if f:
            f(t)
        else:  # the ESP32's RTC (its epoch is 2000), as ntptime.settime sets it
            import machine
            from time import gmtime
            tm = gmtime(t)
            machine.RTC().datetime((tm[0], tm[1], tm[2], tm[6] + 1, tm[3], tm[4], tm[5], 0))
        a.model.set_clock(t + self.offset, a.clock.ticks_ms(), True)

    def _show(self, up, ip):
        m = self.app.model
        if m.wifi != up or m.ip != ip:
            m.wifi = up
            m.ip = ip
            m.changed()
