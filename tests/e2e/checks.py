"""What the end-to-end tests that drive anvilc and its executables share:
running a command (output captured as text), one that must succeed, and a list of named checks,
each printed as it is made, whose failures decide the exit status."""

import subprocess
import sys


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def must(cmd):
    """Runs a command that has to succeed (a compile, a run whose output is
    checked next): its stdout, or the test ends naming the command."""
    result = run(cmd)
    if result.returncode != 0:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{result.stdout}{result.stderr}")
    return result.stdout


class Checks:
    """`check(ok, what)` prints ok/FAIL and what was checked; the failed
    ones stay in `check.failures`."""

    def __init__(self):
        self.failures = []

    def __call__(self, ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures.append(what)
