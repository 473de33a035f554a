"""tools/sim.py on a pseudo-terminal, as a USB dongle for the PC reader's tests (read and serve)."""
import contextlib
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Pty(str):
    """The simulator's pty path; .control(line) sends it a control command (fault NAME, ...)."""

    def control(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()


@contextlib.contextmanager
def sim(path, args):
    """The simulator with `args` on a pty at `path`, until the block ends."""
    pty = Pty(path)
    p = pty.proc = subprocess.Popen([sys.executable, "tools/sim.py", "--pty", pty] + list(args), cwd=ROOT,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert "pty" in p.stdout.readline()
        yield pty
    finally:
        p.kill()
        p.wait()
