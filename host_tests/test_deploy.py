"""The deploy path for real: mpy-cross, mpremote and the unix port's raw REPL on a pty."""
import json
import os
import subprocess
import sys

import pytest

import deploy
from ptyboard import PtyBoard

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


@pytest.fixture
def board(tmp_path):
    root = tmp_path / "board"
    root.mkdir()
    with PtyBoard(str(root)) as b:
        b.dir = root
        yield b
        assert b.alive(), "the deploy ended the board's MicroPython (a soft reset?)"


def test_fresh_deploy_lands_every_file_and_the_board_imports_it(board, tmp_path):
    out = str(tmp_path / "build")
    cfg = _config(tmp_path)
    changed, removed = deploy.deploy(board.port, cfg, reset=False, out=out, log=lambda s: None)
    built = deploy.build(str(tmp_path / "again"))
    assert sorted(changed) == sorted(list(built) + ["config.json"])
    assert removed == []
    for rel, data in built.items():
        assert (board.dir / rel).read_bytes() == data, rel
    assert (board.dir / "config.json").read_bytes() == open(cfg, "rb").read()
    fonts = sorted(os.listdir(os.path.join(deploy.ROOT, "firmware", "fonts")))
    assert fonts and sorted(os.listdir(board.dir / "fonts")) == fonts
    for name in fonts:
        assert (board.dir / "fonts" / name).read_bytes() == \
            open(os.path.join(deploy.ROOT, "firmware", "fonts", name), "rb").read()
    # The "board" loads the compiled modules from lib/ (on the ESP32 /lib is on sys.path).
    mods = [r[4:-4] for r in built if r.endswith(".mpy")]
    portable = [m for m in mods if os.path.exists(os.path.join(deploy.ROOT, "lib", m + ".py"))]
    code = ("import sys\nsys.path.insert(0, 'lib')\n"
            "for m in %r:\n __import__(m)\n"
            "import config\nc = config.load()\n"
            "import fontfile\nf = fontfile.Font(fontfile.folder() + '/small.bin')\n"
            "print('OK', config.__file__, c.contract_amperes, fontfile.folder(), f.height)\n"
            % (portable + ["config"]))
    # The board's own fonts/ (the ESP32 starts in "/": /fonts), not the checkout's.
    assert _board_exec(board.port, code).split() == ["OK", "lib/config.mpy", "40", "fonts", "13"]


def test_second_deploy_copies_only_what_changed_and_removes_stale_modules(board, tmp_path):
    out = str(tmp_path / "build")
    quiet = {"reset": False, "out": out, "log": lambda s: None}
    deploy.deploy(board.port, _config(tmp_path), **quiet)
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


def test_a_file_edited_on_the_board_with_the_same_size_is_replaced(board, tmp_path):
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
    assert "rotation: must be from 0 to 3 (got 7)" in text
    assert "short" not in text.replace("12 characters", "")


def test_command_line_reports_a_missing_board_plainly(tmp_path):
    r = subprocess.run([sys.executable, os.path.join(deploy.ROOT, "tools", "deploy.py"),
                        "--port", str(tmp_path / "ttyNONE"), "--no-reset"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.startswith("deploy: mpremote failed")
