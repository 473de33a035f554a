"""Runs first after every reset. Keep it empty of work: main.py starts the app.

The watchdog is armed later, by the app, so a REPL session after Ctrl-C is safe.
"""
