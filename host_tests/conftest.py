import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for sub in ("host_tests/portable", "tools", "firmware", "lib"):  # lib/ first: its broute package, not tools/broute.py
    p = os.path.join(ROOT, sub)
    if p not in sys.path:
        sys.path.insert(0, p)
