"""`tools/broute.py read` against the simulator's pseudo-terminal (pyserial, 50x time)."""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RBID = "00112233445566778899AABBCCDDEEFF"
PWD = "0123456789AB"


def _sim(path, *extra):
    p = subprocess.Popen([sys.executable, "tools/sim.py", "--pty", path, "--time-scale", "0.02"] + list(extra),
                         cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert "pty" in p.stdout.readline()
    return p


def _read(args, env):
    return subprocess.run([sys.executable, "tools/broute.py", "read"] + args, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_read_json_lines_from_the_pty():
    d = tempfile.mkdtemp()
    pty = os.path.join(d, "dongle")
    sim = _sim(pty)
    try:
        env = dict(os.environ, BROUTE_ID=RBID, BROUTE_PASSWORD=PWD)
        r = _read(["--port", pty, "--count", "3", "--json", "--verbose", "--time-scale", "0.02"], env)
    finally:
        sim.kill()
        sim.wait()
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(rows) == 3
    for row in rows:
        assert {"time", "power_w", "current_r_a", "current_t_a"} <= set(row)
        assert isinstance(row["power_w"], int) and isinstance(row["current_r_a"], float)
    assert rows[0]["energy_kwh"] is not None  # the first poll carries E0
    assert PWD not in r.stderr and RBID not in r.stderr and "connected" in r.stderr


def test_read_human_with_config_file():
    d = tempfile.mkdtemp()
    pty = os.path.join(d, "dongle")
    cfg = os.path.join(d, "cfg.json")
    with open(cfg, "w") as f:
        json.dump({"broute_id": RBID, "broute_password": PWD}, f)
    sim = _sim(pty, "--scenario", "solar")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BROUTE_")}
        r = _read(["--port", pty, "--count", "1", "--config", cfg, "--time-scale", "0.02"], env)
    finally:
        sim.kill()
        sim.wait()
    assert r.returncode == 0, r.stderr
    assert " W  R " in r.stdout and "kWh" in r.stdout


def test_missing_credentials_is_a_clear_error():
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROUTE_")}
    r = _read(["--port", "/nonexistent"], env)
    assert r.returncode != 0 and "BROUTE_ID" in r.stderr
