"""What the end-to-end tests that drive anvilc and its executables share:
running a command (output captured as text) and a list of named checks,
each printed as it is made, whose failures decide the exit status."""

import subprocess


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


class Checks:
    """`check(ok, what)` prints ok/FAIL and what was checked; the failed
    ones stay in `check.failures`."""

    def __init__(self):
        self.failures = []

    def __call__(self, ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures.append(what)
