"""The PC reader's MQTT connection (paho-mqtt): availability, discovery and states for Home
Assistant, with the messages of lib/broute/hass.py (docs/mqtt.md sections 1 to 3).

Why a thread of our own around paho's `loop()` instead of `loop_start()`: paho's own reconnect
loop swallows why a connection failed, and a service's log must say it ("connection refused",
"bad user name or password"). The thread connects, runs paho's loop while connected, and waits
1 s doubling to 60 s between tries; the asyncio loop that talks to the meter never waits on it.
"""
import threading

import paho.mqtt.client as mqtt

from broute import hass

RETRY_MIN_S, RETRY_MAX_S = 1.0, 60.0
KEEPALIVE_S = 60


class Link:
    """One broker connection for one device. `start()` begins connecting in the background,
    `state(payload)` publishes a fresh reading (dropped while not connected: a state is never sent
    late), `close()` publishes offline and disconnects. No setting's secret is ever logged."""

    def __init__(self, st, log):
        self.st, self.log = st, log
        self.hw = None
        self.hass = hass.Hass(st["client_id"], base=st["topic"], prefix=st["prefix"], model="PC reader",
                              offset_min=st["offset"])
        self.lock = threading.Lock()  # discovery is built in paho's thread and on a new module version
        self.stop = threading.Event()
        self.connected = self.accepted = False
        self.trouble = None  # the last failure reported, so a broker that stays away is logged once
        self.thread = None
        c = self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=st["client_id"],
                                 protocol=mqtt.MQTTv311)
        if st["user"]:
            c.username_pw_set(st["user"], st["password"])
        c.will_set(self.hass.status_topic, hass.OFFLINE, qos=1, retain=True)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message

    def where(self):
        return "MQTT broker %s:%d" % (self.st["host"], self.st["port"])

    def start(self):
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="mqtt", daemon=True)
            self.thread.start()

    def _failed(self, kind, why):
        """Say why the broker is not reachable: a warning when the reason changes, debug after."""
        if kind != self.trouble:
            self.trouble = kind
            self.log.warning("%s: %s; the meter link goes on, retrying every %d s at most", self.where(), why,
                             RETRY_MAX_S)
        else:
            self.log.debug("%s: %s (still retrying)", self.where(), why)

    def _run(self):
        delay = RETRY_MIN_S
        self.c.connect_async(self.st["host"], self.st["port"], keepalive=KEEPALIVE_S)  # only stores them
        while not self.stop.is_set():
            try:
                self.c.reconnect()  # a TCP connect (5 s timeout) and CONNECT; CONNACK comes in loop()
            except OSError as e:  # refused, unreachable, unknown host
                self._failed("unreachable", "cannot connect (%s)" % (e.strerror or e))
            else:
                rc = mqtt.MQTT_ERR_SUCCESS
                while rc == mqtt.MQTT_ERR_SUCCESS and not self.stop.is_set():
                    rc = self.c.loop(timeout=0.5)
                if self.connected and not self.stop.is_set():  # no on_disconnect came
                    self.connected = False
                    self._failed("lost", "connection lost (%s)" % mqtt.error_string(rc))
                if self.accepted:  # it had been accepted: try again soon
                    self.accepted = False
                    delay = RETRY_MIN_S / 2
            if self.stop.wait(delay):
                break
            delay = min(delay * 2, RETRY_MAX_S)

    def _on_connect(self, c, userdata, flags, rc, props=None):
        if rc.is_failure:
            self._failed("refused", "refused the connection: %s (check the MQTT user and password)" % rc)
            return
        if self.trouble:
            self.log.warning("%s: connected again", self.where())
        else:
            self.log.info("%s: connected", self.where())
        self.trouble = None
        self.connected = self.accepted = True
        c.publish(self.hass.status_topic, hass.ONLINE, qos=1, retain=True)
        c.subscribe(self.hass.ha_status_topic, qos=1)
        self.discovery()

    def _on_disconnect(self, c, userdata, flags, rc, props=None):
        if self.connected and not self.stop.is_set():
            self._failed("lost", "connection lost (%s)" % rc)
        self.connected = False

    def _on_message(self, c, userdata, m):
        if m.topic == self.hass.ha_status_topic and m.payload == hass.ONLINE:
            self.log.info("Home Assistant is online: discovery published again")
            self.discovery()

    def discovery(self):
        """Every entity's retained discovery message (one reused buffer: built and sent one at a time)."""
        with self.lock:
            h = self.hass
            for i in range(h.count()):
                topic, payload = h.discovery(i)
                self.c.publish(topic, bytes(payload), qos=1, retain=True)

    def device(self, dialect, version):
        """The module's name and firmware version for the device block; True when it changed
        (the discovery messages then go out again)."""
        hw = "%s %s" % (dialect, version)
        if hw == self.hw:
            return False
        self.hw = hw
        st = self.st
        with self.lock:
            self.hass = hass.Hass(st["client_id"], base=st["topic"], prefix=st["prefix"], model="PC reader",
                                  hw=hw, offset_min=st["offset"])
        if self.connected:
            self.discovery()
        return True

    def state(self, payload):
        """Publish a fresh reading's state (not retained); nothing while the broker is away."""
        if self.connected:
            self.c.publish(self.hass.state_topic, payload, qos=0)
            return True
        return False

    def close(self, timeout=3.0):
        """Publish offline (retained) and disconnect cleanly, so the broker sends no last will."""
        if self.thread is None:
            return
        if self.connected:
            try:
                self.c.publish(self.hass.status_topic, hass.OFFLINE, qos=1, retain=True).wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                pass
            self.c.disconnect()
        self.stop.set()
        self.thread.join(timeout + 1)
        self.thread = None
