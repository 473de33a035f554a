"""Run the firmware tests (drivers, model, buttons, UI controller) under the
MicroPython unix port: they need framebuf, asyncio ticks and heap_lock."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MP = os.path.join(ROOT, ".venv", "bin", "micropython")


def test_firmware_under_micropython():
    r = subprocess.run([MP, "host_tests/mprun.py", "host_tests/firmware_mp"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 failed" in r.stdout and " 0 passed" not in r.stdout
