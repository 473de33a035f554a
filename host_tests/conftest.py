import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# tools/paths.py's folders, last first: lib/ ahead of tools/ (its broute package, not tools/broute.py)
for sub in ("host_tests/portable", "tools", "tools/build", "tools/bench", "tools/emulation", "tools/simulator",
            "tools/reader", "firmware", "lib"):
    p = os.path.join(ROOT, sub)
    if p not in sys.path:
        sys.path.insert(0, p)
