"""SKSTACK IP command lines (docs/protocol.md section 2), built per dialect.

Start-up commands allocate (they run once); the SKSENDTO header used by every poll is
built once per join into a bytearray and only its length digits are patched.
"""
from skstack import _SIDE_ARG

_HEX = b"0123456789ABCDEF"


def sreg(reg, value, width):
    return b"SKSREG %s %0*X\r\n" % (reg, width, value) if width else b"SKSREG %s %X\r\n" % (reg, value)


def scan(dialect, duration):
    # mode 2 = active scan with the pairing-ID element; FFFFFFFF = channels 33-60
    return b"SKSCAN 2 FFFFFFFF %X%s\r\n" % (duration, _SIDE_ARG[dialect])


def setpwd(password):
    return b"SKSETPWD %X %s\r\n" % (len(password), password)


def setrbid(rbid):
    return b"SKSETRBID %s\r\n" % rbid


def mask(line):
    """A command line safe for the log: the password and the B-route ID become asterisks."""
    for name in (b"SKSETPWD ", b"SKSETRBID "):
        if line[:len(name)] == name:
            return str(name, "ascii") + "*" * 8
    return str(bytes(line).rstrip(), "ascii")


class SendTo:
    """`SKSENDTO 1 <ip> 0E1A 1 [0 ]LLLL ` for one destination; raw data follows, no CRLF."""

    def __init__(self, dialect, ip):
        self.buf = bytearray(b"SKSENDTO 1 %s 0E1A 1%s 0000 " % (ip, _SIDE_ARG[dialect]))
        self._at = len(self.buf) - 5

    def header(self, n):
        b, at = self.buf, self._at
        for i in range(4):
            b[at + 3 - i] = _HEX[(n >> (4 * i)) & 15]
        return self.buf
