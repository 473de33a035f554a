"""The firmware's version: the one place it is written. The info screen and the PC reader show it."""
VERSION = "0.2.0"
