"""A real MQTT broker for the tests: Debian's mosquitto on a free loopback port, and a paho-mqtt
subscriber that collects what arrives, by topic.

    with Broker() as b:                       # or Broker(users={"u": "pw"}): anonymous refused
        sub = Subscriber(b.port)              # subscribes to "#" before returning
        ...                                   # run the code under test against 127.0.0.1:b.port
        sub.wait("broute/x/state", lambda p: json.loads(p)["power_w"] == 500, timeout=20)
        b.restart()                           # same port; retained messages are gone (no persistence)

`make setup` (so `.ci/run`) installs mosquitto when missing (apt-get, as root); without it the tests that
use Broker skip with a message saying how to install it, except under .ci/run (BROUTE_REQUIRE_MOSQUITTO=1),
where they fail.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
HOST = "127.0.0.1"
MISSING = "mosquitto is not installed: `sudo apt-get install -y mosquitto` (make setup does it as root)"


def _skip(msg):
    if os.environ.get("BROUTE_REQUIRE_MOSQUITTO"):  # .ci/run: CI installs it, so missing is a failure
        raise RuntimeError(msg)
    try:
        import pytest
    except ImportError:
        raise RuntimeError(msg)
    pytest.skip(msg)


def free_port():
    """A loopback port nobody listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _listening(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


class Broker:
    """mosquitto on 127.0.0.1:<port> with a config of its own in a temp folder; users (name -> password)
    turns anonymous access off and writes a password file. The log is kept in .log_path."""

    def __init__(self, users=None, port=None):
        if not os.path.exists(MOSQUITTO):
            _skip(MISSING)
        self.port = port or free_port()
        self.users = users
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="broker-")
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        lines = ["listener %d %s" % (self.port, HOST), "persistence false",
                 "log_dest file %s" % self.log_path, "log_type all", "connection_messages true"]
        if os.geteuid() == 0:
            # as root mosquitto drops to the "mosquitto" user, who could not read this temp folder
            lines.append("user %s" % pwd.getpwuid(os.geteuid()).pw_name)
        if users:
            pwfile = os.path.join(self.dir, "passwd")
            open(pwfile, "w").close()
            for name, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", pwfile, name, password], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            lines += ["allow_anonymous false", "password_file %s" % pwfile]
        else:
            lines.append("allow_anonymous true")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, timeout=10.0):
        if self.proc is not None:
            return self
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        end = time.monotonic() + timeout
        while not _listening(self.port):
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                self.proc = None
                raise RuntimeError("mosquitto exited at start: %s\n%s" % (err, self.log()))
            if time.monotonic() > end:
                self.stop()
                raise RuntimeError("mosquitto did not listen on port %d in %.0f s" % (self.port, timeout))
            time.sleep(0.05)
        return self

    def stop(self):
        """Stop the broker (SIGTERM, then SIGKILL); clients see the connection drop."""
        p, self.proc = self.proc, None
        if p is None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
        p.stderr.close()
        end = time.monotonic() + 5
        while _listening(self.port) and time.monotonic() < end:
            time.sleep(0.05)

    def restart(self, down=0.5):
        """Stop, stay down `down` seconds, start again on the same port (retained messages are lost)."""
        self.stop()
        time.sleep(down)
        return self.start()

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Subscriber:
    """A paho-mqtt client on the broker collecting every message by topic (payloads as str, in arrival
    order, with the retain flag in .retained). It resubscribes after a broker restart."""

    def __init__(self, port, topics=("#",), user=None, password=None, client_id=None, timeout=10.0):
        try:
            import paho.mqtt.client as mqtt
        except ImportError:
            _skip("paho-mqtt is not installed: make setup (requirements.txt pins it)")
        self.topics = list(topics)
        self.cond = threading.Condition()
        self.msgs = {}
        self.retained = {}
        self.subscribed = False
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or "test-sub-%d" % os.getpid())
        if user is not None:
            self.c.username_pw_set(user, password)
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = self._on_subscribe
        self.c.on_message = self._on_message
        self.c.reconnect_delay_set(0.2, 1)
        self.c.connect(HOST, port, keepalive=30)
        self.c.loop_start()
        with self.cond:
            if not self.cond.wait_for(lambda: self.subscribed, timeout):
                self.close()
                raise RuntimeError("the subscriber did not get its subscription acknowledged")

    def _on_connect(self, c, userdata, flags, rc, props=None):
        if not rc.is_failure:
            c.subscribe([(t, 1) for t in self.topics])

    def _on_subscribe(self, c, userdata, mid, rcs, props=None):
        with self.cond:
            self.subscribed = True
            self.cond.notify_all()

    def _on_message(self, c, userdata, m):
        payload = m.payload.decode("utf-8", "replace")
        with self.cond:
            self.msgs.setdefault(m.topic, []).append(payload)
            self.retained.setdefault(m.topic, []).append(bool(m.retain))
            self.cond.notify_all()

    def messages(self, topic):
        with self.cond:
            return list(self.msgs.get(topic, ()))

    def topics_seen(self, prefix=""):
        with self.cond:
            return sorted(t for t in self.msgs if t.startswith(prefix))

    def clear(self, topic=None):
        """Forget what arrived (one topic, or all), so a later wait sees only new messages."""
        with self.cond:
            if topic is None:
                self.msgs.clear()
                self.retained.clear()
            else:
                self.msgs.pop(topic, None)
                self.retained.pop(topic, None)

    def wait(self, topic, pred=None, timeout=10.0):
        """The first message on `topic` (already arrived or arriving within `timeout` s) for which
        pred(payload) is true (any message without pred); AssertionError naming what came otherwise."""
        def find():
            for p in self.msgs.get(topic, ()):
                try:
                    if pred is None or pred(p):
                        return [p]
                except (ValueError, KeyError, TypeError):
                    pass
            return None
        with self.cond:
            hit = self.cond.wait_for(find, timeout)
            if hit is None:
                got = self.msgs.get(topic, [])
                raise AssertionError("no matching message on %s in %.0f s; %d arrived, last %r; topics: %s"
                                     % (topic, timeout, len(got), got[-1] if got else None, sorted(self.msgs)))
            return hit[0]

    def publish(self, topic, payload, retain=False, qos=1):
        self.c.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(5)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
