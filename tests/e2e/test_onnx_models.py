#!/usr/bin/python3
"""ONNX models exported from PyTorch compile, run and train through Anvil.

Exports examples/onnx/export_models.py's MLP and LeNet-5, then checks that:
  - `anvilc run` of each (compiled, batch 5 bound with --bind) equals
    PyTorch's output on the same input;
  - `anvilc train MODEL.onnx` makes a trainer that learns a Fashion-MNIST
    subset (the MLP for 2 epochs, LeNet for 1: accuracy well above chance);
  - the trained checkpoint exported back to ONNX (`anvilc export`, and the
    trainer's own --export-onnx) passes onnx.checker and runs through
    `anvilc run` to the trained weights' outputs.
Exits non-zero on any failure.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_training import read_idx, write_idx  # noqa: E402


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--examples", required=True)
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed; scripts/install-deps.sh installs it")
        return 1
    spec = importlib.util.spec_from_file_location(
        "export_models", os.path.join(args.examples, "onnx", "export_models.py"))
    exporter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exporter)
    failures = []

    def check(ok, what, detail=""):
        print(("ok   " if ok else "FAIL ") + what + ("" if ok else ": " + detail))
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        for name, count in (("train", 6400), ("t10k", 1024)):
            for kind in ("images-idx3", "labels-idx1"):
                f = f"{name}-{kind}-ubyte"
                write_idx(os.path.join(data, f), read_idx(f)[:count])
        x = np.random.default_rng(0).random((5, 1, 28, 28), np.float32)
        np.save(os.path.join(tmp, "x.npy"), x)

        for name, make in exporter.MODELS.items():
            torch.manual_seed(0)
            model = make()
            path = os.path.join(tmp, name + ".onnx")
            exporter.export(model, path)
            with torch.no_grad():
                want = model(torch.from_numpy(x)).numpy()
            out = os.path.join(tmp, name + "-y.npy")
            r = run([args.anvilc, "run", path, "--bind", "batch=5",
                     "--input", os.path.join(tmp, "x.npy"), "--output", out])
            ok = r.returncode == 0
            err = float(np.abs(np.load(out) - want).max()) if ok else None
            check(ok and err < 1e-4,
                  f"{name}.onnx compiled equals PyTorch (max abs error {err})",
                  r.stderr)

            trainer = os.path.join(tmp, name + "-trainer")
            r = run([args.anvilc, "train", path, "--bind", "batch=64",
                     "--loss", "cross-entropy", "--lr", "0.05",
                     "--momentum", "0.9", "-o", trainer])
            check(r.returncode == 0, f"anvilc train {name}.onnx", r.stderr)
            if r.returncode:
                continue
            epochs = 2 if name == "mlp" else 1
            report = os.path.join(tmp, name + ".json")
            ckpt = os.path.join(tmp, name + ".ckpt")
            from_trainer = os.path.join(tmp, name + "-from-trainer.onnx")
            r = run([trainer, "--data", data, "--epochs", str(epochs),
                     "--report-json", report, "--save", ckpt,
                     "--export-onnx", from_trainer])
            check(r.returncode == 0, f"the {name} trainer runs", r.stderr)
            if r.returncode:
                continue
            accuracy = json.load(open(report))[-1]["test_accuracy"]
            floor = 70.0 if name == "mlp" else 50.0  # chance is 10%
            check(accuracy > floor,
                  f"{name}.onnx trains to {accuracy:.2f}% in {epochs} epoch(s)",
                  f"expected > {floor}%")

            # Export the trained model and run it both ways.
            exported = os.path.join(tmp, name + "-trained.onnx")
            r = run([args.anvilc, "export", path, "--bind", "batch=5",
                     "--weights", ckpt, "-o", exported])
            check(r.returncode == 0, f"anvilc export of the trained {name}",
                  r.stderr)
            if r.returncode:
                continue
            import onnx
            try:
                onnx.checker.check_model(onnx.load(exported))
                check(True, f"the exported {name} passes onnx.checker")
            except Exception as e:  # noqa: BLE001
                check(False, f"the exported {name} passes onnx.checker", str(e))
            y1, y2 = (os.path.join(tmp, name + s) for s in ("-e1.npy", "-e2.npy"))
            r1 = run([args.anvilc, "run", exported, "--input", os.path.join(tmp, "x.npy"), "--output", y1])
            r2 = run([args.anvilc, "run", path, "--bind", "batch=5",
                      "--weights", ckpt, "--input", os.path.join(tmp, "x.npy"),
                      "--output", y2])
            ok = r1.returncode == 0 and r2.returncode == 0
            check(ok and np.allclose(np.load(y1), np.load(y2), atol=1e-5),
                  f"the exported {name} gives the trained model's outputs",
                  r1.stderr + r2.stderr)

            # The trainer's own --export-onnx (at the trained batch, 64).
            x64 = os.path.join(tmp, "x64.npy")
            np.save(x64, np.random.default_rng(1).random((64, 1, 28, 28), np.float32))
            y3, y4 = (os.path.join(tmp, name + s) for s in ("-t1.npy", "-t2.npy"))
            try:
                onnx.checker.check_model(onnx.load(from_trainer))
                valid = True
            except Exception as e:  # noqa: BLE001
                valid, r1 = False, e
            r3 = run([args.anvilc, "run", from_trainer, "--input", x64, "--output", y3])
            r4 = run([args.anvilc, "run", path, "--bind", "batch=64", "--weights", ckpt,
                      "--input", x64, "--output", y4])
            ok = valid and r3.returncode == 0 and r4.returncode == 0
            check(ok and np.allclose(np.load(y3), np.load(y4), atol=1e-5),
                  f"the {name} trainer's --export-onnx is valid and gives the "
                  "trained outputs", r3.stderr + r4.stderr)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
