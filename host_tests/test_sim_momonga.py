"""Fidelity: momonga 0.7.0, a mature B-route client, reads the simulated meter over a pty.

momonga sends ROPT (and WOPT 01 when the payloads are binary), SKINFO to pick
its BP35A1 or BP35C2 dialect, SKRESET, SKSREG SA2 1, SKSCAN from duration 6,
SKLL64, SKJOIN, then SKSENDTO with hex ERXUDP answers. If it cannot read the
meter, the simulator is wrong. Each session costs about 3 s of real time,
mostly momonga's own 2 s buffer drain at open.
"""
import momonga
import pytest

from sim_meter import DEFAULT_ID, DEFAULT_PASSWORD, Meter, scenario
from sim_module import Module
from sim_transport import Server


def _session(server, path, recv_timeout=12):
    mo = momonga.Momonga(DEFAULT_ID, DEFAULT_PASSWORD, path)
    mo.internal_xmit_interval = 0   # its 5 s pauses between requests are for a real radio
    mo.recv_timeout = recv_timeout
    return mo


def _serve(module, tmp_path):
    path = str(tmp_path / "ttySIM")
    server = Server(module, scale=0.01)
    server.open_pty(path)
    return server.start(), path


@pytest.mark.parametrize("dialect", ["bp35a1", "bp35c0", "rl7023-ips"])
def test_momonga_reads_power_current_energy(dialect, tmp_path):
    module = Module(dialect, Meter(scenario("normal")))
    server, path = _serve(module, tmp_path)
    try:
        with _session(server, path) as mo:
            power = mo.get_instantaneous_power()
            amps = mo.get_instantaneous_current()
            kwh = mo.get_measured_cumulative_energy()
        assert 50 < power < 6000
        assert 0 < amps["r phase current"] < 60 and 0 < amps["t phase current"] < 60
        assert 12345.6 <= kwh < 12345.6 + 50
        # momonga binds its ROPT/WOPT check to hex payloads; IPS has no ROPT at all
        assert module.wopt_writes == (0 if dialect == "rl7023-ips" else 1)
        with _session(server, path) as mo:      # a second boot must not write the flash again
            assert isinstance(mo.get_instantaneous_power(), int)
        assert module.wopt_writes == (0 if dialect == "rl7023-ips" else 1)
    finally:
        server.stop()


def test_momonga_solar_export_no_d3_and_a_lost_reply(tmp_path):
    module = Module("bp35a1", Meter(scenario("solar", coefficient=None, clock_start="2024-06-01T12:00:00")))
    server, path = _serve(module, tmp_path)
    try:
        with _session(server, path, recv_timeout=1) as mo:
            assert mo.energy_coefficient == 1            # D3 answered with Get_SNA
            server.inject("drop")
            assert mo.get_instantaneous_power() < 0      # exporting, decoded as signed
            assert "drop" in [n for _, n in module.faults.fired]
            assert mo.get_measured_cumulative_energy(reverse=True) >= 2345.6
    finally:
        server.stop()
