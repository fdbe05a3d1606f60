"""Mangles an ONNX model many ways (bytes overwritten, cut short) and runs
`anvilc check` on each: every run must exit 0 or 1 with a message, never
crash. Usage: fuzz_onnx.py ANVILC MODEL WORKDIR [COUNT]"""
import random
import subprocess
import sys

anvilc, model, work = sys.argv[1:4]
count = int(sys.argv[4]) if len(sys.argv) > 4 else 60
data = open(model, "rb").read()
rng = random.Random(0)
crashes = 0
for i in range(count):
    b = bytearray(data)
    if i % 2:
        b = b[: rng.randrange(len(b))]
    else:
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    path = f"{work}/fuzz.onnx"
    open(path, "wb").write(bytes(b))
    p = subprocess.run([anvilc, "check", path, "--bind", "batch=2"],
                       capture_output=True, timeout=120)
    if p.returncode not in (0, 1) or (p.returncode == 1 and b"error" not in p.stderr):
        crashes += 1
        open(f"{work}/crash{i}.onnx", "wb").write(bytes(b))
        print(f"variant {i}: exit {p.returncode}: {p.stderr[-200:]!r}")
print(f"{count} mangled models, {crashes} crashed")
