"""ECHONET Lite format-1 frames: parse without copying, build into a reused buffer.

Frame layout (ECHONET Lite spec, part II ch. 3):
EHD1 EHD2 | TID(2) | SEOJ(3) | DEOJ(3) | ESV | OPC | OPC x (EPC PDC EDT[PDC]).
"""
from array import array

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

# ESV codes: requests, answers, refusals (private where no other module needs one:
# a private const() is folded in and costs no heap).
_SETI = const(0x60)
_SETC = const(0x61)
GET = const(0x62)
INF_REQ = const(0x63)
_SETGET = const(0x6E)
SET_RES = const(0x71)
GET_RES = const(0x72)
INF = const(0x73)
INFC = const(0x74)
_INFC_RES = const(0x7A)
_SETGET_RES = const(0x7E)
_SETI_SNA = const(0x50)
SETC_SNA = const(0x51)
GET_SNA = const(0x52)
INF_SNA = const(0x53)
_SETGET_SNA = const(0x5E)


# Objects as ints (group, class, instance), so comparing them allocates nothing.
CONTROLLER = const(0x05FF01)
METER = const(0x028801)
NODE_PROFILE = const(0x0EF001)

_EHD1 = const(0x10)
_EHD2 = const(0x81)  # format 1 (specified message format)
_TID = const(2)
_SEOJ = const(4)
_DEOJ = const(7)
_ESV = const(10)
_OPC = const(11)
_PROPS = const(12)
_MAX_PROPS = const(64)  # more than any meter frame; SetGet (two OPC blocks) is not supported


class EchonetError(ValueError):
    """A frame that is not valid ECHONET Lite format 1; the message says what is wrong."""


def _eoj(b, i):
    return (b[i] << 16) | (b[i + 1] << 8) | b[i + 2]


def _put_eoj(b, i, eoj):
    b[i] = (eoj >> 16) & 0xFF
    b[i + 1] = (eoj >> 8) & 0xFF
    b[i + 2] = eoj & 0xFF


class Frame:
    """A parsed view on a received frame; reuse one instance to avoid allocating per frame."""

    def __init__(self):
        self._mv = None
        self._at = array("H", bytes(2 * _MAX_PROPS))  # offset of each EPC in the frame
        self.tid = self.seoj = self.deoj = self.esv = self.opc = 0

    def parse(self, buf):
        """Validate in a fixed order and index the properties; raises EchonetError."""
        self.opc = 0  # a failed parse leaves no stale view behind
        self._mv = None
        mv = buf if isinstance(buf, memoryview) else memoryview(buf)
        n = len(mv)
        if n < _PROPS:
            raise EchonetError("truncated: %d bytes, a frame has at least 12" % n)
        if mv[0] != _EHD1 or mv[1] != _EHD2:
            raise EchonetError("not ECHONET Lite format 1: EHD %02X%02X" % (mv[0], mv[1]))
        opc = mv[_OPC]
        if opc == 0:
            raise EchonetError("OPC is 0: no properties")
        if opc > _MAX_PROPS:
            raise EchonetError("OPC %d exceeds the %d supported" % (opc, _MAX_PROPS))
        at = self._at
        pos = _PROPS
        for i in range(opc):
            if pos + 2 > n:
                raise EchonetError("OPC mismatch: %d properties declared, frame ends after %d" % (opc, i))
            at[i] = pos
            pos += 2 + mv[pos + 1]
            if pos > n:
                raise EchonetError("PDC of EPC %02X runs %d bytes past the end" % (mv[at[i]], pos - n))
        if pos != n:
            raise EchonetError("%d trailing bytes after %d properties" % (n - pos, opc))
        self._mv = mv
        self.tid = (mv[_TID] << 8) | mv[_TID + 1]
        self.seoj = _eoj(mv, _SEOJ)
        self.deoj = _eoj(mv, _DEOJ)
        self.esv = mv[_ESV]
        self.opc = opc
        return self

    def _pos(self, i):
        if not 0 <= i < self.opc:
            raise IndexError("property index")
        return self._at[i]

    def epc(self, i):
        return self._mv[self._pos(i)]

    def pdc(self, i):
        return self._mv[self._pos(i) + 1]

    def edt(self, i):
        p = self._pos(i)
        return self._mv[p + 2:p + 2 + self._mv[p + 1]]

    def find(self, epc):
        for i in range(self.opc):
            if self._mv[self._at[i]] == epc:
                return i
        return -1


class Tids:
    """Transaction IDs 0..0xFFFF, wrapping, so replies can be matched to requests."""

    def __init__(self, start=0):
        self._next = start & 0xFFFF

    def next(self):
        t = self._next
        self._next = (t + 1) & 0xFFFF
        return t


class Builder:
    """Builds request frames into one reused buffer (the UART writer sends the returned view)."""

    def __init__(self, size=256, seoj=CONTROLLER):
        self._buf = bytearray(size)
        self._mv = memoryview(self._buf)
        self._seoj = seoj

    def _head(self, tid, seoj, deoj, esv, opc):
        b = self._buf
        b[0] = _EHD1
        b[1] = _EHD2
        b[2] = (tid >> 8) & 0xFF
        b[3] = tid & 0xFF
        _put_eoj(b, _SEOJ, seoj)
        _put_eoj(b, _DEOJ, deoj)
        b[_ESV] = esv
        b[_OPC] = opc

    def _room(self, n):
        if n > len(self._buf):
            raise EchonetError("frame of %d bytes does not fit the %d-byte buffer" % (n, len(self._buf)))

    def get(self, tid, deoj, epcs):
        """Get for several EPCs in one frame (meters answer them in one Get_Res)."""
        count = len(epcs)
        if not 0 < count <= _MAX_PROPS:
            raise EchonetError("Get needs 1 to %d EPCs, got %d" % (_MAX_PROPS, count))
        n = _PROPS + 2 * count
        self._room(n)
        self._head(tid, self._seoj, deoj, GET, count)
        b = self._buf
        pos = _PROPS
        for epc in epcs:
            b[pos] = epc
            b[pos + 1] = 0
            pos += 2
        return self._mv[:n]

    def setc(self, tid, deoj, epc, edt):
        """SetC of one property (e.g. E5, the day for E2/E4 history)."""
        n = _PROPS + 2 + len(edt)
        if len(edt) > 255:
            raise EchonetError("EDT of %d bytes exceeds PDC 255" % len(edt))
        self._room(n)
        self._head(tid, self._seoj, deoj, _SETC, 1)
        b = self._buf
        b[_PROPS] = epc
        b[_PROPS + 1] = len(edt)
        b[_PROPS + 2:n] = edt
        return self._mv[:n]

    def infc_res(self, frame):
        """INFC_Res to an INFC: same TID, objects swapped, each EPC echoed with PDC 0."""
        if frame.esv != INFC:
            raise EchonetError("INFC_Res answers INFC (74), not ESV %02X" % frame.esv)
        n = _PROPS + 2 * frame.opc
        self._room(n)
        self._head(frame.tid, frame.deoj, frame.seoj, _INFC_RES, frame.opc)
        b = self._buf
        pos = _PROPS
        for i in range(frame.opc):
            b[pos] = frame.epc(i)
            b[pos + 1] = 0
            pos += 2
        return self._mv[:n]
