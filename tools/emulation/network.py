"""The stand-in for MicroPython's `network` module on the host (firmware/net.py imports it).

The emulated stick's WLAN is the PC's own network: it reports itself joined at once, with the
loopback address, so the firmware's sockets (MQTT, DNS, NTP) are the unix port's real ones.
`UP` set to False makes it an access point out of reach (status 201, no AP found); `JOINS`
counts connect() calls. No password is kept.
"""
STA_IF = 0
STAT_GOT_IP = 1010
UP = True
JOINS = [0]


class WLAN:
    PM_NONE = 0

    def __init__(self, interface=STA_IF):
        self._active = False

    def active(self, on=None):
        if on is not None:
            self._active = on
        return self._active

    def config(self, **kw):
        pass

    def connect(self, ssid, password=""):
        JOINS[0] += 1

    def isconnected(self):
        return self._active and UP

    def status(self):
        return STAT_GOT_IP if self.isconnected() else 201

    def ifconfig(self):
        return ("127.0.0.1", "255.0.0.0", "127.0.0.1", "127.0.0.1")
