#!/usr/bin/python3
"""Quantization-aware training end to end (anvilc train --qat).

LeNet (examples/lenet.mlir) trained in f32 on a Fashion-MNIST subset, then
`anvilc train --qat --init-from` that checkpoint: every layer fake-quantized
with ranges calibrated on the training samples; one QAT epoch. Checks:
- the report line and the `<weight>.qat_range` parameters: in the trainer's
  weights file, the calibrated input ranges (numpy's min and max of the
  layer inputs for conv1: the normalized images), unchanged by training in
  the checkpoint (fixed: no gradient, no update) while the weights changed;
- training through the fake quantization works (QAT test accuracy not below
  the f32 one by more than 2 points);
- `anvilc quantize --weights QAT_CKPT` takes those ranges (the report says
  so for every layer) and the int8 model's test accuracy equals the QAT
  trainer's within 0.4 points (the same integer grid; only f32 summation
  order and the conv biases' rounding to the accumulator grid differ);
- with --per-channel, the matmuls' ranges are `<weight>.qat_range_per_column`
  and `anvilc quantize --weights` that checkpoint quantizes them per column
  without being told (the report says why), to the QAT trainer's accuracy;
  quantizing a checkpoint on the other grid (--per-channel=false on a
  per-column one, --per-channel on a per-tensor one) is an error;
- the errors: --qat without --init-from, calibration options without --qat.
"""
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks, must, run  # noqa: E402
from idx import read_idx  # noqa: E402
from weights import read_weights  # noqa: E402

TRAIN, TEST = 4096, 1024


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--examples", required=True)
    args = ap.parse_args()
    anvilc, lenet = args.anvilc, os.path.join(args.examples, "lenet.mlir")
    check = Checks()
    images, labels = read_idx("train-images-idx3-ubyte"), read_idx("train-labels-idx1-ubyte")
    timages, tlabels = read_idx("t10k-images-idx3-ubyte"), read_idx("t10k-labels-idx1-ubyte")
    with tempfile.TemporaryDirectory() as tmp:
        def path(name):
            return os.path.join(tmp, name)
        np.save(path("x.npy"), images[:TRAIN].reshape(TRAIN, 1, 28, 28))
        np.save(path("y.npy"), labels[:TRAIN].astype(np.int64))
        np.save(path("xt.npy"), timages[:TEST].reshape(TEST, 1, 28, 28))
        np.save(path("yt.npy"), tlabels[:TEST].astype(np.int64))
        data = ["--train-data", path("x.npy"), "--train-labels", path("y.npy"),
                "--test-data", path("xt.npy"), "--test-labels", path("yt.npy")]

        def accuracy(report):
            return json.load(open(report))[-1]["test_accuracy"] / 100  # percent

        # f32 first.
        must([anvilc, "train", lenet, "--lr", "0.05", "-o", path("ft")])
        must([path("ft"), *data, "--epochs", "3", "--save", path("f32.ckpt"),
              "--report-json", path("f32.json")])
        f32_acc = accuracy(path("f32.json"))
        check(f32_acc > 0.6, f"f32 LeNet learned: test accuracy {f32_acc:.4f}")

        # QAT from it.
        out = must([anvilc, "train", lenet, "--lr", "0.02", "--qat", "--init-from",
                    path("f32.ckpt"), "--calibrate", path("x.npy"), "--samples", "256",
                    "-o", path("qt")])
        check("anvilc train --qat: 5 of 5 layers fake-quantized" in out,
              "the QAT line says every layer is fake-quantized: " + out.strip()[:200])
        before = read_weights(path("qt.weights"))
        ranges = {k: v for k, v in before.items() if k.endswith(".qat_range")}
        check(sorted(ranges) == sorted(f"{n}.weight.qat_range" for n in
                                       ("conv1", "conv2", "fc1", "fc2", "fc3")),
              f"one range parameter per layer: {sorted(ranges)}")
        x01 = images[:256].astype(np.float32) / 255
        check(np.array_equal(ranges.get("conv1.weight.qat_range"),
                             np.array([x01.min(), x01.max()], np.float32)),
              f"conv1's range is its calibration input's min and max "
              f"({ranges.get('conv1.weight.qat_range')})")
        must([path("qt"), *data, "--epochs", "1", "--save", path("qat.ckpt"),
              "--report-json", path("qat.json")])
        after = read_weights(path("qat.ckpt"))
        check(all(np.array_equal(after.get(k), v) for k, v in ranges.items()),
              "the ranges are fixed: the checkpoint's equal the starting ones")
        check(not np.array_equal(after["conv1.weight"], before["conv1.weight"]),
              "the weights trained")
        check(all(k + ".momentum" not in after and k + ".adam_m" not in after
                  for k in ranges), "no optimizer state for the ranges")
        qat_acc = accuracy(path("qat.json"))
        check(qat_acc >= f32_acc - 0.02,
              f"QAT test accuracy {qat_acc:.4f} within 2 points of f32's {f32_acc:.4f}")

        # Its checkpoint quantizes with the ranges it was trained with.
        r = run([anvilc, "quantize", lenet, "--weights", path("qat.ckpt"), "--calibrate",
                 path("xt.npy"), "--labels", path("yt.npy"), "--samples", str(TEST),
                 "--no-layer-sqnr", "--no-layer-times", "--report-json", path("q.json"),
                 "-o", path("q.mlir")])
        check(r.returncode == 0, "anvilc quantize --weights qat.ckpt: " + r.stderr.strip())
        if r.returncode == 0:
            q = json.load(open(path("q.json")))
            check(all(l["range_from_qat"] for l in q["layers"]) and len(q["layers"]) == 5,
                  "every layer's range came from the QAT checkpoint")
            check("5 ranges from the QAT checkpoint" in r.stdout,
                  "the report says where the ranges came from")
            conv1 = q["layers"][0]
            check([conv1["range_min"], conv1["range_max"]] ==
                  [float(v) for v in ranges["conv1.weight.qat_range"]],
                  "conv1's quantized range is its QAT range")
            int8_acc = q["accuracy_int8"]
            check(abs(int8_acc - qat_acc) <= 0.004,
                  f"int8 test accuracy {int8_acc:.4f} = the QAT trainer's "
                  f"{qat_acc:.4f} (within 0.4 points)")

        # Per output column: the checkpoint says so, and quantize follows it.
        out = must([anvilc, "train", lenet, "--lr", "0.02", "--qat", "--per-channel",
                    "--init-from", path("f32.ckpt"), "--calibrate", path("x.npy"),
                    "--samples", "256", "-o", path("qpc")])
        names = sorted(k for k in read_weights(path("qpc.weights")) if ".qat_range" in k)
        check(names == sorted(["conv1.weight.qat_range", "conv2.weight.qat_range"] +
                              [f"fc{i}.weight.qat_range_per_column" for i in (1, 2, 3)]),
              f"--per-channel: the matmuls' ranges say per column ({names})")
        must([path("qpc"), *data, "--epochs", "1", "--save", path("qpc.ckpt"),
              "--report-json", path("qpc.json")])
        qpc_acc = accuracy(path("qpc.json"))
        r = run([anvilc, "quantize", lenet, "--weights", path("qpc.ckpt"), "--calibrate",
                 path("xt.npy"), "--labels", path("yt.npy"), "--samples", str(TEST),
                 "--no-layer-sqnr", "--no-layer-times", "--report-json", path("qpc-q.json"),
                 "-o", path("qpc.mlir")])
        check(r.returncode == 0 and "matmuls' per output column" in r.stdout and
              "per-column weight scales" in r.stdout,
              "quantize --weights a per-column QAT checkpoint, no --per-channel: per "
              "column, and the report says why: " + (r.stdout + r.stderr)[:300])
        if r.returncode == 0:
            q = json.load(open(path("qpc-q.json")))
            check(q.get("per_channel") is True and
                  all(l["range_from_qat"] for l in q["layers"]),
                  "the JSON: per_channel true, every range from the checkpoint")
            check(abs(q["accuracy_int8"] - qpc_acc) <= 0.004,
                  f"int8 test accuracy {q['accuracy_int8']:.4f} = the per-column QAT "
                  f"trainer's {qpc_acc:.4f} (within 0.4 points)")
        for ckpt, flag, want in ((path("qpc.ckpt"), "--per-channel=false",
                                  "drop --per-channel=false"),
                                 (path("qat.ckpt"), "--per-channel",
                                  "trained on per-tensor weight scales")):
            r = run([anvilc, "quantize", lenet, "--weights", ckpt, "--calibrate",
                     path("xt.npy"), "--samples", "64", "--no-layer-sqnr",
                     "--no-layer-times", flag, "-o", path("e.mlir")])
            check(r.returncode != 0 and want in r.stderr and
                  not os.path.exists(path("e.mlir")),
                  f"{flag} against the checkpoint's grid: an error, nothing written: "
                  + r.stderr.strip()[:200])

        # Errors.
        r = run([anvilc, "train", lenet, "--qat", "--calibrate", path("x.npy"), "-o", path("e")])
        check(r.returncode != 0 and "give --init-from a float checkpoint" in r.stderr,
              "--qat without --init-from: " + r.stderr.strip())
        r = run([anvilc, "train", lenet, "--calibrate", path("x.npy"), "-o", path("e")])
        check(r.returncode != 0 and "go with --qat" in r.stderr,
              "--calibrate without --qat: " + r.stderr.strip())
        r = run([anvilc, "train", lenet, "--qat", "--init-from", path("f32.ckpt"), "-o", path("e")])
        check(r.returncode != 0 and "--calibrate DATA" in r.stderr,
              "--qat without --calibrate: " + r.stderr.strip())
        check(not os.path.exists(path("e")), "no trainer written on an error")
    if check.failures:
        print(f"{len(check.failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
