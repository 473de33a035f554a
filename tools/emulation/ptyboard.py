"""A stand-in board for deploy tests: the MicroPython unix port's REPL on a pseudo-terminal.

mpremote opens a serial device by path, and the unix port wants a terminal for its
REPL, so two pty pairs are joined by a relay thread (what `socat PTY EXEC:micropython,pty`
does, without needing socat). The unix port's files are the host's: it runs with
`root` as its working directory, so relative paths ("lib/x.mpy") land inside it.
"""
import argparse
import os
import select
import subprocess
import sys
import threading
import tty

_HERE = os.path.dirname(os.path.abspath(__file__))
MICROPYTHON = os.path.join(os.path.dirname(os.path.dirname(_HERE)), ".venv", "bin", "micropython")


class PtyBoard:
    """Start with `with PtyBoard(root) as b:` and connect to `b.port`."""

    def __init__(self, root, micropython=MICROPYTHON, heapsize="256k"):
        self.root = root
        self._cmd = [micropython, "-X", "heapsize=" + heapsize]
        self._proc = None
        self._fds = []
        self._stop = False
        self._thread = None
        self.port = None

    def __enter__(self):
        user_m, user_s = os.openpty()    # mpremote opens user_s by path
        board_m, board_s = os.openpty()  # micropython's stdin/stdout
        for fd in (user_s, board_s):
            tty.setraw(fd)
        self._fds = [user_m, user_s, board_m]
        self.port = os.ttyname(user_s)
        self._proc = subprocess.Popen(self._cmd, stdin=board_s, stdout=board_s, stderr=board_s,
                                      cwd=self.root, close_fds=True)
        os.close(board_s)
        self._thread = threading.Thread(target=self._relay, args=(user_m, board_m), daemon=True)
        self._thread.start()
        return self

    def _relay(self, a, b):
        peer = {a: b, b: a}
        while not self._stop:
            try:
                ready, _, _ = select.select([a, b], [], [], 0.1)
                for fd in ready:
                    data = os.read(fd, 4096)
                    if data:
                        os.write(peer[fd], data)
            except OSError:  # micropython exited: its side of the pty is gone
                return

    def alive(self):
        return self._proc is not None and self._proc.poll() is None

    def __exit__(self, *exc):
        self._stop = True
        if self._proc and self._proc.poll() is None:
            self._proc.kill()
        if self._proc:
            self._proc.wait(5)
        if self._thread:
            self._thread.join(2)
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, help="folder that plays the board's filesystem")
    args = ap.parse_args()
    os.makedirs(args.root, exist_ok=True)
    with PtyBoard(args.root) as b:
        print("board on", b.port, "(Ctrl-C to stop)", flush=True)
        try:
            while b.alive():
                select.select([], [], [], 1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
