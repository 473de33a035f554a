"""J11's start step (docs/j11.md section 4): reset (00D9, or the reset line), version, status,
the initial setting, the credentials. Loaded with j11ask.py by J11Driver.steps(START) for the
ladder's start step only. The B-route ID and password never leave credentials() except to
the module."""
from . import driver as dr
from .compat import const
from .j11ask import ok, until, take, W_NONE, CMD_MS, MODE_BROUTE  # take: the answers only

_STATUS, _AUTH, _INIT = const(0x0001), const(0x0054), const(0x005F)
_VERSION, _RESET, _N_BOOT = const(0x006B), const(0x00D9), const(0x6019)
_BOOT_MS = const(5000)     # 00D9 or the reset line -> 6019


async def reset(d):
    """00D9, then the 6019 boot notification; the reset line when it does not come."""
    d._held = d._up = False
    # a 6019 already on its way (power-up) must not pass for the answer to our 00D9
    await until(d, W_NONE, 200)
    d._p.reset()
    d._name = "reset"
    d._w.write(d._b.frame(_RESET))
    try:
        return await d._reply(_N_BOOT, _BOOT_MS)
    except dr.DriverError:  # no 6019: the reset line, if there is one
        if d._hard is None:
            raise
    d.hard_resets += 1
    await d._hard()
    d._p.reset()
    if not await until(d, _N_BOOT, _BOOT_MS):
        raise d._err(dr.TIMEOUT)


async def start(d):
    """Version (206B), status (2001), then the volatile initial setting: B-route mode,
    no HAN sleep, channel 4, 20 mW (docs/j11.md section 4)."""
    await ok(d, _VERSION, "version", CMD_MS)
    await ok(d, _STATUS, "status", CMD_MS)
    await ok(d, _INIT, "initial setting", CMD_MS, MODE_BROUTE, 0, 4, 0)


async def credentials(d, rbid, password):
    d._pair = bytes(rbid[-8:])
    try:
        await ok(d, _AUTH, "credentials", CMD_MS, rbid, password)
    finally:
        d._b.wipe()
