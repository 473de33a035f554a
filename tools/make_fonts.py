"""Regenerate the committed firmware/font_*.py files with font_to_py.

The generated files are committed so CI needs neither the TTF nor this tool;
run it only when changing a font: `.venv/bin/python tools/make_fonts.py`.
Needs Debian's fonts-dejavu-core (or DEJAVU_DIR pointing at the TTFs).
"""
import os
import subprocess
import sys

DEJAVU = os.environ.get("DEJAVU_DIR", "/usr/share/fonts/truetype/dejavu")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASCII = "".join(chr(c) for c in range(32, 127))

# name, TTF, height in pixels, characters (None = printable ASCII)
FONTS = (
    # Labels, status line and error text on the 160x80 StickC.
    ("font_small", "DejaVuSansCondensed-Bold.ttf", 13, None),
    # Secondary figures (amps, kWh) and the Plus's labels.
    ("font_mid", "DejaVuSansCondensed-Bold.ttf", 17, None),
    # The wattage on the StickC: digits only keeps it ~4 KB as .mpy.
    ("font_big", "DejaVuSans-Bold.ttf", 36, "0123456789-.,kW "),
    # The wattage on the 240x135 Plus / Plus2.
    ("font_huge", "DejaVuSans-Bold.ttf", 58, "0123456789-.,kW "),
)


def tool():
    here = os.path.join(os.path.dirname(sys.executable), "font_to_py")
    return here if os.path.exists(here) else "font_to_py"


def main():
    for name, ttf, height, chars in FONTS:
        out = os.path.join(ROOT, "firmware", name + ".py")
        cmd = [tool(), "-x"]  # it wants a bare identifier as the file name
        if chars:
            cmd += ["-c", chars]
        cmd += [os.path.join(DEJAVU, ttf), str(height), name + ".py"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=os.path.dirname(out))
        # font_to_py records the absolute command line; keep the file stable.
        with open(out) as f:
            text = f.read()
        text = text.replace(cmd[0], "font_to_py").replace(DEJAVU + "/", "").replace(ROOT + "/", "")
        with open(out, "w") as f:
            f.write(text)
        print("wrote", os.path.relpath(out, ROOT))


if __name__ == "__main__":
    main()
