"""What the error screen says for each session reason that needs a person: (title, what to
do). Loaded by app._help only when a session error is shown, then dropped, so these texts
are not kept on the heap."""
from broute.session import AUTH_FAILED, JOIN_NO_ANSWER, NOT_FOUND, NO_MODULE

HELP = {
    AUTH_FAILED: ("Wrong B-route login", "The meter refused the ID or password. Check broute_id "
                  "and broute_password in config.json. Still retrying."),
    JOIN_NO_ANSWER: ("Meter out of reach", "The meter did not answer the login. Move the stick "
                     "closer to the meter or a window. Still retrying."),
    NOT_FOUND: ("No meter found", "Move the stick closer to the meter or a window, and check "
                "broute_id in config.json: the meter answers only its own ID. Still searching."),
    NO_MODULE: ("Wi-SUN HAT silent", "Push the HAT in firmly. BP35A1 HAT and HAT-C1 are both "
                "looked for on G26 and G36; a HAT-C1 that stays silent: set hat to c1 in "
                "config.json. Still retrying."),
}


def other(reason):
    """Any other reason: its own words, "Title: advice"."""
    title, _, text = reason.partition(": ")
    return title or "B-route error", text or "Still retrying."
