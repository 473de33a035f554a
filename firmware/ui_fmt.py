"""Format numbers into a reused bytearray: per-frame figures without new strings."""


def put_int(buf, pos, v):
    """Write the decimal int v at buf[pos:]; returns the position after it."""
    if v < 0:
        buf[pos] = 45  # '-'
        pos += 1
        v = -v
    start = pos
    while True:
        buf[pos] = 48 + v % 10
        pos += 1
        v //= 10
        if not v:
            break
    i, j = start, pos - 1
    while i < j:
        buf[i], buf[j] = buf[j], buf[i]
        i += 1
        j -= 1
    return pos


def put_tenths(buf, pos, v10):
    """Write v10 / 10 with one decimal ("12.3", "-0.5")."""
    if v10 < 0:
        buf[pos] = 45
        pos += 1
        v10 = -v10
    pos = put_int(buf, pos, v10 // 10)
    buf[pos] = 46  # '.'
    buf[pos + 1] = 48 + v10 % 10
    return pos + 2


def put_str(buf, pos, s):
    """Copy the bytes s (a bytes constant: no per-character objects)."""
    n = len(s)
    buf[pos:pos + n] = s
    return pos + n


def put_age(buf, pos, seconds):
    """Reading age as 9s / 12m / 3h: short enough for the status bar corner."""
    if seconds < 60:
        return put_str(buf, put_int(buf, pos, seconds), b"s")
    if seconds < 3600:
        return put_str(buf, put_int(buf, pos, seconds // 60), b"m")
    return put_str(buf, put_int(buf, pos, seconds // 3600), b"h")
