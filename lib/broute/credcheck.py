"""The B-route ID and password rules (docs/protocol.md section 2): why a value cannot be one.

Checked where they are read (firmware/config.py) and by Session's constructor, which drops
this module again: none of it stays on the heap while the meter is polled.
"""


def id_problem(v):
    """Why `v` cannot be a B-route ID (32 hex digits, either case: callers upper-case it), or
    None; never shows `v`. A mistyped ID only looks like "no meter" (docs/protocol.md section 2)."""
    return text_problem(v, 32, "32 hex digits", "F")


def password_problem(v):
    """Why `v` cannot be a B-route password (12 letters and digits, docs/protocol.md section 2), or None."""
    return text_problem(v, 12, "12 characters long", "Z")


def text_problem(v, n, what, top):
    """Why `v` is not `n` characters of the digits 0-9 and letters A-`top` (either case), or None."""
    if not isinstance(v, str):
        return "must be text in quotes, " + what
    if len(v) != n:
        return "must be %s (got %d)" % (what, len(v))
    for c in v:
        if not ("0" <= c <= "9" or "A" <= c <= top or "a" <= c <= top.lower()):
            return "must be %s: only the digits 0-9 and letters A-%s" % (what, top)
