"""The deploy path for real: mpy-cross, mpremote and the unix port's raw REPL on a pty."""
import gzip
import json
import os
import subprocess
import sys

import pytest

import deploy

_ID = "00112233445566778899AABBCCDDEEFF"
_PW = "SECRETPASS12"


def _config(tmp_path, **values):
    d = {"broute_id": _ID, "broute_password": _PW, "contract_amperes": 40}
    d.update(values)
    p = tmp_path / ("cfg%d.json" % len(list(tmp_path.iterdir())))
    p.write_text(json.dumps(d))
    return str(p)


def _board_exec(port, code):
    r = subprocess.run([deploy._tool("mpremote"), "connect", port, "resume", "exec", code],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout



@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """One board (the unix port's REPL on a pty, conftest's `board`) and one fresh deploy to it:
    (board, config path, deploy's (changed, removed)). A whole deploy over the pty takes most of
    a minute, so the tests below take this board in turn, each from what a deploy leaves: the
    first checks the fresh deploy, the others deploy again (only what changed is copied)."""
    from ptyboard import PtyBoard
    tmp = tmp_path_factory.mktemp("deployed")
    root = tmp / "board"
    root.mkdir()
    with PtyBoard(str(root), heapsize="512k") as b:
        b.dir = root
        cfg = _config(tmp)
        res = deploy.deploy(b.port, cfg, reset=False, out=str(tmp / "build"), log=lambda s: None)
        yield b, cfg, res
        assert b.alive(), "the board's MicroPython ended (a soft reset?)"


def test_fresh_deploy_lands_every_file_and_the_board_imports_it(deployed, tmp_path):
    board, cfg, (changed, removed) = deployed
    built = deploy.build(str(tmp_path / "again"))
    assert sorted(changed) == sorted(list(built) + ["config.json"])
    assert removed == []
    for rel, data in built.items():
        assert (board.dir / rel).read_bytes() == data, rel
    assert (board.dir / "config.json").read_bytes() == open(cfg, "rb").read()
    fonts = sorted(os.listdir(os.path.join(deploy.ROOT, "firmware", "fonts")))
    assert fonts and sorted(os.listdir(board.dir / "fonts")) == fonts
    # the web page, gzip-compressed at the root (firmware/websrc.py streams it as it is)
    with open(os.path.join(deploy.ROOT, "lib", "broute", "page.html"), "rb") as f:
        assert gzip.decompress((board.dir / "page.html.gz").read_bytes()) == f.read()
    # the web bodies' text, beside broute/web.mpy, which reads it from flash
    with open(os.path.join(deploy.ROOT, "lib", "broute", "web.tpl"), "rb") as f:
        assert (board.dir / "lib" / "broute" / "web.tpl").read_bytes() == f.read()
    assert "lib/broute/web.tpl" in (board.dir / deploy.MANIFEST).read_text().split()
    for name in fonts:
        assert (board.dir / "fonts" / name).read_bytes() == \
            open(os.path.join(deploy.ROOT, "firmware", "fonts", name), "rb").read()
    # The "board" loads the compiled modules from lib/ (on the ESP32 /lib is on sys.path).
    mods = [r[4:-4].replace("/__init__", "").replace("/", ".") for r in built if r.endswith(".mpy")]
    portable = [m for m in mods if os.path.exists(os.path.join(deploy.ROOT, "lib", m + ".py"))]
    code = ("import sys\nsys.path.insert(0, 'lib')\n"
            "for m in %r:\n __import__(m)\n"
            "import config\nc = config.load()\n"
            "import fontfile\nf = fontfile.Font(fontfile.folder() + '/small.bin')\n"
            "print('OK', config.__file__, c.contract_amperes, fontfile.folder(), f.height)\n"
            % (portable + ["config"]))
    # The board's own fonts/ (the ESP32 starts in "/": /fonts), not the checkout's.
    assert _board_exec(board.port, code).split() == ["OK", "lib/config.mpy", "40", "fonts", "13"]


def test_second_deploy_copies_only_what_changed_and_removes_stale_modules(deployed, tmp_path):
    board = deployed[0]
    out = str(tmp_path / "build")
    quiet = {"reset": False, "out": out, "log": lambda s: None}
    assert deploy.deploy(board.port, None, **quiet) == ([], [])
    # A module deployed earlier and since removed from the tree, and a foreign one.
    (board.dir / "lib" / "old_mod.mpy").write_bytes(b"M\x06\x00\x1f")
    (board.dir / "lib" / "umqtt.mpy").write_bytes(b"not ours")
    with open(board.dir / "lib" / "deployed.txt", "a") as f:
        f.write("lib/old_mod.mpy\n")
    # A font deployed earlier and since removed from the tree.
    (board.dir / "fonts" / "old.bin").write_bytes(b"BF\x01")
    with open(board.dir / "lib" / "deployed.txt", "a") as f:
        f.write("fonts/old.bin\n")
    changed, removed = deploy.deploy(board.port, _config(tmp_path, contract_amperes=50), **quiet)
    assert sorted(changed) == ["config.json", "lib/deployed.txt"]
    assert removed == ["fonts/old.bin", "lib/old_mod.mpy"]
    assert not (board.dir / "lib" / "old_mod.mpy").exists()
    assert not (board.dir / "fonts" / "old.bin").exists()
    assert (board.dir / "lib" / "umqtt.mpy").exists()
    assert json.loads((board.dir / "config.json").read_text())["contract_amperes"] == 50


def test_a_file_edited_on_the_board_with_the_same_size_is_replaced(deployed, tmp_path):
    board = deployed[0]
    out = str(tmp_path / "build")
    quiet = {"reset": False, "out": out, "log": lambda s: None}
    deploy.deploy(board.port, None, **quiet)
    p = board.dir / "lib" / "config.mpy"
    data = bytearray(p.read_bytes())
    data[-1] ^= 0xFF
    p.write_bytes(bytes(data))
    changed, _ = deploy.deploy(board.port, None, **quiet)
    assert "lib/config.mpy" in changed
    assert p.read_bytes() == (tmp_path / "build" / "lib" / "config.mpy").read_bytes()


def test_bad_config_is_refused_before_the_board_is_touched(tmp_path):
    cfg = _config(tmp_path, broute_password="short", rotation=7)
    with pytest.raises(deploy.DeployError) as e:
        deploy.deploy("/dev/does-not-exist", cfg, reset=False, out=str(tmp_path / "b"))
    text = str(e.value)
    assert "broute_password: must be 12 characters long (got 5)" in text
    assert "\n  rotation: must be" in text  # the wording is the config checker's
    assert "short" not in text.replace("12 characters", "")


def _deploy_py(*args):
    return subprocess.run([sys.executable, os.path.join(deploy.ROOT, "tools", "build", "deploy.py")] + list(args),
                          capture_output=True, text=True, timeout=60)


def test_command_line_reports_a_missing_board_plainly(tmp_path):
    r = _deploy_py("--port", str(tmp_path / "ttyNONE"), "--no-reset")
    assert r.returncode == 1
    assert r.stderr.startswith("deploy: %s: no such device." % (tmp_path / "ttyNONE")), r.stderr
    assert "in use" not in r.stderr and ("Serial ports here" in r.stderr or "plugged in" in r.stderr)


def test_make_deploy_without_port_says_what_to_do():
    r = subprocess.run(["make", "-s", "-n", "deploy"], cwd=deploy.ROOT, capture_output=True, text=True,
                       timeout=60)
    line = [x for x in r.stdout.splitlines() if "tools/build/deploy.py" in x]
    assert len(line) == 1, r.stdout
    r = subprocess.run(line[0], shell=True, cwd=deploy.ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "expected one argument" not in r.stderr and "usage:" not in r.stderr
    assert "make deploy PORT=/dev/ttyUSB0 CONFIG=my-config.json" in r.stderr, r.stderr


def test_without_port_the_serial_ports_present_are_listed(tmp_path, monkeypatch, capsys):
    for name in ("ttyUSB0", "ttyACM1"):
        (tmp_path / name).write_text("")
    monkeypatch.setattr(deploy, "_PORT_GLOBS", (str(tmp_path / "ttyUSB*"), str(tmp_path / "ttyACM*")))
    assert deploy.main([]) == 1
    err = capsys.readouterr().err
    assert "Serial ports here: %s %s" % (tmp_path / "ttyACM1", tmp_path / "ttyUSB0") in err, err
    monkeypatch.setattr(deploy, "_PORT_GLOBS", (str(tmp_path / "ttyS*"),))
    assert deploy.main([]) == 1
    assert "No serial port is there" in capsys.readouterr().err


def test_a_port_without_permission_names_the_group(monkeypatch):
    import grp
    _, s = os.openpty()
    try:
        port = os.ttyname(s)
        group = grp.getgrgid(os.stat(port).st_gid).gr_name
        monkeypatch.setattr(deploy.os, "access", lambda path, mode: False)  # we may be root
        with pytest.raises(deploy.DeployError) as e:
            deploy.deploy(port, None, reset=False)
        text = str(e.value)
        assert text.startswith(port + ": permission denied") and "usermod -aG %s $USER" % group in text
        assert "in use" not in text
    finally:
        os.close(s)


def test_a_port_in_use_is_called_in_use():
    import fcntl
    _, s = os.openpty()
    try:
        port = os.ttyname(s)
        fcntl.flock(s, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a serial monitor holds it (and mpremote)
        with pytest.raises(deploy.DeployError) as e:
            deploy.Board(port, timeout=30).survey()
        text = str(e.value)
        assert text.startswith(port + " is in use by another program"), text
        assert "no such device" not in text and "permission" not in text
    finally:
        os.close(s)


def test_the_untouched_example_config_is_refused(tmp_path):
    example = os.path.join(deploy.ROOT, "config.example.json")
    with pytest.raises(deploy.DeployError) as e:
        deploy.deploy("/dev/does-not-exist", example, reset=False, out=str(tmp_path / "b"))
    text = str(e.value)
    assert "broute_id and broute_password are still the placeholders from config.example.json" in text
    assert "power company" in text
    with open(example) as f:
        d = json.load(f)
    d["broute_password"] = _PW
    d["broute_id"] = d["broute_id"].lower()  # the same ID, as the firmware reads it
    p = tmp_path / "my-config.json"
    p.write_text(json.dumps(d))
    with pytest.raises(deploy.DeployError) as e:
        deploy.check_config(str(p))
    assert "broute_id is still the placeholder" in str(e.value)
    d["broute_id"] = _ID
    p.write_text(json.dumps(d))
    assert deploy.check_config(str(p)) == p.read_bytes()


def test_your_own_config_stays_out_of_git():
    def ignored(path):
        r = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=deploy.ROOT)
        assert r.returncode in (0, 1)
        return r.returncode == 0
    for path in ("my-config.json", "config.json", "home.local.json", "tools/x.local.json"):
        assert ignored(path), path
    for path in ("config.example.json", "docs/config.json", "host_tests/portable/test_config.py"):
        assert not ignored(path), path


def test_the_config_check_runs_as_make_deploy_runs_it(tmp_path):
    """`python tools/build/deploy.py` has only tools/build/ on its path; config imports lib/session.py."""
    cfg = _config(tmp_path, broute_password="short")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([sys.executable, os.path.join(deploy.ROOT, "tools", "build", "deploy.py"), "--port",
                        "/dev/does-not-exist", "--config", cfg], capture_output=True, text=True, env=env)
    assert "Traceback" not in r.stderr and "broute_password: must be 12 characters long" in r.stderr, r.stderr
