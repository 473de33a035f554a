"""The mip path: package.json is what tools/build/mip_manifest.py writes from the tree, and
`mpremote mip install` of it puts a firmware the board can run on the unix port's raw REPL."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import mpycompile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENERATOR = os.path.join("tools", "build", "mip_manifest.py")


def _mpremote():
    local = os.path.join(os.path.dirname(sys.executable), "mpremote")
    return local if os.path.exists(local) else os.path.join(ROOT, ".venv", "bin", "mpremote")


def _manifest(root=ROOT):
    with open(os.path.join(root, "package.json")) as f:
        return json.load(f)


def _generate(root, *args):
    return subprocess.run([sys.executable, os.path.join(root, GENERATOR)] + list(args),
                          capture_output=True, text=True, timeout=60)


def test_package_json_is_what_the_generator_writes():
    r = _generate(ROOT, "--check")
    assert r.returncode == 0, r.stderr


def test_a_file_added_without_regenerating_fails_the_check(tmp_path):
    tree = tmp_path / "tree"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for d in ("lib/broute", "firmware"):
        shutil.copytree(os.path.join(ROOT, d), tree / d, ignore=skip)
    for f in ("boot.py", "main.py", "package.json", GENERATOR):
        os.makedirs(os.path.dirname(tree / f), exist_ok=True)
        shutil.copyfile(os.path.join(ROOT, f), tree / f)
    assert _generate(str(tree), "--check").returncode == 0
    (tree / "lib" / "broute" / "extra.py").write_text("X = 1\n")
    r = _generate(str(tree), "--check")
    assert r.returncode == 1 and "package.json is out of date" in r.stderr, r.stderr
    assert "extra" not in (tree / "package.json").read_text()  # --check writes nothing
    assert _generate(str(tree)).returncode == 0
    assert ["lib/broute/extra.py", "lib/broute/extra.py"] in _manifest(str(tree))["urls"]
    assert _generate(str(tree), "--check").returncode == 0


def test_the_manifest_lays_out_the_board_as_deploy_does():
    from broute.version import VERSION
    m = _manifest()
    assert m["version"] == VERSION
    dests = [d for d, _ in m["urls"]]
    assert len(set(dests)) == len(dests)
    for dest, src in m["urls"]:
        assert os.path.isfile(os.path.join(ROOT, src)), src
        # Relative, so --target decides where they land (and a test's stays in its folder).
        assert not dest.startswith("/") and ".." not in dest.split("/"), dest
    # The modules deploy compiles to /lib/<path>.mpy, here as /lib/<path>.py.
    modules = {"lib/%s.py" % mpycompile.board_path(mod) for mod in mpycompile.board_sources()}
    # and broute.web's text beside it, as deploy puts it (deploy.TEMPLATE)
    assert {d for d in dests if d.startswith("lib/")} == modules | {"lib/broute/web.tpl"}
    fonts = sorted(n for n in os.listdir(os.path.join(ROOT, "firmware", "fonts")) if n.endswith(".bin"))
    assert fonts and sorted(d[6:] for d in dests if d.startswith("fonts/")) == fonts
    assert dests[-2:] == ["boot.py", "main.py"]  # last: a half-done install never starts the app
    assert ["page.html", "lib/broute/page.html"] in m["urls"]  # the web page, served as is
    assert ["lib/broute/web.tpl", "lib/broute/web.tpl"] in m["urls"]
    assert len(dests) == len(modules) + len(fonts) + 4


def _board(port, *args):
    r = subprocess.run([_mpremote(), "connect", port, "resume"] + list(args), cwd=ROOT,
                       capture_output=True, text=True, timeout=180)  # ~70 files over the pty, on a busy machine
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout



def test_mip_install_from_the_checkout_gives_a_board_that_runs(board):
    # The unix port's files are the host's: --target / would write to the PC's /. Its working
    # folder is the board's root, as "/" is on the ESP32, so --target . lands where / does there.
    out = _board(board.port, "mip", "install", "--target", ".", "./package.json")
    assert out.rstrip().endswith("Done"), out
    urls = _manifest()["urls"]
    for dest, src in urls:
        assert (board.dir / dest).read_bytes() == open(os.path.join(ROOT, src), "rb").read(), dest
    landed = {os.path.relpath(os.path.join(d, n), board.dir).replace(os.sep, "/")
              for d, _, names in os.walk(board.dir) for n in names}
    assert landed == {d for d, _ in urls}  # nothing elsewhere (no lib/lib/, no /lib/fonts/)
    # boot.py and main.py at the root, where the board runs them after a reset.
    assert (board.dir / "main.py").read_text() == open(os.path.join(ROOT, "main.py")).read()
    # Every module imports from lib/ (on the ESP32 /lib is on sys.path); board.py gets as far as
    # the pins, which the unix port's machine module lacks.
    mods = sorted(d[4:-3].replace("/__init__", "").replace("/", ".") for d, _ in urls
                  if d.startswith("lib/") and d.endswith(".py"))
    code = ("import sys\nsys.path.insert(0, 'lib')\n"
            "for m in %r:\n"
            " try:\n  __import__(m)\n except ImportError as e:\n  print('FAIL', m, e)\n"
            "import app, fontfile\n"
            "f = fontfile.Font(fontfile.folder() + '/small.bin')\n"
            "print('OK', app.__file__, sys.modules['broute.session'].__file__, fontfile.folder(), f.height)\n"
            % mods)
    lines = _board(board.port, "exec", code).split("\n")
    fails = [x.strip() for x in lines if x.startswith("FAIL")]
    assert fails == ["FAIL board can't import name Pin"], lines
    assert "app" in mods and "broute.session" in mods and "board" in mods
    # The sources, not .mpy files; the fonts from the board's fonts/ (on the ESP32 /fonts).
    ok = [x.split() for x in lines if x.startswith("OK")]
    assert ok == [["OK", "lib/app.py", "lib/broute/session.py", "fonts", "13"]], lines
