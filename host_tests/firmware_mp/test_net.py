"""firmware/net.py and netonce.py on the unix port with real UDP sockets: NTP and DNS answered by local
servers (the loop keeps turning while it waits), no answer ends in a timeout, and WiFi lost
and regained (tools/emulation/network.py) shows on the model."""
import asyncio
import socket
import struct
from time import ticks_ms, ticks_diff
import fakes  # noqa: F401
import fake_machine as fm
import sys

sys.modules["machine"] = fm
import network  # noqa: E402  tools/emulation/network.py
import net  # noqa: E402
import model  # noqa: E402
from broute.compat import Clock  # noqa: E402

UTC = 849497640  # 2026-12-02 03:34:00 UTC in seconds since 2000


class App:
    def __init__(self):
        self.model = model.Model()
        self.clock = Clock()
        self.logs = []
        self.platform = self
        self.utc = None

    def log(self, line):
        self.logs.append(line)

    def set_utc(self, t):
        self.utc = t


def _server(answer):
    """A UDP server on a free loopback port answering each datagram with answer(query)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    port = _PORT[0]
    while True:  # the unix port's sockets have no getsockname(): the first free port from here
        port += 1
        try:
            s.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
            break
        except OSError:
            pass
    _PORT[0] = port
    s.setblocking(False)

    async def serve():
        while True:
            try:
                q, addr = s.recvfrom(512)
            except OSError:
                await asyncio.sleep_ms(5)
                continue
            a = answer(q)
            if a:
                s.sendto(a, addr)
    return s, port, serve


_PORT = [47300]


def _ntp(q):
    a = bytearray(48)
    a[0] = 0x24  # version 4, server
    struct.pack_into("!I", a, 40, UTC + 2208988800 - 946684800)
    return a if q[0] == 0x1B else None


def _dns(q):
    i = 12
    while q[i]:
        i += q[i] + 1
    a = bytearray(q[:i + 5])
    a[2], a[3], a[7] = 0x81, 0x80, 1  # a response, no error, one answer
    a += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x01\x02\x03"
    return a


def _run(coro_fn):
    async def go():
        beats = [0]
        gaps = [0]

        async def beat():  # the loop must keep turning while net waits for answers
            t = ticks_ms()
            while True:
                await asyncio.sleep_ms(5)
                now = ticks_ms()
                gaps[0] = max(gaps[0], ticks_diff(now, t))
                t = now
                beats[0] += 1
        b = asyncio.create_task(beat())
        try:
            return await coro_fn(), beats[0], gaps[0]
        finally:
            b.cancel()
    return asyncio.run(go())


def test_ntp_sets_the_clock_and_dns_answers_without_blocking():
    a = App()
    n = net.Net(a, {"ssid": "x"}, True, 540)
    ntp, ntp_port, ntp_serve = _server(_ntp)
    dns, dns_port, dns_serve = _server(_dns)
    n.dns = "127.0.0.1"

    async def both():
        t1 = asyncio.create_task(ntp_serve())
        t2 = asyncio.create_task(dns_serve())
        await asyncio.sleep_ms(30)  # the servers are slower than the loop: net waits
        await net.once("sync", n, "127.0.0.1", ntp_port)
        addr = await net.once("resolve", n, "broker.lan", dns_port)
        t1.cancel()
        t2.cancel()
        return addr
    addr, beats, gap = _run(both)
    ntp.close()
    dns.close()
    assert a.utc == UTC
    assert a.model.clock(a.clock.ticks_ms()) in (UTC + 32400, UTC + 32400 + 1)  # 12:34 in Japan
    assert addr == "10.1.2.3"
    assert beats > 3 and gap < 100, (beats, gap)


def test_no_answer_is_a_timeout_not_a_hang():
    a = App()
    n = net.Net(a, {"ssid": "x"}, True, 540)
    quiet, port, _ = _server(lambda q: None)

    async def ask():
        try:
            await net.once("sync", n, "127.0.0.1", port)
        except net.NetError as e:
            return str(e)
    why, beats, gap = _run(ask)
    quiet.close()
    assert why.startswith("no answer") and a.utc is None
    assert beats > 100 and gap < 100  # 3 s of waiting, the loop turning all along


def test_dotted_addresses_need_no_lookup_and_names_need_a_server():
    n = net.Net(App(), {"ssid": "x"})
    assert _run(lambda: net.once("resolve", n, "192.168.1.10"))[0] == "192.168.1.10"
    try:
        _run(lambda: net.once("resolve", n, "broker.lan"))
        assert False, "resolved without a DNS server"
    except net.NetError as e:
        assert "DNS" in str(e)


def test_wifi_lost_and_regained_shows_on_the_model():
    a = App()
    n = net.Net(a, {"ssid": "home", "password": "wifipassword"}, False)
    seen = []

    async def go():
        network.UP = True
        t = asyncio.create_task(n.run())
        await asyncio.sleep_ms(100)
        seen.append((a.model.wifi, a.model.ip))
        network.UP = False  # the access point goes away
        await asyncio.sleep_ms(2600)
        seen.append((a.model.wifi, a.model.ip))
        joins = network.JOINS[0]
        network.UP = True  # and comes back
        await asyncio.sleep_ms(600)
        seen.append((a.model.wifi, a.model.ip, network.JOINS[0] > joins - 1))
        t.cancel()
    try:
        asyncio.run(go())
    finally:
        network.UP = True
    assert seen == [(True, "127.0.0.1"), (False, None), (True, "127.0.0.1", True)], seen
    assert not [line for line in a.logs if "wifipassword" in line]


def test_failures_are_told_in_words():
    """What the info screen shows for a broker that cannot be reached: a name that does not
    resolve says so (not the exception's class), a refused connection or a silence in words."""
    import mqtt  # noqa: F401  (netonce.why is the publisher's)
    assert net.once("why", net.NetError("broker.lan not found")) == "broker.lan not found"
    assert net.once("why", OSError(111)) == "refused"
    assert net.once("why", asyncio.TimeoutError()) == "no answer"
    assert "netonce" not in sys.modules
