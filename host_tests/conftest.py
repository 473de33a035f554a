import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# tools/paths.py's folders, last first: lib/ ahead of tools/ (its broute package, not tools/broute.py)
for sub in ("host_tests/portable", "tools", "tools/build", "tools/bench", "tools/emulation", "tools/simulator",
            "tools/reader", "firmware", "lib"):
    p = os.path.join(ROOT, sub)
    if p not in sys.path:
        sys.path.insert(0, p)


@pytest.fixture
def board(tmp_path):
    """The unix port's REPL on a pty, its working folder a fresh board root (tools/emulation/
    ptyboard.py): deploy and mip land there as on a stick, and must leave it running."""
    from ptyboard import PtyBoard
    root = tmp_path / "board"
    root.mkdir()
    # 512 KB (64-bit): test_mip imports every module from its .py source in one REPL, and
    # compiling 40 sources needs more than running the .mpy files make deploy puts there
    with PtyBoard(str(root), heapsize="512k") as b:
        b.dir = root
        yield b
        assert b.alive(), "the board's MicroPython ended (a soft reset?)"
