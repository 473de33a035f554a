#!/usr/bin/env python3
"""`broute` from a checkout: the PC command line (tools/reader/broute_cli.py) with lib/ on the path.

  .venv/bin/python tools/broute.py read --port /dev/ttyUSB0 --json --count 3
  .venv/bin/python tools/broute.py decode "ERXUDP ..."
  .venv/bin/python tools/broute.py serve --port /dev/ttyUSB0 --mqtt localhost
  .venv/bin/python tools/broute.py serve --port /dev/ttyUSB0 --http 0.0.0.0:8080
"""
import sys

import paths  # noqa: F401  (lib/ before tools/: the broute package, not this file)
from broute_cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
