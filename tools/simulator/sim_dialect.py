"""SKSTACK IP output lines of each module family, byte for byte.

One place holds what differs between the families (docs/protocol.md section 1):
the SIDE field of the dual-stack modules, the 16-bit address or SIDE in
EINFO, hex-only payloads on the RL7023 IPS. The module emulation formats
every line through here and never spells a field layout itself.
"""

MULTICAST = "FF02:0000:0000:0000:0000:0000:0000:0001"


class Dialect:
    """Field layout and identity of one module family."""

    def __init__(self, name, dual, version, hex_only, has_opt):
        self.name = name
        self.dual = dual          # SIDE fields (BP35C0, RL7023 DSS)
        self.version = version    # SKVER answer
        self.hex_only = hex_only  # payloads always hex ASCII (RL7023 IPS)
        self.has_opt = has_opt    # ROPT/WOPT exist (ROHM firmware)
        # SKSENDTO: handle ip port sec [side] len, then a space and the data
        self.sendto_args = 6 if dual else 5
        self.scan_args = 4 if dual else 3

    def event(self, num, ip, param=None, side=0):
        """`EVENT nn ip [side] [param]`; SIDE only on dual-stack modules."""
        out = "EVENT %02X %s" % (num, ip)
        if self.dual:
            out += " %d" % side
        if param is not None:
            out += " %02X" % param
        return (out + "\r\n").encode()

    def einfo(self, ip, mac, channel, pan):
        # single-stack: the 16-bit short address FFFE; dual-stack: the SIDE 0
        last = "0" if self.dual else "FFFE"
        return ("EINFO %s %s %02X %04X %s\r\n" % (ip, mac, channel, pan, last)).encode()

    def epandesc(self, channel, pan, mac, lqi, pair_id=None, side=0):
        lines = ["EPANDESC", "  Channel:%02X" % channel, "  Channel Page:09",
                 "  Pan ID:%04X" % pan, "  Addr:%s" % mac, "  LQI:%02X" % lqi]
        if self.dual:
            lines.append("  Side:%d" % side)
        if pair_id is not None:
            lines.append("  PairID:%s" % pair_id)
        return ("\r\n".join(lines) + "\r\n").encode()

    def erxudp(self, src, dst, sport, dport, src_mac, secured, data,
               hex_payload, lqi=None, side=0):
        """ERXUDP with binary data (read by DATALEN) or hex ASCII data.

        `lqi` is the signal-quality field that `SKSREG SA2 1` adds on
        dual-stack modules, before SECURED.
        """
        head = "ERXUDP %s %s %04X %04X %s" % (src, dst, sport, dport, src_mac)
        if self.dual and lqi is not None:
            head += " %02X" % lqi
        head += " %d" % secured
        if self.dual:
            head += " %d" % side
        head += " %04X " % len(data)
        body = data.hex().upper().encode() if hex_payload else bytes(data)
        return head.encode() + body + b"\r\n"


DIALECTS = {
    "bp35a1": Dialect("bp35a1", dual=False, version="1.2.10", hex_only=False, has_opt=True),
    "bp35c0": Dialect("bp35c0", dual=True, version="1.5.2", hex_only=False, has_opt=True),
    "rl7023-ips": Dialect("rl7023-ips", dual=False, version="1.2.8", hex_only=True, has_opt=False),
}


def link_local(mac):
    """FE80 address of a 64-bit MAC (hex text): the U/L bit flipped, full colon form."""
    b = bytearray(bytes.fromhex(mac))
    b[0] ^= 0x02
    return "FE80:0000:0000:0000:" + ":".join(b[i:i + 2].hex().upper() for i in range(0, 8, 2))


def is_full_ipv6(text):
    """SKSTACK wants all eight groups, four hex digits each."""
    groups = text.split(":")
    return len(groups) == 8 and all(len(g) == 4 and _is_hex(g) for g in groups)


def _is_hex(text):
    return bool(text) and all(c in "0123456789ABCDEFabcdef" for c in text)


def parse_hex(text, digits, lo=0, hi=None):
    """Int from at most `digits` hex characters within [lo, hi], else None."""
    if not _is_hex(text) or len(text) > digits:
        return None
    v = int(text, 16)
    if v < lo or (hi is not None and v > hi):
        return None
    return v
