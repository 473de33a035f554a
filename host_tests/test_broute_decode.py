"""`tools/broute.py decode`: the JSON a user gets for frames and ERXUDP lines of both dialects."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
A1 = ("ERXUDP FE80:0000:0000:0000:021C:6400:03CD:76A4 FE80:0000:0000:0000:021D:1290:0004:263D "
      "0E1A 0E1A 001C640003CD76A4 1 0018 1081100202880105FF017202E7040000029CE80400280028")
DSE = ("ERXUDP FE80:0000:0000:0000:C2F9:4500:4058:B5FB FE80:0000:0000:0000:021D:1291:0004:E578 0E1A 0E1A "
       "0011223344556677 1 0 0026 1081000102880105FF017302EA0B07E70C13001E000000458EEB0B07E70C13001E0000000015")


def run(*args):
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "broute.py"), "decode", *args],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, json.loads(p.stdout)


def test_single_stack_line():
    rc, out = run(A1)
    assert rc == 0
    assert out["tid"] == 0x1002 and out["seoj"] == "028801" and out["esv"] == {"code": "72", "name": "Get_Res"}
    e7, e8 = out["properties"]
    assert (e7["epc"], e7["value"], e7["unit"], e7["raw"]) == ("E7", 668, "W", "0000029C")
    assert e8["value"] == {"r": 4.0, "t": 4.0}
    assert out["erxudp"]["dialect"] == "single-stack"


def test_dual_stack_line_with_unit_gives_kwh_and_iso_time():
    rc, out = run(DSE, "--unit", "01")
    assert rc == 0 and out["erxudp"]["dialect"] == "dual-stack" and out["esv"]["name"] == "INF"
    ea, eb = out["properties"]
    assert ea["value"] == {"time": "2023-12-19T00:30:00", "energy": 1780.6} and ea["unit"] == "kWh"
    assert eb["value"]["energy"] == 2.1


def test_counters_stay_raw_without_a_unit():
    rc, out = run("1081000102880105FF017201E0040000FE73")
    assert out["properties"][0]["value"] == 0xFE73 and out["properties"][0]["unit"] == "count"


def test_unit_and_coefficient_from_the_frame_itself():
    rc, out = run("1081000102880105FF017203D30400000064E10101E0040000FE73")
    assert out["properties"][2]["value"] == 651390.0 and out["properties"][2]["unit"] == "kWh"


def test_sentinels_are_named():
    rc, out = run("1081000102880105FF017202E7047FFFFFFEE80400327FFE")
    e7, e8 = out["properties"]
    assert e7["value"] is None and e7["status"] == "no data"
    assert e8["value"] == {"r": 5.0, "t": None} and e8["status"] == "no data"


def test_hex_frame_with_spaces_and_node_profile():
    rc, out = run("1081 0000 0EF001 0EF001 73 01 D5 04 01 028801")
    assert out["properties"][0]["value"] == ["028801"]


def test_errors_are_json_and_exit_2():
    for bad, words in (("10810001", "truncated"), ("zz", "not hex"),
                       (A1.replace(" 0018 ", " 0019 "), "DATALEN"), ("ERXUDP a b", "fields")):
        rc, out = run(bad)
        assert rc == 2 and words in out["error"], (bad, out)


def test_a_length_field_that_is_not_hex_is_named_not_a_traceback():
    for length in ("00G8", "0x18", "18", "-018"):
        p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "broute.py"), "decode",
                            A1.replace(" 0018 ", " %s " % length)], capture_output=True, text=True, timeout=30)
        assert p.returncode == 2, p.stderr
        assert "DATALEN" in json.loads(p.stdout)["error"] and "Traceback" not in p.stderr


# the same Get_Res in each layout: SENDERLLA [RSSI] SECURED [SIDE] DATALEN DATA (tools/simulator/sim_dialect.py)
HEAD = "ERXUDP FE80:0000:0000:0000:021C:6400:03CD:76A4 FE80:0000:0000:0000:021D:1290:0004:263D 0E1A 0E1A " \
       "001C640003CD76A4"
TAIL = "0018 1081100202880105FF017202E7040000029CE80400280028"


def test_secured_side_and_rssi_in_every_layout():
    layouts = (("1", "single-stack", True, None, None), ("B4 1", "single-stack", True, None, "B4"),
               ("1 0", "dual-stack", True, 0, None), ("B4 1 1", "dual-stack", True, 1, "B4"),
               ("0 1", "dual-stack", False, 1, None), ("2F 0 0", "dual-stack", False, 0, "2F"))
    for middle, dialect, secured, side, rssi in layouts:
        rc, out = run("%s %s %s" % (HEAD, middle, TAIL))
        assert rc == 0, (middle, out)
        env = out["erxudp"]
        assert (env["dialect"], env["secured"], env.get("side"), env.get("rssi")) == (dialect, secured, side, rssi)
        assert out["properties"][0]["value"] == 668


def test_the_simulators_dual_stack_lines_with_rssi_decode_as_secured():
    from sim_dialect import DIALECTS
    frame = bytes.fromhex("1081100202880105FF017202E7040000029CE80400280028")
    src = "FE80:0000:0000:0000:021C:6400:03CD:76A4"
    for lqi in (None, 0xB4):
        for secured in (0, 1):
            text = DIALECTS["bp35c0"].erxudp(src, src, 0x0E1A, 0x0E1A, "001C640003CD76A4", secured, frame,
                                             hex_payload=True, lqi=lqi, side=1).decode().strip()
            rc, out = run(text)
            assert rc == 0 and out["erxudp"]["secured"] is bool(secured), (text, out)
            assert out["erxudp"]["side"] == 1 and out["erxudp"]["dialect"] == "dual-stack"


def test_a_bad_flag_field_is_named():
    rc, out = run("%s X 0 %s" % (HEAD, TAIL))
    assert rc == 2 and "SECURED" in out["error"]


def test_unit_option_out_of_a_byte_is_a_usage_error():
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "broute.py"), "decode",
                        "1081000102880105FF017201E0040000FE73", "--unit", "1FF"], capture_output=True, text=True)
    assert p.returncode == 2 and "unit code" in p.stderr and "Traceback" not in p.stderr


def test_version():
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "broute.py"), "--version"],
                       capture_output=True, text=True)
    from broute.version import VERSION
    assert p.returncode == 0 and VERSION in p.stdout
