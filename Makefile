# One entry point for host work. `make demo` and `make test` are the README's quick start.
VENV := .venv
PY := $(VENV)/bin/python
MP := $(VENV)/bin/micropython
STAMP := $(VENV)/.installed
MEM32_STAMP := tools/bench/mem32/node_modules/.package-lock.json

.PHONY: setup mosquitto chromium test test-cpython test-micropython compile bench demo deploy screens soak clean

setup: $(STAMP) $(MEM32_STAMP) mosquitto chromium

# The MQTT tests (host_tests/broker.py) run a real broker: Debian's mosquitto, installed here when
# missing (as root: CI and containers); otherwise a message, and those tests skip.
mosquitto:
	@command -v mosquitto >/dev/null || test -x /usr/sbin/mosquitto || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null; }; \
	  else echo "make: mosquitto is missing (the MQTT tests run a real broker; they skip without it);" \
	    "on Debian, Ubuntu or Raspberry Pi OS: sudo apt install mosquitto" >&2; fi; }

# The web page's tests (host_tests/test_browser.py) drive a real headless Debian chromium through
# playwright (requirements.txt); installed here when missing (as root), otherwise a message, and
# those tests skip.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; \
	  else echo "make: /usr/bin/chromium is missing (the web page's tests drive a real browser; they skip" \
	    "without it); on Debian, Ubuntu or Raspberry Pi OS: sudo apt install chromium" >&2; fi; }

$(STAMP): requirements.txt
	@python3 -m venv $(VENV) || { rm -rf $(VENV); echo "make: python3 cannot create a virtual environment;" \
	  "on Debian, Ubuntu or Raspberry Pi OS: sudo apt install python3-venv" >&2; exit 1; }
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $(STAMP)

# The 32-bit heap measurement runs the firmware in MicroPython's WebAssembly port (npm).
$(MEM32_STAMP): tools/bench/mem32/package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is missing (the tests measure the 32-bit heap in" \
	  "MicroPython's WebAssembly port); on Debian, Ubuntu or Raspberry Pi OS: sudo apt install npm" >&2; exit 1; }
	npm ci --prefix tools/bench/mem32 --no-audit --no-fund

test: setup compile test-micropython test-cpython

test-cpython: setup
	$(PY) -m pytest -q host_tests

test-micropython: setup
	$(MP) host_tests/mprun.py host_tests/portable

# Every file that goes to the board must compile for the ESP32 (xtensawin).
compile: $(STAMP)
	@$(PY) tools/build/mpycompile.py --clean --march xtensawin --out build/mpy

# The main job on the host: the real firmware on an emulated board against the simulated meter.
# BOARD=plus SCENARIO=solar make demo; DEMO_ARGS="--seconds 60 --fault restart@120" for more.
demo: $(STAMP)
	$(PY) tools/run_host.py --terminal $(DEMO_ARGS)

# Flash-side deploy: make deploy PORT=/dev/ttyUSB0 [CONFIG=my-config.json]; without PORT, deploy.py
# says what to do and lists the serial ports it sees.
deploy: compile
	$(PY) tools/build/deploy.py $(if $(PORT),--port $(PORT)) $(if $(CONFIG),--config $(CONFIG))

# docs/screens: the real app on the emulated board, drawn at 2x and recompressed (the unix port writes
# uncompressed PNGs); web.png: its web page in chromium at a phone's size (an hour of readings, ~75 s).
screens: $(STAMP)
	rm -rf build/screens && mkdir -p build/screens/plus
	$(MP) tools/emulation/render_screens.py build/screens stickc 2
	$(MP) tools/emulation/render_screens.py build/screens/plus plus 2
	$(PY) tools/emulation/png_frames.py build/screens docs/screens 1
	$(PY) tools/emulation/png_frames.py build/screens/plus docs/screens/plus 1
	$(PY) tools/emulation/render_web.py --out docs/screens/web.png

soak: setup
	$(PY) tools/bench/soak.py --hours 10

bench: setup
	$(MP) -X heapsize=110k tools/bench/bench_codec.py
	$(PY) tools/bench/mem32.py
	$(MP) -X heapsize=110k tools/bench/bench_ui.py stickc
	$(PY) tools/bench/bench_session.py
	$(PY) tools/bench/bench_app.py
	$(PY) tools/bench/bench_app.py --dialect j11

clean:
	rm -rf build out .pytest_cache
