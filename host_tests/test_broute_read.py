"""`tools/broute.py read` against the simulator's pseudo-terminal (pyserial, 50x time)."""
import asyncio
import errno
import glob
import json
import os
import subprocess
import sys
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import broute_read  # noqa: E402
import simpty  # noqa: E402
from broute.version import VERSION  # noqa: E402

RBID = "00112233445566778899AABBCCDDEEFF"
PWD = "0123456789AB"
FAST = ["--time-scale", "0.02"]


def sim(tmp_path, *extra):
    """The simulator on a pty at tmp_path/dongle, at the readers' 50x speed."""
    return simpty.sim(tmp_path / "dongle", FAST + list(extra))


def env_for(tmp_path, rbid=RBID, pwd=PWD, **more):
    """The environment of a user with these credentials and a cache folder of their own under tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROUTE_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    if rbid is not None:
        env["BROUTE_ID"] = rbid
    if pwd is not None:
        env["BROUTE_PASSWORD"] = pwd
    env.update(more)
    return env


def _read(args, env):
    return subprocess.run([sys.executable, "tools/broute.py", "read"] + args, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def _clean(r):
    assert "Traceback" not in r.stderr and "unhandled" not in r.stderr, r.stderr


def test_read_json_lines_from_the_pty(tmp_path):
    with sim(tmp_path) as pty:
        r = _read(["--port", pty, "--count", "3", "--json", "--verbose"] + FAST, env_for(tmp_path))
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(rows) == 3
    for row in rows:
        assert {"time", "power_w", "current_r_a", "current_t_a"} <= set(row)
        assert isinstance(row["power_w"], int) and isinstance(row["current_r_a"], float)
    assert rows[0]["energy_kwh"] is not None  # the first poll carries E0
    assert PWD not in r.stderr and RBID not in r.stderr and "connected" in r.stderr


def test_read_human_with_config_file(tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"broute_id": RBID, "broute_password": PWD}))
    with sim(tmp_path, "--scenario", "solar") as pty:
        r = _read(["--port", pty, "--count", "1", "--config", str(cfg)] + FAST, env_for(tmp_path, None, None))
    assert r.returncode == 0, r.stderr
    assert " W  R " in r.stdout and "kWh" in r.stdout


def test_missing_credentials_is_a_clear_error(tmp_path):
    r = _read(["--port", "/nonexistent"], env_for(tmp_path, None, None))
    assert r.returncode == 2 and "BROUTE_ID" in r.stderr


# 1. --count N ends the run at the Nth reading: the session is cancelled before the port closes
def test_count_ends_the_run_at_its_reading_without_a_traceback(tmp_path):
    with sim(tmp_path) as pty:
        r = _read(["--port", pty, "--count", "1", "--json", "--verbose"] + FAST, env_for(tmp_path))
    assert r.returncode == 0, r.stderr
    _clean(r)
    assert len(r.stdout.splitlines()) == 1
    # the session was stopped where it was: no timeout, module reset or write after the reading
    after = r.stderr.split("connected")[-1]
    assert "trouble" not in after and "resetting" not in after and "PortNotOpen" not in r.stderr, r.stderr


class FakePort:
    """A pyserial stand-in that records what is written after it was closed."""

    in_waiting = 0

    def __init__(self, *a, **k):
        self.is_open, self.late = True, []

    def read(self, n):
        threading.Event().wait(0.01)
        return b""

    def write(self, data):
        if not self.is_open:
            self.late.append(bytes(data))
            raise OSError("Attempting to use a port that is not open")

    def close(self):
        self.is_open = False


class StubbornSession:
    """Gives one reading, then swallows one cancellation (as asyncio.wait_for does when its read
    completed in the same step) and writes, as the session does when it next times out."""

    def __init__(self, reader, writer, *a, **k):
        from broute.reading import Reading
        self._w, self.reading, self.listener = writer, Reading(), None
        self.state, self.reason, self.eof, self.ended = 0, "", 0, False

    async def run(self):
        self.listener("reading")
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass
        self._w.write(b"SKRESET\r\n")
        try:
            await asyncio.sleep(3600)
        finally:
            self.ended = True


def test_the_port_is_closed_only_after_the_session_has_ended(monkeypatch, capsys, tmp_path):
    import serial
    ports, sessions = [], []
    monkeypatch.setattr(serial, "Serial", lambda *a, **k: ports.append(FakePort()) or ports[-1])
    monkeypatch.setattr(broute_read, "Session", lambda *a, **k: sessions.append(StubbornSession(*a, **k))
                        or sessions[-1])
    monkeypatch.setenv("BROUTE_ID", RBID)
    monkeypatch.setenv("BROUTE_PASSWORD", PWD)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rc = broute_read.main(["--port", "/dev/ttyUSB0", "--count", "1", "--module", "skstack"])
    err = capsys.readouterr().err
    assert rc == 0 and sessions[0].ended and not ports[0].is_open
    assert ports[0].late == [], err
    assert "Traceback" not in err and "unhandled" not in err


class AlarmSession(StubbornSession):
    """Raises the session's alarm (state ERROR) with the reason given, and waits."""

    reason_given = ""

    async def run(self):
        from broute import bstate
        self.state, self.reason = bstate.ERROR, self.reason_given
        self.listener("state")
        await asyncio.sleep(3600)


@pytest.mark.parametrize("name,code", [("AUTH_FAILED", 3), ("NOT_FOUND", 4), ("JOIN_NO_ANSWER", 4),
                                       ("NO_MODULE", 5)])
def test_each_alarm_reason_ends_a_count_run_with_its_status(monkeypatch, capsys, tmp_path, name, code):
    import serial
    from broute import session
    monkeypatch.setattr(serial, "Serial", FakePort)
    monkeypatch.setattr(AlarmSession, "reason_given", getattr(session, name))
    monkeypatch.setattr(broute_read, "Session", AlarmSession)
    monkeypatch.setenv("BROUTE_ID", RBID)
    monkeypatch.setenv("BROUTE_PASSWORD", PWD)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert broute_read.main(["--port", "/dev/ttyUSB0", "--count", "1", "--module", "skstack"]) == code
    assert getattr(session, name) in capsys.readouterr().err


# 2. a scan cache per serial port in the user's cache folder, unless --no-cache
def test_the_second_run_joins_from_the_default_cache(tmp_path):
    env = env_for(tmp_path)
    with sim(tmp_path) as pty:
        first = _read(["--port", pty, "--count", "1", "--verbose"] + FAST, env)
        second = _read(["--port", pty, "--count", "1", "--verbose"] + FAST, env)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "scanning" in first.stderr
    files = glob.glob(str(tmp_path / "cache" / "broute" / "scan-*dongle.json"))
    assert len(files) == 1 and json.load(open(files[0]))["channel"] >= 0
    assert "joining from the cached scan" in second.stderr and "scanning" not in second.stderr, second.stderr


def test_no_cache_scans_every_time_and_writes_nothing(tmp_path):
    env = env_for(tmp_path)
    with sim(tmp_path) as pty:
        runs = [_read(["--port", pty, "--count", "1", "--no-cache", "--verbose"] + FAST, env) for _ in range(2)]
    for r in runs:
        assert r.returncode == 0 and "scanning" in r.stderr and "cached scan" not in r.stderr, r.stderr
    assert not (tmp_path / "cache").exists()


def test_cache_file_option_is_used_instead_of_the_default(tmp_path):
    env = env_for(tmp_path)
    mine = tmp_path / "mine.json"
    with sim(tmp_path) as pty:
        first = _read(["--port", pty, "--count", "1", "--cache", str(mine)] + FAST, env)
        second = _read(["--port", pty, "--count", "1", "--cache", str(mine), "--verbose"] + FAST, env)
    assert first.returncode == 0 and mine.exists() and not (tmp_path / "cache").exists(), first.stderr
    assert "joining from the cached scan" in second.stderr


def test_cache_path_is_per_port_and_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert broute_read.cache_path("/dev/ttyUSB0") == str(tmp_path / "broute" / "scan-dev_ttyUSB0.json")
    assert broute_read.cache_path("/dev/ttyUSB1") != broute_read.cache_path("/dev/ttyUSB0")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert broute_read.cache_path("COM3") == str(tmp_path / ".cache" / "broute" / "scan-COM3.json")


def test_an_unwritable_cache_is_a_warning_not_the_end(tmp_path):
    (tmp_path / "cache").write_text("a file where the folder should be")
    with sim(tmp_path) as pty:
        r = _read(["--port", pty, "--count", "1"] + FAST, env_for(tmp_path))
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 1, r.stderr
    assert "scan cache" in r.stderr and "not written" in r.stderr


# 3. what the session gives up on ends the run with its own exit status and the reason on stderr
def test_a_refused_password_ends_even_an_endless_run_with_status_3(tmp_path):
    wrong = "0123456789AC"
    with sim(tmp_path) as pty:
        r = _read(["--port", pty] + FAST, env_for(tmp_path, pwd=wrong))
    assert r.returncode == 3, r.stderr
    _clean(r)
    assert "authentication failed" in r.stderr and wrong not in r.stderr and RBID not in r.stderr
    assert r.stdout == ""


def test_no_meter_ends_a_count_run_with_status_4_and_names_the_id(tmp_path):
    with sim(tmp_path, "--scenario", "no-meter") as pty:
        r = _read(["--port", pty, "--count", "1"] + FAST, env_for(tmp_path))
    assert r.returncode == 4, r.stderr
    _clean(r)
    assert "No meter found" in r.stderr and "B-route ID" in r.stderr


def test_no_meter_in_an_endless_run_is_a_warning_and_the_run_goes_on(tmp_path):
    with sim(tmp_path, "--scenario", "no-meter") as pty:
        p = subprocess.Popen([sys.executable, "tools/broute.py", "read", "--port", pty] + FAST, cwd=ROOT,
                             env=env_for(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        guard = threading.Timer(60, p.kill)  # a reader that never says it goes on fails, not hangs
        guard.start()
        try:
            seen = []
            for text in p.stderr:
                seen.append(text)
                if "still trying" in text:
                    break
            assert "No meter found" in seen[-1] and "warning" in seen[-1], seen
            assert p.poll() is None  # still running, scanning on
        finally:
            guard.cancel()
            p.kill()
            p.wait()


def test_a_silent_module_ends_a_count_run_with_status_5(tmp_path):
    with sim(tmp_path, "--fault", "mute:100000@0") as pty:
        r = _read(["--port", pty, "--count", "1"] + FAST, env_for(tmp_path))
    assert r.returncode == 5, r.stderr
    _clean(r)
    assert "not answering: neither SKSTACK nor J11 answered" in r.stderr
    with sim(tmp_path, "--fault", "mute:100000@0") as pty:  # forced: the session finds it silent
        r = _read(["--port", pty, "--count", "1", "--module", "skstack"] + FAST, env_for(tmp_path))
    assert r.returncode == 5 and "not answering" in r.stderr, r.stderr


# 3. the module family: asked at start (lib/broute/detect.py), or --module
@pytest.mark.parametrize("dialect,family", [("bp35a1", "skstack"), ("bp35c0", "skstack"), ("j11", "j11")])
def test_the_module_family_is_detected_and_read(tmp_path, dialect, family):
    with sim(tmp_path, "--dialect", dialect) as pty:
        r = _read(["--port", pty, "--count", "2", "--json", "--no-cache"] + FAST, env_for(tmp_path))
    assert r.returncode == 0, r.stderr
    _clean(r)
    assert "Wi-SUN module: %s (detected)" % family in r.stderr
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(rows) == 2 and all(x["power_w"] is not None for x in rows)


def test_module_forces_the_family_without_asking(tmp_path):
    with sim(tmp_path, "--dialect", "j11", "--verbose") as pty:
        r = _read(["--port", pty, "--count", "1", "--module", "j11", "--no-cache"] + FAST, env_for(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "Wi-SUN module: j11 (--module)" in r.stderr and "(detected)" not in r.stderr
    # the wrong family forced: the J11 module never answers text, so the session finds no module
    with sim(tmp_path, "--dialect", "j11") as pty:
        r = _read(["--port", pty, "--count", "1", "--module", "skstack", "--no-cache"] + FAST,
                  env_for(tmp_path))
    assert r.returncode == 5 and "not answering" in r.stderr, r.stderr


def test_module_takes_only_the_known_families(tmp_path):
    r = _read(["--port", "/dev/null", "--module", "bp35a1"], env_for(tmp_path))
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_a_port_that_goes_away_ends_the_run_with_status_5(tmp_path):
    pty = str(tmp_path / "dongle")
    s = subprocess.Popen([sys.executable, "tools/sim.py", "--pty", pty] + FAST, cwd=ROOT,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert "pty" in s.stdout.readline()
        p = subprocess.Popen([sys.executable, "tools/broute.py", "read", "--port", pty] + FAST, cwd=ROOT,
                             env=env_for(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.stdout.readline()  # a reading: the port works
    finally:
        s.kill()  # the dongle is unplugged
        s.wait()
    out, err = p.communicate(timeout=60)
    assert p.returncode == 5, err
    assert "serial port %s" % pty in err and "unplugged" in err and "Traceback" not in err


def test_a_missing_port_is_named(tmp_path):
    path = str(tmp_path / "ttyUSB9")
    r = _read(["--port", path, "--count", "1"], env_for(tmp_path))
    assert r.returncode == 5
    _clean(r)
    assert "no such serial port: %s" % path in r.stderr


def test_a_port_in_use_is_told_apart_from_a_missing_one(tmp_path):
    import serial
    with sim(tmp_path) as pty:
        other = serial.Serial(pty, 115200, exclusive=True)
        try:
            r = _read(["--port", pty, "--count", "1"] + FAST, env_for(tmp_path))
        finally:
            other.close()
    assert r.returncode == 5
    _clean(r)
    assert "serial port %s is in use by another program" % pty in r.stderr


def test_permission_denied_says_dialout(monkeypatch, capsys, tmp_path):
    """Tests run as root here, where a device cannot refuse; pyserial's refusal is stood in for."""
    import serial

    def refuse(port, *a, **k):
        raise serial.SerialException(errno.EACCES, "could not open port %s: [Errno 13] Permission denied" % port)
    monkeypatch.setattr(serial, "Serial", refuse)
    monkeypatch.setenv("BROUTE_ID", RBID)
    monkeypatch.setenv("BROUTE_PASSWORD", PWD)
    assert broute_read.main(["--port", "/dev/ttyUSB0", "--count", "1"]) == 5
    err = capsys.readouterr().err
    assert "permission denied" in err and "dialout" in err


# 4. options and credentials refused before the port is opened (a missing port would say exit 5)
def test_an_interval_below_the_poll_floor_is_refused(tmp_path):
    r = _read(["--port", "/nonexistent", "--interval", "2"], env_for(tmp_path))
    assert r.returncode == 2 and "--interval" in r.stderr and "5 s" in r.stderr
    assert broute_read.parse(["--port", "x", "--interval", "5"]).interval == 5


@pytest.mark.parametrize("rbid,pwd,words", [
    ("00112233445566778899AABBCCDDEE", PWD, "32 hex digits (got 30"),
    ("00112233445566778899AABBCCDDEEFG", PWD, "digits 0-9 and letters A-F"),
    (" " + RBID, PWD, "32 hex digits (got 33"),  # the stick's config would refuse it too
    (RBID, "X" * 33, "12 characters long (got 33"),
    (RBID, "0123456789A", "12 characters long (got 11"),  # the session's rule, so the firmware's
    (RBID, "0123 56789AB", "digits 0-9 and letters A-Z"),
    (RBID, "0123456789Aé", "digits 0-9 and letters A-Z"),
])
def test_bad_credentials_are_refused_without_echoing_them(tmp_path, rbid, pwd, words):
    r = _read(["--port", "/nonexistent", "--count", "1"], env_for(tmp_path, rbid, pwd))
    assert r.returncode == 2 and words in r.stderr, r.stderr
    assert rbid not in r.stderr and pwd not in r.stderr
    _clean(r)


def test_a_lower_case_id_is_normalised():
    assert broute_read.check_id(RBID.lower()) == RBID


def test_main_called_again_prints_each_line_once(tmp_path, monkeypatch, capsys):
    """main() adds its stderr handler for the call only, so a second call does not print twice."""
    for k, v in env_for(tmp_path, pwd="short").items():
        monkeypatch.setenv(k, v)
    for _ in range(3):
        assert broute_read.main(["--port", "/nonexistent", "--quiet"]) == broute_read.EXIT_USAGE
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all("B-route password must be 12 characters" in x for x in lines), lines
    assert not broute_read.log.handlers


def test_a_config_that_is_not_json_is_named(tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text('{"broute_id": "%s", "broute_password": "%s",}' % (RBID, PWD))
    r = _read(["--port", "/nonexistent", "--config", str(cfg)], env_for(tmp_path, None, None))
    assert r.returncode == 2 and "not valid JSON" in r.stderr and PWD not in r.stderr
    _clean(r)


def test_contract_is_checked_and_passed_to_the_session(monkeypatch):
    with pytest.raises(SystemExit):
        broute_read.parse(["--port", "x", "--contract", "3"])
    seen = {}

    class Stop(Exception):
        pass

    class Spy:
        def __init__(self, *a, **k):
            seen.update(k)
            raise Stop

    class Port:
        def read(self, n):
            return b""
        in_waiting = 0

        def close(self):
            pass
    monkeypatch.setattr(broute_read, "Session", Spy)
    args = broute_read.parse(["--port", "x", "--contract", "40", "--no-cache", "--module", "skstack"])
    with pytest.raises(Stop):
        broute_read.asyncio.run(broute_read.read(args, RBID, PWD, Port()))
    assert seen["contract_a"] == 40


# 5. the first reading carries today's kWh where the meter has E2 (needs the session's first-Get change)
def test_the_first_reading_knows_today(tmp_path):
    with sim(tmp_path) as pty:
        r = _read(["--port", pty, "--count", "1", "--json"] + FAST, env_for(tmp_path))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[0])["today_kwh"] is not None


# 7. readings on stdout only; the log on stderr at the level asked for, with the version
def test_stdout_holds_only_readings_and_stderr_the_leveled_log(tmp_path):
    with sim(tmp_path) as pty:
        plain = _read(["--port", pty, "--count", "2", "--json"] + FAST, env_for(tmp_path))
        loud = _read(["--port", pty, "--count", "1", "--json", "--verbose"] + FAST, env_for(tmp_path))
        quiet = _read(["--port", pty, "--count", "1", "--json", "--quiet"] + FAST, env_for(tmp_path))
    for r in (plain, loud, quiet):
        assert r.returncode == 0, r.stderr
        assert all(json.loads(x)["power_w"] is not None for x in r.stdout.splitlines())
    assert VERSION in plain.stderr and "connected" in plain.stderr
    assert "module single 1.2.10" not in plain.stderr and "module single 1.2.10" in loud.stderr  # session detail: --verbose
    assert quiet.stderr == ""


def test_read_version():
    r = subprocess.run([sys.executable, "tools/broute.py", "read", "--version"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0 and VERSION in r.stdout
