"""The firmware's start-up heap on a StickC, measured 32-bit (tools/bench/mem32.py) in the
firmware's own order, stays in budget."""
import shutil

import pytest

import mem32
import mpycompile

pytestmark = pytest.mark.skipif(shutil.which("node") is None,
                                reason="node not found: the 32-bit measurement runs MicroPython's "
                                       "WebAssembly port under Node.js 20")

BOARD = "board: StickC, ST77xx band and strip, AXP192"
NET = "App._net: Net, Publisher, Hass, web source, tasks"
BURST = "discovery burst, once connected: 10 messages"


@pytest.fixture(scope="module")
def res():
    return mem32.measure()


def _rows(r):
    return dict((row[0], row) for row in r["rows"])


def test_wasm_port_is_32_bit_with_every_step_measured(res):
    w, u = res["wasm"], res["unix"]
    assert w["maxsize"] == 2 ** 31 - 1
    assert [r[0] for r in w["rows"]] == [r[0] for r in u["rows"]]
    names = [r[0] for r in w["rows"]]
    assert names.index("asyncio") < names.index("app") < names.index("board")
    assert not w["late_imports"], "imported inside a step, so not measured alone"
    # The display's 16-row band (160 x 16, 4 bits a pixel) and its 2-row RGB565 strip are the
    # same size on both ports: there is no whole-screen frame buffer. The board's row frees the
    # start-up modules imported for it (their rows), so they count back in.
    rows = _rows(w)
    fb = rows[BOARD][1] + sum(rows[n][1] for n in names[:names.index(BOARD)]
                              if n in w["dropped"] and names.index(n) > names.index("board"))
    assert 160 * 16 // 2 + 160 * 2 * 2 <= fb < 160 * 16 // 2 + 160 * 2 * 2 + 2048


def test_modules_are_measured_where_the_firmware_imports_them():
    """The plan follows app.main(), App.run and startup.setup: config and its checks' modules at
    the config step, the board's at the board's, the network's in App._net, the driver's after
    App.run has started its tasks, the discovery texts in the burst."""
    sources = mpycompile.board_sources()
    plan = dict(mem32.plan(sources))
    steps = [s for s, _ in mem32.plan(sources)]
    assert steps.index("startup") < steps.index("board") < steps.index("tasks") < \
        steps.index("net") < steps.index("link") < steps.index("connected") < steps.index("burst")
    assert {"config", "startup", "broute.hass", "broute.tariffcfg"} <= set(plan["startup"])
    assert "board" in plan["board"] and "board" not in plan["app"]
    assert {"net", "mqtt"} <= set(plan["net"]) and "broute.skdriver" in plan["link"]
    assert plan["burst"] == ["broute.hassdisc"]
    bare = dict(mem32.plan(sources, off=mem32.NET_OFF))
    assert "net" not in bare and "burst" not in bare
    assert not [m for mods in bare.values() for m in mods if m in mem32.NET_OFF]


def test_a_step_peak_counts_its_garbage_on_top_of_what_is_held(res):
    """A row's peak is the heap collected before its step plus all the step's rows allocated:
    never below the heap live after the row."""
    w = res["wasm"]
    live = 0
    for name, grown, peak, _ in w["rows"]:
        live += grown
        assert peak >= live, name
    assert w["peak"] == max(r[2] for r in w["rows"])


def test_wifi_and_mqtt_are_measured_each_in_rows_of_their_own(res):
    """Issues 10 and 11: the start-up with WiFi, MQTT, HTTP and a tariff on, each module in its own
    row, and the objects, a discovery burst, an HTTP request and a state message as steps; these
    leave nothing, and the burst's transient is the texts' module, one buffer and a few views."""
    w = res["wasm"]
    rows = _rows(w)
    for name in ("net", "mqtt", "broute.hass", "broute.tariff"):
        assert rows[name][1] > 500, name
    assert rows[NET][1] + rows["netonce"][1] > 500  # netonce (set-up code) dropped in the step
    assert "netonce" in w["dropped"] and "broute.hassdisc" in w["dropped"]
    d = rows["broute.hassdisc"]
    assert rows[BURST][1] + d[1] - d[3] <= 64  # but the interned names, which the pool keeps
    names = [r[0] for r in w["rows"]]
    before = rows[names[names.index("broute.hassdisc") - 1]]
    held = sum(r[1] for r in w["rows"][:names.index("broute.hassdisc")])
    assert rows[BURST][2] - held < rows["broute.hassdisc"][1] + 4096, before
    assert rows["a reading: model, costs, state message"][1] <= 256
    # issue 11: the server holds its 512-byte buffer; the first request leaves only interned names
    # and what grew once to hold broute.web (143 B measured; a second request leaves 0 B)
    assert rows["web server: websrc.run to its first wait"][1] >= 512
    web = rows["broute.web"]
    assert rows["HTTP server, one /metrics request"][1] + web[1] - web[3] <= 256
    assert mem32.NET["mqtt"]["password"] not in mem32.table(res)


def test_32_bit_figures_are_below_the_64_bit_ones(res):
    assert res["wasm"]["total"] < res["unix"]["total"] * 0.85


def test_config_module_is_dropped_after_start_up(res):
    """config is dropped by read_config, and freed there or, while startup holds it, at the end
    of setup (less the interned names, which the qstr pool keeps)."""
    w = res["wasm"]
    assert "config" in w["dropped"] and "startup" in w["dropped"]
    rows = _rows(w)
    c = rows["config"]
    freed = rows["startup.read_config: config.json checked"][1] + \
        rows["end of setup: tariff; tariffcfg, startup dropped"][1]
    assert -freed >= c[1] - c[3]


def test_start_up_footprint_is_within_budget(res):
    """The stick (either HAT) within the budgets, with WiFi, MQTT, HTTP and a tariff and without."""
    for r in (res["bare"], res["bare_j11"], res["wasm"], res["j11"]):
        assert r["total"] <= mem32.BUDGET and r["peak"] <= mem32.PEAK_BUDGET, mem32.table(res)
    assert mem32.within(res)


def test_without_wifi_no_publishing_module_is_loaded(res):
    for r in (res["bare"], res["bare_j11"]):
        names = [row[0] for row in r["rows"]]
        assert "net" not in names and "mqtt" not in names and "broute.hass" not in names, names
        assert not [n for n in names if n.startswith("App._net") or n.startswith("MQTT")], names


def test_each_module_family_is_measured_with_its_own_driver_only(res):
    for sk, j in ((res["wasm"], res["j11"]), (res["bare"], res["bare_j11"])):
        names = [r[0] for r in sk["rows"]]
        assert "broute.skdriver" in names and not [n for n in names if n.startswith("broute.j11")]
        jn = [r[0] for r in j["rows"]]
        assert "broute.j11driver" in jn and "broute.skdriver" not in jn and not j["late_imports"]
