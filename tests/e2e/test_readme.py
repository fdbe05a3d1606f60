#!/usr/bin/python3
"""Runs the README's tour as written, so that it cannot go stale.

Every ```sh block under the README's "## A short tour" heading (up to the
next "## " heading: its ### subsections included) runs in order, each as one
`bash -euo pipefail` script, in one fresh scratch directory that looks like
the repository root: a symlink to each top-level entry of the repository,
and `build` pointing at the build tree under test. The files the commands
write stay in the scratch directory. Exits non-zero, showing the failing
block and its output, if any command fails.

    test_readme.py --readme README.md --build BUILD_DIR [--keep]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SECTION = "## A short tour"


def tour_blocks(readme):
    """The ```sh blocks of the tour section, in order."""
    with open(readme) as f:
        text = f.read()
    start = text.index("\n" + SECTION + "\n")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end >= 0 else len(text)]
    return re.findall(r"^```sh\n(.*?)^```$", section, re.M | re.S)


def scratch_root(root, build, tmp):
    """`tmp` made to look like the repository root, with `build` -> build."""
    for name in os.listdir(root):
        if name == ".git" or name == "build" or name.startswith("build-"):
            continue
        os.symlink(os.path.join(root, name), os.path.join(tmp, name))
    os.symlink(build, os.path.join(tmp, "build"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", required=True)
    parser.add_argument("--build", required=True, help="the build directory")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch directory")
    args = parser.parse_args()
    readme = os.path.abspath(args.readme)
    blocks = tour_blocks(readme)
    if not blocks:
        sys.exit(f"{readme}: no ```sh blocks under '{SECTION}'")

    tmp = tempfile.mkdtemp(prefix="anvil-readme-")
    scratch_root(os.path.dirname(readme), os.path.abspath(args.build), tmp)
    failed = False
    for i, block in enumerate(blocks, 1):
        start = time.time()
        # -x echoes each command, so the output shows which one failed.
        result = subprocess.run(["bash", "-euxo", "pipefail", "-c", block],
                                cwd=tmp, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        print(f"block {i}/{len(blocks)}: exit {result.returncode}, "
              f"{time.time() - start:.1f} s")
        if result.returncode != 0:
            print(f"--- block {i} of the tour failed; its script:\n{block}"
                  f"--- its output (the failing command is the last "
                  f"'+ ' line):\n{result.stdout[-6000:]}")
            failed = True
            break
    if args.keep or failed:
        print(f"scratch directory kept: {tmp}")
    else:
        shutil.rmtree(tmp)
    if failed:
        sys.exit(1)
    print(f"all {len(blocks)} blocks of the tour ran")


if __name__ == "__main__":
    main()
