"""`make demo` in a terminal: the picture and the firmware log fit the window and stay apart."""
import io
import os
import re
import unicodedata

import run_host

_CSI = re.compile("\x1b\\[[0-9;?]*[A-Za-z]")
_BLOCK = "\u2580"


def _cells(line):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in _CSI.sub("", line))


def _picture(w, h):
    return [b"".join(bytes((x % 256, y % 256, 99)) for x in range(w)) for y in range(h)]


def _redraws(text):
    return ["\x1b[H" + r for r in text.split("\x1b[H")[1:]]


def _check_redraw(text, cols, lines):
    """One redraw fits cols x (lines - 1), the picture above the rule, the log under it;
    returns (picture rows, log rows as plain text)."""
    assert text.startswith("\x1b[H")
    rows = text[len("\x1b[H"):].split("\n")
    assert len(rows) <= lines - 1, len(rows)
    for r in rows:
        assert _cells(r) <= cols, (_cells(r), r)
        assert "\r" not in r and "\x1b[2J" not in r
    rule = [i for i, r in enumerate(rows) if _CSI.sub("", r).startswith("----")]
    assert len(rule) == 1, rows
    pic, under = rows[:rule[0]], rows[rule[0] + 1:]
    assert all(_BLOCK in r and not _CSI.sub("", r).strip(_BLOCK) for r in pic)
    assert all(_BLOCK not in r for r in under)
    return pic, [_CSI.sub("", r) for r in under]


def test_picture_and_log_fit_the_terminal_for_every_screen_size():
    log = ["state: scanning", "x" * 300, "bad \x1b[2J\r escape", "\u96fb\u529b" * 100, "host: {}",
           "meter found", "connected"]
    for w, h in ((160, 80), (240, 135), (80, 160), (135, 240)):
        for cols, lines in ((140, 30), (80, 24), (200, 60)):
            out = io.StringIO()
            t = run_host.Terminal(out, size=(cols, lines))
            t.log("before the first frame")
            t.picture(_picture(w, h), w, h)
            for line in log:
                t.log(line)
            redraws = _redraws(out.getvalue())
            assert len(redraws) == 2 + len(log)
            for r in redraws:
                _check_redraw(r, cols, lines)
            pic, under = _check_redraw(redraws[-1], cols, lines)
            assert len(pic) >= min(h // 2, lines - t.LOG_LINES - 2) // 2, (w, h, cols, lines)
            assert under[0] == "x" * (cols - 1)
            assert under[1] == "bad  [2J  escape"  # ESC and CR made spaces: they cannot move the cursor
            assert len(under) == t.LOG_LINES and under[-1] == "connected"


def test_size_comes_from_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "140")
    monkeypatch.setenv("LINES", "30")
    assert run_host.Terminal(io.StringIO()).size() == (140, 30)


def test_demo_in_a_140x30_terminal_keeps_the_log_under_the_picture(tmp_path, monkeypatch, capsys):
    """The real run: the firmware's output goes through the terminal view and into the log file."""
    monkeypatch.setenv("COLUMNS", "140")
    monkeypatch.setenv("LINES", "30")
    log = tmp_path / "firmware.log"
    args = run_host.parser().parse_args([
        "--terminal", "--seconds", "8", "--time-scale", "0.05", "--run-dir", str(tmp_path / "board"),
        "--frames", str(tmp_path / "frames"), "--max-frames", "3", "--log", str(log)])
    code, _, _ = run_host.run(args)
    text = capsys.readouterr().out
    assert code == 0, text[-2000:]
    logged = log.read_text().splitlines()
    assert "state: connected" in logged and logged[-1].startswith("host: ")
    text, tail = text.rsplit("\nfirmware log: ", 1)
    assert tail.strip() == os.path.relpath(str(log))
    assert text.split("\x1b[H")[0] == "\x1b[2J"
    redraws = _redraws(text)
    with_picture = 0
    for r in redraws:
        # nothing the firmware printed reaches the terminal outside the view
        assert r.endswith("\x1b[J"), r[-300:]
        pic, under = _check_redraw(r[:-len("\x1b[J")], 140, 30)
        with_picture += bool(pic)
    assert with_picture
    assert under == [run_host._fit(x, 139) for x in logged[-run_host.Terminal.LOG_LINES:]]


def test_demo_with_the_j11_dialect_is_a_hat_c1_stick(tmp_path, monkeypatch, capsys):
    """`make demo DEMO_ARGS="--dialect j11"`: the J11 simulator, the emulated stick carrying a
    HAT-C1 (run_host passes --hat c1), the firmware finding the module by itself."""
    monkeypatch.setenv("COLUMNS", "140")
    monkeypatch.setenv("LINES", "30")
    log = tmp_path / "firmware.log"
    stats = tmp_path / "stats.json"
    args = run_host.parser().parse_args([
        "--dialect", "j11", "--terminal", "--seconds", "8", "--time-scale", "0.05",
        "--run-dir", str(tmp_path / "board"), "--frames", str(tmp_path / "frames"), "--max-frames", "3",
        "--log", str(log), "--stats", str(stats)])
    code, _, _ = run_host.run(args)
    out = capsys.readouterr().out
    assert code == 0, out[-2000:]
    logged = log.read_text().splitlines()
    assert "Wi-SUN module: no answer on G26" in logged and "Wi-SUN module: j11 on G36" in logged
    assert "state: connected" in logged
    import json
    s = json.loads(stats.read_text())
    assert (s["module"], s["hat"], s["hat_contention"]) == ("j11", "c1", False) and s["readings"] >= 1
