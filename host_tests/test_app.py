"""The real firmware app on the emulated board against the simulator, one run per scenario,
with each module family: the BP35A1 HAT with a SKSTACK module, and the HAT-C1 with a J11 one
(`--dialect j11`; the firmware finds out which by itself).

Runs go in parallel (each has its own simulator port and board folder); each test then
checks what the screen is showing (the view model the screens draw from, and the PNG).
"""
import json
import os
from concurrent.futures import ThreadPoolExecutor

import png
import pytest

from broute import bstate
import run_host

# name: (extra run_host flags, real seconds)
_RUNS = {
    "normal": (["--time-scale", "0.05"], 10),
    "solar": (["--scenario", "solar", "--time-scale", "0.05"], 10),
    "over-limit": (["--scenario", "over-limit", "--time-scale", "0.05", "--board", "plus"], 10),
    "buttons": (["--time-scale", "0.05", "--buttons", "3000:A:short,4000:B:short"], 8),
    "no-config": (["--no-config"], 4),
    "bad-config": (["--config", "BAD"], 4),
    "portrait": (["--config", "PORTRAIT"], 4),
    "huge-config": (["--config", "HUGE"], 4),
    "wrong-password": (["--wrong-password", "--time-scale", "0.02"], 14),
    "no-meter": (["--scenario", "no-meter", "--time-scale", "0.02"], 14),
    "module-silent": (["--fault", "mute:100000@0", "--time-scale", "0.05"], 12),
}


# the runs that involve the module, made with the J11 simulator too (the others end at the config)
_MODULE_RUNS = ("normal", "solar", "over-limit", "wrong-password", "no-meter", "module-silent")


@pytest.fixture(scope="module", params=["bp35a1", "j11"])
def runs(request, tmp_path_factory):
    dialect = request.param
    names = list(_RUNS) if dialect == "bp35a1" else list(_MODULE_RUNS)
    base = tmp_path_factory.mktemp("app-" + dialect)
    bad = base / "bad.json"
    bad.write_text(json.dumps({"broute_id": run_host.SIM_ID, "broute_password": run_host.SIM_PASSWORD,
                               "contract_amperes": "thirty"}))
    files = {"BAD": bad, "PORTRAIT": base / "portrait.json", "HUGE": base / "huge.json"}
    files["PORTRAIT"].write_text(json.dumps({"broute_id": run_host.SIM_ID,
                                             "broute_password": run_host.SIM_PASSWORD,
                                             "rotation": 0}))
    files["HUGE"].write_text(json.dumps({"_comment": "x" * 32768, "broute_id": run_host.SIM_ID,
                                         "broute_password": run_host.SIM_PASSWORD}))

    def one(name):
        flags, seconds = _RUNS[name]
        flags = [str(files[f]) if f in files else f for f in flags]
        d = base / name
        args = run_host.parser().parse_args(flags + ["--dialect", dialect,
            "--seconds", str(seconds), "--run-dir", str(d / "board"), "--frames", str(d / "frames"),
            "--stats", str(d / "stats.json"), "--max-frames", "5"])
        code, out, sim = run_host.run(args, capture=True)
        stats = json.loads((d / "stats.json").read_text()) if (d / "stats.json").exists() else None
        return {"code": code, "out": out, "sim": sim, "stats": stats, "frames": d / "frames"}

    with ThreadPoolExecutor(len(names)) as pool:
        results = dict(zip(names, pool.map(one, names)))
    results["dialect"] = dialect
    return results


def _run(runs, name):
    """The run `name` with this dialect; the runs that end at the config are made once."""
    if name not in runs:
        pytest.skip("%s ends before the module is asked: one run is enough" % name)
    return runs[name]


def _ok(r):
    assert r["code"] == 0, r["out"][-3000:]
    assert r["stats"] is not None, r["out"][-3000:]
    s = r["stats"]
    assert not s["events"].get("app crashed") and not s["events"].get("session crashed"), s
    assert s["ui_errors"] == 0, r["out"][-3000:]
    assert s["wdt_feeds"] > 0 and s["wdt_max_gap_ms"] < 10000, s
    for secret in (run_host.SIM_ID, run_host.SIM_PASSWORD):
        assert secret not in r["out"]
    return s


def test_normal_day_shows_live_watts(runs):
    r = runs["normal"]
    s = _ok(r)
    assert s["status"] == bstate.CONNECTED and s["error_title"] is None
    # the module the firmware found, on the HAT the emulated stick carries, G26 never fought over
    if runs["dialect"] == "j11":
        assert (s["module"], s["hat"]) == ("j11", "c1"), r["out"][-3000:]
    else:
        assert s["module"] in ("single", "dual") and s["hat"] == "auto"
    assert s["hat_contention"] is False
    assert "Wi-SUN module: %s on G%d" % (("j11", 36) if runs["dialect"] == "j11" else ("skstack", 26)) in r["out"]
    assert s["readings"] >= 5 and s["power_w"] > 0 and s["page"] == 0
    assert s["max_gap_s"] <= 12  # one reading per 10 s poll (simulated time)
    # the simulated meter starts at 12345.6 kWh, at 11:55: both totals reach the model
    assert s["energy_kwh10"] is not None and s["energy_kwh10"] >= 123456
    assert s["today_kwh10"] is not None and 0 < s["today_kwh10"] < s["energy_kwh10"]
    w, h, rows, _ = png.Reader(filename=str(r["frames"] / "latest.png")).read()
    assert (w, h) == (160, 80)
    colours = set()
    for row in rows:
        colours.update(zip(row[0::3], row[1::3], row[2::3]))
    assert len(colours) > 3  # text on a background, not a blank panel
    assert len([n for n in os.listdir(r["frames"]) if n.startswith("frame-0")]) == 5


def test_solar_export_is_negative(runs):
    s = _ok(runs["solar"])
    assert s["status"] == bstate.CONNECTED and s["power_w"] < 0


def test_over_the_contract_limit_raises_the_alarm(runs):
    s = _ok(runs["over-limit"])
    assert s["status"] == bstate.CONNECTED
    # the load swings around the limit: the alarm (LED on) went on at least once, and the
    # LED's last state is the last alert's
    assert s["alarms_on"] >= 1 and s["led"] is (s["alerts"] % 2 == 1)


def test_buttons_change_page_and_flip(runs):
    s = _ok(_run(runs, "buttons"))
    assert s["page"] == 1  # A: next page
    # B: the config's rotation 1 turned half way round, which the frames are pushed with
    # (test_ui_controller checks the panel's MADCTL and the frame sent after it)
    assert s["rotation"] == 3


def test_no_config_file_screen(runs):
    s = _ok(_run(runs, "no-config"))
    assert s["error_title"] == "No config file"
    assert "config.example.json" in s["error_advice"]
    assert "make deploy PORT=" in s["error_advice"] and "CONFIG=my-config.json" in s["error_advice"]
    assert s["state"] is None  # no session without a config


def test_malformed_config_names_the_key(runs):
    s = _ok(_run(runs, "bad-config"))
    assert s["error_title"] == "Fix config.json"
    assert s["error_advice"].startswith("contract_amperes: must be a whole number")


def test_portrait_rotation_is_an_error_screen_not_a_reset_loop(runs):
    """It used to crash five times, then machine.reset() (exit 4 here), on a black screen."""
    s = _ok(_run(runs, "portrait"))
    assert s["error_title"] == "Fix config.json"
    assert s["error_advice"].startswith("rotation: must be 1 or 3") and "portrait" in s["error_advice"]


def test_huge_config_is_an_error_screen_not_a_memory_error(runs):
    s = _ok(_run(runs, "huge-config"))
    assert s["error_title"] == "Fix config.json" and "larger than 8192 bytes" in s["error_advice"]


def test_wrong_password_screen(runs):
    s = _ok(runs["wrong-password"])
    assert s["error_title"] == "Wrong B-route login"
    assert "broute_password" in s["error_advice"]
    assert s["readings"] == 0


def test_no_meter_found_screen(runs):
    s = _ok(runs["no-meter"])
    assert s["error_title"] == "No meter found"


def test_module_not_answering_screen(runs):
    r = runs["module-silent"]
    s = _ok(r)
    assert s["error_title"] == "Wi-SUN HAT silent"
    assert "BP35A1" in s["error_advice"] and "HAT-C1" in s["error_advice"]  # both HATs named
    assert "Wi-SUN module: no answer on G26" in r["out"] and "Wi-SUN module: no answer on G36" in r["out"]
    assert s["hat_contention"] is False and s["hat"] == "auto"  # G26 never driven without an answer
