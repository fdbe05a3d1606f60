#!/usr/bin/python3
"""Compiled training, end to end, on a Fashion-MNIST subset.

Writes a subset of Debian's Fashion-MNIST (6400 training and 1024 test
images) as plain, uncompressed IDX files, compiles examples/mlp.mlir with
`anvilc train`, and checks that:
  - two epochs lower the loss and reach a clear accuracy (> 70 %);
  - the compiled train step equals the reference interpreter's on the same
    batch: the loss, and every parameter after the step;
  - training 2 epochs straight and training 1, saving, then resuming for the
    2nd give byte-identical checkpoints;
  - frozen parameters (--freeze) come out bit-identical;
  - a truncated dataset file and a corrupt checkpoint give clear errors;
  - the trained checkpoint compiles into an inference executable whose
    predictions agree with the trainer's test accuracy;
  - a model built from the ops whose gradients came last (depthwise
    convolution, average pooling with padding and ceil mode, a reversed
    strided slice, a gather with repeated indices) trains: its loss falls,
    and its compiled train step's loss equals the reference's.
Exits non-zero on any failure.
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"

# Depthwise convolution, average pooling, a reversed strided slice and a
# gather whose indices repeat (each class row is gathered twice, then
# averaged), all on the path of trainable parameters.
GRADIENT_OPS_MODEL = """\
module {
  func.func @forward(%x: tensor<64x1x28x28xf32>) -> tensor<64x10xf32> {
    %k1 = anvil.param "conv1.weight" init = "kaiming_uniform" : tensor<4x1x3x3xf32>
    %c1 = anvil.conv2d %x, %k1 {pads = array<i64: 1, 1, 1, 1>} : tensor<64x1x28x28xf32>, tensor<4x1x3x3xf32>
    %kd = anvil.param "dw.weight" init = "kaiming_uniform" : tensor<8x1x3x3xf32>
    %bd = anvil.param "dw.bias" init = "zeros" : tensor<8xf32>
    %c2 = anvil.conv2d %c1, %kd, %bd {pads = array<i64: 1, 1, 1, 1>, groups = 4 : i64} : tensor<64x4x28x28xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>
    %r2 = anvil.relu %c2 : tensor<64x8x28x28xf32>
    %p = anvil.avg_pool2d %r2 {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode} : tensor<64x8x28x28xf32>
    %s = anvil.slice %p {starts = array<i64: 0, 7, 0, 0>, ends = array<i64: 64, -1, 14, 14>, steps = array<i64: 1, -2, 1, 1>} : tensor<64x8x15x15xf32>
    %f = anvil.flatten %s : tensor<64x4x14x14xf32>
    %table = anvil.param "table" init = "xavier_uniform" : tensor<10x784xf32>
    %ids = anvil.constant dense<[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]> : tensor<2x10xi64>
    %w = anvil.gather %table, %ids {axis = 0 : i64} : tensor<10x784xf32>, tensor<2x10xi64>
    %wm = anvil.reduce_mean %w {axes = array<i64: 0>} : tensor<2x10x784xf32>
    %logits = anvil.matmul %f, %wm {transpose_b} : tensor<64x784xf32>, tensor<10x784xf32>
    return %logits : tensor<64x10xf32>
  }
  func.func @loss(%logits: tensor<64x10xf32>, %labels: tensor<64xi64>) -> tensor<f32> {
    %l = anvil.softmax_cross_entropy %logits, %labels : tensor<64x10xf32>, tensor<64xi64>
    return %l : tensor<f32>
  }
}
"""


def read_idx(name):
    with gzip.open(os.path.join(DATA, name + ".gz")) as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(dims)


def write_idx(path, array):
    header = struct.pack(">I", 0x800 | array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    with open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def read_weights(path):
    """name -> bytes of an Anvil weights file (runtime/Weights.h)."""
    raw = open(path, "rb").read()
    assert raw[:8] == b"ANVILWTS"
    count, = struct.unpack("<I", raw[12:16])
    at, out = 16, {}
    for _ in range(count):
        n, = struct.unpack("<I", raw[at:at + 4])
        name = raw[at + 4:at + 4 + n].decode()
        size, = struct.unpack("<Q", raw[at + 4 + n:at + 12 + n])
        out[name] = raw[at + 12 + n:at + 12 + n + size]
        at += 12 + n + size
    return out


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--examples", required=True)
    args = ap.parse_args()
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        write_idx(os.path.join(data, "train-images-idx3-ubyte"), read_idx("train-images-idx3-ubyte")[:6400])
        write_idx(os.path.join(data, "train-labels-idx1-ubyte"), read_idx("train-labels-idx1-ubyte")[:6400])
        write_idx(os.path.join(data, "t10k-images-idx3-ubyte"), read_idx("t10k-images-idx3-ubyte")[:1024])
        write_idx(os.path.join(data, "t10k-labels-idx1-ubyte"), read_idx("t10k-labels-idx1-ubyte")[:1024])

        model = os.path.join(args.examples, "mlp.mlir")
        trainer = os.path.join(tmp, "trainer")
        r = run([args.anvilc, "train", model, "--lr", "0.05", "--momentum", "0.9", "-o", trainer])
        check(r.returncode == 0, "anvilc train compiles the MLP" + (": " + r.stderr if r.returncode else ""))

        # Two epochs: the loss falls and the accuracy is clear.
        report = os.path.join(tmp, "report.json")
        full = os.path.join(tmp, "full.ckpt")
        r = run([trainer, "--data", data, "--epochs", "2", "--save", full, "--report-json", report])
        check(r.returncode == 0, "the trainer runs" + (": " + r.stderr if r.returncode else ""))
        epochs = json.load(open(report))
        check(len(epochs) == 2 and epochs[1]["train_loss"] < epochs[0]["train_loss"],
              f"the training loss falls ({[round(e['train_loss'], 4) for e in epochs]})")
        check(epochs[-1]["test_accuracy"] > 70.0,
              f"test accuracy after 2 epochs on 6400 images is clear ({epochs[-1]['test_accuracy']:.2f}%)")
        check(set(epochs[0]) == {"epoch", "seconds", "train_loss", "test_loss", "test_accuracy",
                                 "images_per_second"}, "the report has the documented fields")

        # The compiled step equals the reference's on the same batch.
        dump = os.path.join(tmp, "dump")
        run([args.anvilc, "train", model, "--lr", "0.05", "--momentum", "0.9", "-o",
             os.path.join(tmp, "t2"), "--dump-phases-to", dump])
        images = read_idx("train-images-idx3-ubyte")[:64].reshape(64, 1, 28, 28) / np.float32(255)
        labels = read_idx("train-labels-idx1-ubyte")[:64].astype(np.int64)
        np.save(os.path.join(tmp, "x.npy"), images.astype(np.float32))
        np.save(os.path.join(tmp, "l.npy"), labels)
        np.save(os.path.join(tmp, "lr.npy"), np.array(0.05, np.float32))
        step_ir = os.path.join(dump, "02-train.mlir")
        r = run([args.anvilc, "run", "--reference", step_ir, "--function", "train_step",
                 "--input", os.path.join(tmp, "x.npy"), "--input", os.path.join(tmp, "l.npy"),
                 "--input", os.path.join(tmp, "lr.npy"), "--output", os.path.join(tmp, "ref.npy")])
        stepper = os.path.join(tmp, "stepper")
        r2 = run([args.anvilc, step_ir, "--weights-file", stepper + ".weights", "-o", stepper])
        r3 = run([stepper, "--function", "train_step", "--input", os.path.join(tmp, "x.npy"),
                  "--input", os.path.join(tmp, "l.npy"), "--input", os.path.join(tmp, "lr.npy"),
                  "--output", os.path.join(tmp, "got.npy")])
        ok = r.returncode == r2.returncode == r3.returncode == 0
        check(ok and abs(float(np.load(os.path.join(tmp, "ref.npy"))) -
                         float(np.load(os.path.join(tmp, "got.npy")))) < 1e-5,
              "the compiled train step's loss equals the reference's")

        # Resume: 1 epoch, save, resume for the 2nd == 2 epochs straight.
        half = os.path.join(tmp, "half.ckpt")
        resumed = os.path.join(tmp, "resumed.ckpt")
        r1 = run([trainer, "--data", data, "--epochs", "1", "--save", half])
        r2 = run([trainer, "--data", data, "--epochs", "2", "--resume", half, "--save", resumed])
        check(r1.returncode == 0 and r2.returncode == 0 and
              open(full, "rb").read() == open(resumed, "rb").read(),
              "resuming gives a byte-identical checkpoint")

        # Frozen parameters stay bit-identical.
        frozen = os.path.join(tmp, "frozen")
        run([args.anvilc, "train", model, "--lr", "0.05", "--freeze", "^fc1\\.", "-o", frozen])
        fckpt = os.path.join(tmp, "frozen.ckpt")
        run([frozen, "--data", data, "--epochs", "1", "--save", fckpt])
        before, after = read_weights(frozen + ".weights"), read_weights(fckpt)
        check(before["fc1.weight"] == after["fc1.weight"] and before["fc1.bias"] == after["fc1.bias"]
              and before["fc2.weight"] != after["fc2.weight"],
              "frozen parameters are bit-identical after training, the others moved")

        # Bad input: a truncated dataset file, a corrupt checkpoint.
        bad = os.path.join(tmp, "bad")
        os.makedirs(bad)
        for name in os.listdir(data):
            raw = open(os.path.join(data, name), "rb").read()
            open(os.path.join(bad, name), "wb").write(raw[:1000] if "train-images" in name else raw)
        r = run([trainer, "--data", bad, "--epochs", "1"])
        check(r.returncode == 1 and "train-images-idx3-ubyte: truncated or corrupt" in r.stderr,
              "a truncated dataset gives a clear error: " + r.stderr.strip())
        corrupt = os.path.join(tmp, "corrupt.ckpt")
        raw = bytearray(open(full, "rb").read())
        raw[100] ^= 0xFF
        open(corrupt, "wb").write(bytes(raw))
        r = run([trainer, "--data", data, "--resume", corrupt])
        check(r.returncode == 1 and "checksum mismatch" in r.stderr,
              "a corrupt checkpoint gives a clear error: " + r.stderr.strip())

        # The checkpoint compiles into an inference executable that agrees.
        infer = os.path.join(tmp, "infer")
        r = run([args.anvilc, model, "--weights", full, "-o", infer])
        test_images = read_idx("t10k-images-idx3-ubyte")[:1024].reshape(-1, 1, 28, 28) / np.float32(255)
        test_labels = read_idx("t10k-labels-idx1-ubyte")[:1024]
        correct = 0
        for b in range(16):
            np.save(os.path.join(tmp, "tb.npy"), test_images[b * 64:(b + 1) * 64].astype(np.float32))
            run([infer, "--input", os.path.join(tmp, "tb.npy"), "--output", os.path.join(tmp, "tp.npy")])
            correct += int((np.load(os.path.join(tmp, "tp.npy")).argmax(1) == test_labels[b * 64:(b + 1) * 64]).sum())
        accuracy = 100.0 * correct / 1024
        check(r.returncode == 0 and abs(accuracy - epochs[-1]["test_accuracy"]) < 1e-3,
              f"the compiled checkpoint classifies as the trainer measured ({accuracy:.2f}%)")

        # A model of the ops whose gradients came last trains too.
        gmodel = os.path.join(tmp, "gradient-ops.mlir")
        open(gmodel, "w").write(GRADIENT_OPS_MODEL)
        gtrainer, gdump = os.path.join(tmp, "gtrainer"), os.path.join(tmp, "gdump")
        r = run([args.anvilc, "train", gmodel, "--lr", "0.05", "--momentum", "0.9", "-o", gtrainer,
                 "--dump-phases-to", gdump])
        check(r.returncode == 0, "anvilc train compiles a model of the newer gradients" +
              (": " + r.stderr if r.returncode else ""))
        greport = os.path.join(tmp, "greport.json")
        r = run([gtrainer, "--data", data, "--epochs", "2", "--report-json", greport])
        gepochs = json.load(open(greport)) if r.returncode == 0 else []
        check(len(gepochs) == 2 and gepochs[1]["train_loss"] < gepochs[0]["train_loss"] and
              gepochs[1]["test_accuracy"] > 70.0,
              f"it trains ({[(round(e['train_loss'], 4), e['test_accuracy']) for e in gepochs]})")
        step_ir = os.path.join(gdump, "02-train.mlir")
        io = ["--input", os.path.join(tmp, "x.npy"), "--input", os.path.join(tmp, "l.npy"),
              "--input", os.path.join(tmp, "lr.npy")]
        r = run([args.anvilc, "run", "--reference", step_ir, "--function", "train_step", *io,
                 "--output", os.path.join(tmp, "gref.npy")])
        gstepper = os.path.join(tmp, "gstepper")
        r2 = run([args.anvilc, step_ir, "--weights-file", gstepper + ".weights", "-o", gstepper])
        r3 = run([gstepper, "--function", "train_step", *io, "--output", os.path.join(tmp, "ggot.npy")])
        ok = r.returncode == r2.returncode == r3.returncode == 0
        check(ok and abs(float(np.load(os.path.join(tmp, "gref.npy"))) -
                         float(np.load(os.path.join(tmp, "ggot.npy")))) < 1e-5,
              "its compiled train step's loss equals the reference's")

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
