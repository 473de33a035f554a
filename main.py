"""Start the firmware; the modules are compiled .mpy files in /lib.

app.main() shows errors on the screen and retries by itself. Only a broken or
half-copied install ends up here: stay at the REPL so `make deploy` can fix it.
"""
try:
    import app
except ImportError as e:
    print("main.py: the firmware is not installed completely (%s): run make deploy" % e)
else:
    app.main()
