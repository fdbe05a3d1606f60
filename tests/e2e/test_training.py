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
  - LeNet-5 trains to the same checkpoint on 1 and 2 threads;
  - a truncated dataset file and a corrupt checkpoint give clear errors;
  - the trained checkpoint compiles into an inference executable whose
    predictions agree with the trainer's test accuracy;
  - the same samples as IDX, CSV and NPY train to byte-identical
    checkpoints, and the test loss and accuracy the trainer reports (from the
    compiled @eval_step) equal the reference interpreter's @eval_step with
    the checkpoint's weights; mean-std normalization uses the training set's
    statistics; malformed CSV/NPY files give errors naming file and line;
  - an mse loss trains from one-hot targets;
  - a checkpoint of another shape is refused naming the tensor and both
    shapes; --init-from with --reinit and --freeze keeps the body
    bit-identical and trains a freshly initialized head;
  - anvilc train --batch re-batches the model: its step equals the
    reference's and it trains.
  - a model built from the ops whose gradients came last (depthwise
    convolution, average pooling with padding and ceil mode, a reversed
    strided slice, a gather with repeated indices) trains: its loss falls,
    and its compiled train step's loss equals the reference's.
Exits non-zero on any failure.
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np

from checks import Checks, run
from weights import read_weights
from idx import read_idx, write_idx


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






def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--examples", required=True)
    args = ap.parse_args()
    check = Checks()
    failures = check.failures

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
        def step_matches(name, batch, extra=(), source=None):
            """Compiles a trainer's step (dumping its phases), runs it
            compiled and on the reference for one batch: the losses agree."""
            dump = os.path.join(tmp, name + "-dump")
            run([args.anvilc, "train", source or model, "--lr", "0.05", "--momentum", "0.9", *extra, "-o",
                 os.path.join(tmp, name), "--dump-phases-to", dump])
            images = read_idx("train-images-idx3-ubyte")[:batch].reshape(batch, 1, 28, 28) / np.float32(255)
            labels = read_idx("train-labels-idx1-ubyte")[:batch].astype(np.int64)
            x, l, lr = (os.path.join(tmp, name + f) for f in ("-x.npy", "-l.npy", "-lr.npy"))
            np.save(x, images.astype(np.float32))
            np.save(l, labels)
            np.save(lr, np.array(0.05, np.float32))
            step_ir = os.path.join(dump, "02-train.mlir")
            ref, got = os.path.join(tmp, name + "-ref.npy"), os.path.join(tmp, name + "-got.npy")
            r = run([args.anvilc, "run", "--reference", step_ir, "--function", "train_step",
                     "--input", x, "--input", l, "--input", lr, "--output", ref])
            stepper = os.path.join(tmp, name + "-stepper")
            r2 = run([args.anvilc, step_ir, "--weights-file", stepper + ".weights", "-o", stepper])
            r3 = run([stepper, "--function", "train_step", "--input", x, "--input", l, "--input", lr,
                      "--output", got])
            ok = r.returncode == r2.returncode == r3.returncode == 0
            return ok and abs(float(np.load(ref)) - float(np.load(got))) < 1e-5
        check(step_matches("t2", 64), "the compiled train step's loss equals the reference's")
        step_ir = os.path.join(tmp, "t2-dump", "02-train.mlir")

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
        same = lambda a, b: a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
        check(same(before["fc1.weight"], after["fc1.weight"]) and same(before["fc1.bias"], after["fc1.bias"])
              and not same(before["fc2.weight"], after["fc2.weight"]),
              "frozen parameters are bit-identical after training, the others moved")

        # Parallel loops split only independent work (never a sum): LeNet-5
        # (parallel convolutions, pooling and their gradients) trains to the
        # same bits on 1 and 2 threads.
        lenet = os.path.join(tmp, "lenet")
        r = run([args.anvilc, "train", os.path.join(args.examples, "lenet.mlir"), "--lr", "0.05",
                 "--momentum", "0.9", "-o", lenet])
        ckpts, ok = [], r.returncode == 0
        for t in (1, 2):
            ckpts.append(os.path.join(tmp, f"lenet-t{t}.ckpt"))
            ok = ok and run([lenet, "--data", data, "--epochs", "1", "--threads", str(t),
                             "--save", ckpts[-1]]).returncode == 0
        check(ok and open(ckpts[0], "rb").read() == open(ckpts[1], "rb").read(),
              "LeNet-5 trains to byte-identical checkpoints on 1 and 2 threads")

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

        # The same samples as IDX, CSV (with a header) and NPY.
        train_x, train_y = read_idx("train-images-idx3-ubyte")[:640], read_idx("train-labels-idx1-ubyte")[:640]
        test_x, test_y = read_idx("t10k-images-idx3-ubyte")[:128], read_idx("t10k-labels-idx1-ubyte")[:128]
        small = os.path.join(tmp, "small")
        os.makedirs(small)
        write_idx(os.path.join(small, "train-images-idx3-ubyte"), train_x)
        write_idx(os.path.join(small, "train-labels-idx1-ubyte"), train_y)
        write_idx(os.path.join(small, "t10k-images-idx3-ubyte"), test_x)
        write_idx(os.path.join(small, "t10k-labels-idx1-ubyte"), test_y)

        def write_csv(path, x, y, header=True):
            with open(path, "w") as f:
                if header:
                    f.write("label," + ",".join(f"pixel{i}" for i in range(784)) + "\n")
                for image, label in zip(x.reshape(len(x), -1), y):
                    f.write(f"{label}," + ",".join(str(v) for v in image) + "\n")
        csvs = [os.path.join(tmp, n) for n in ("train.csv", "test.csv")]
        write_csv(csvs[0], train_x, train_y)
        write_csv(csvs[1], test_x, test_y, header=False)
        npys = [os.path.join(tmp, n) for n in ("trx.npy", "try.npy", "tex.npy", "tey.npy")]
        for path, a in zip(npys, (train_x, train_y.astype(np.int64), test_x, test_y.astype(np.int64))):
            np.save(path, a)
        runs = {}
        for kind, data_args in (("idx", ["--data", small]),
                                ("csv", ["--train-data", csvs[0], "--test-data", csvs[1]]),
                                ("npy", ["--train-data", npys[0], "--train-labels", npys[1],
                                         "--test-data", npys[2], "--test-labels", npys[3]])):
            ckpt, rep = os.path.join(tmp, kind + ".ckpt"), os.path.join(tmp, kind + ".json")
            r = run([trainer, *data_args, "--epochs", "1", "--save", ckpt, "--report-json", rep])
            check(r.returncode == 0, f"the trainer reads {kind}" + (": " + r.stderr if r.returncode else ""))
            runs[kind] = (open(ckpt, "rb").read() if r.returncode == 0 else kind,
                          json.load(open(rep)) if r.returncode == 0 else None)
        check(runs["idx"][0] == runs["csv"][0] == runs["npy"][0],
              "IDX, CSV and NPY of the same samples train to byte-identical checkpoints")

        # The trainer's test loss and accuracy (compiled @eval_step) are the
        # reference's @eval_step with the checkpoint's weights.
        params = os.path.join(tmp, "params")
        os.makedirs(params)
        for name, value in read_weights(os.path.join(tmp, "npy.ckpt")).items():
            if not name.startswith("__"):
                np.save(os.path.join(params, name + ".npy"), value)
        losses, correct = [], 0
        for b in range(2):
            xb, lb = os.path.join(tmp, "eb-x.npy"), os.path.join(tmp, "eb-l.npy")
            np.save(xb, (test_x[b * 64:(b + 1) * 64].reshape(64, 1, 28, 28) / np.float32(255)).astype(np.float32))
            np.save(lb, test_y[b * 64:(b + 1) * 64].astype(np.int64))
            lo, po = os.path.join(tmp, "eb-loss.npy"), os.path.join(tmp, "eb-pred.npy")
            r = run([args.anvilc, "run", "--reference", step_ir, "--function", "eval_step", "--params", params,
                     "--input", xb, "--input", lb, "--output", lo, "--output", po])
            if r.returncode != 0:
                print(r.stderr)
                break
            losses.append(float(np.load(lo)))
            correct += int((np.load(po) == test_y[b * 64:(b + 1) * 64]).sum())
        reported = runs["npy"][1][0] if runs["npy"][1] else {"test_loss": -1, "test_accuracy": -1}
        check(len(losses) == 2 and abs(np.mean(losses) - reported["test_loss"]) < 1e-5 * max(1, reported["test_loss"]),
              f"the reported test loss is the reference's ({reported['test_loss']:.6f} vs "
              f"{np.mean(losses) if losses else float('nan'):.6f})")
        check(len(losses) == 2 and abs(100.0 * correct / 128 - reported["test_accuracy"]) < 1e-3,
              f"the reported test accuracy is the reference's ({reported['test_accuracy']:.2f}% vs "
              f"{100.0 * correct / 128:.2f}%)")

        # mean-std: the training set's statistics, printed.
        r = run([trainer, "--train-data", npys[0], "--train-labels", npys[1], "--test-data", npys[2],
                 "--test-labels", npys[3], "--epochs", "1", "--normalize", "mean-std"])
        raw = train_x.astype(np.float64)
        want = f"normalizing to (x - {raw.mean():.6g}) / {raw.std():.6g}"
        check(r.returncode == 0 and want in r.stdout, f"mean-std uses the training set's statistics ({want})")

        # Malformed datasets name the file and where.
        lines = open(csvs[0]).read().splitlines()
        bad_csv = os.path.join(tmp, "bad.csv")
        cut_line = lines[4][:lines[4].rfind(",", 0, 1000)]  # a line cut after a field
        open(bad_csv, "w").write("\n".join(lines[:4] + [cut_line] + lines[5:]) + "\n")
        r = run([trainer, "--train-data", bad_csv, "--test-data", csvs[1]])
        check(r.returncode == 1 and f"{bad_csv}:5: has " in r.stderr and "but line 2 has 785" in r.stderr,
              "a CSV line cut short gives a clear error: " + r.stderr.strip())
        cut = os.path.join(tmp, "cut.npy")
        open(cut, "wb").write(open(npys[0], "rb").read()[:5000])
        r = run([trainer, "--train-data", cut, "--train-labels", npys[1], "--test-data", npys[2],
                 "--test-labels", npys[3]])
        check(r.returncode == 1 and cut + ": truncated" in r.stderr,
              "a truncated .npy gives a clear error: " + r.stderr.strip())
        narrow = os.path.join(tmp, "narrow.npy")
        np.save(narrow, train_x[:, :10, :10])
        r = run([trainer, "--train-data", narrow, "--train-labels", npys[1], "--test-data", npys[2],
                 "--test-labels", npys[3]])
        check(r.returncode == 1 and narrow + ": samples have 100 features, but the model takes f32[64,1,28,28]"
              in r.stderr, "a wrong feature count gives a clear error: " + r.stderr.strip())
        big = os.path.join(tmp, "big-labels.npy")
        np.save(big, np.where(np.arange(640) == 7, 12, train_y).astype(np.int64))
        r = run([trainer, "--train-data", npys[0], "--train-labels", big, "--test-data", npys[2],
                 "--test-labels", npys[3]])
        check(r.returncode == 1 and "sample 7 has label 12, but the model has 10 classes" in r.stderr,
              "a label beyond the classes gives a clear error: " + r.stderr.strip())

        # An mse loss gets one-hot targets and trains.
        mse = os.path.join(tmp, "mse")
        r = run([args.anvilc, "train", model, "--loss", "mse", "--lr", "0.05", "--momentum", "0.9", "-o", mse])
        r2 = run([mse, "--data", small, "--epochs", "2", "--report-json", mse + ".json"])
        ok = r.returncode == 0 and r2.returncode == 0
        rep = json.load(open(mse + ".json")) if ok else []
        check(ok and rep[1]["train_loss"] < rep[0]["train_loss"] and rep[1]["test_accuracy"] > 30.0,
              "an mse trainer learns from one-hot targets" + (": " + r.stderr + r2.stderr if not ok else
                                                              f" ({rep[1]['test_accuracy']:.2f}%)"))

        # A checkpoint of other shapes is refused, naming the tensor and both.
        variant = os.path.join(tmp, "mlp200.mlir")
        open(variant, "w").write(open(model).read().replace("256", "200"))
        mismatch = "parameter 'fc1.weight' is f32[784,256] in the file, but the model's is f32[784,200]"
        r = run([args.anvilc, variant, "--weights", full, "-o", os.path.join(tmp, "v")])
        check(r.returncode == 1 and mismatch in r.stderr, "anvilc --weights refuses other shapes: " + r.stderr.strip())
        r = run([args.anvilc, "train", variant, "--init-from", full, "-o", os.path.join(tmp, "vt")])
        check(r.returncode == 1 and mismatch in r.stderr and "--reinit" in r.stderr,
              "anvilc train --init-from refuses other shapes: " + r.stderr.strip())
        r = run([args.anvilc, "train", variant, "-o", os.path.join(tmp, "vt")])
        r2 = run([os.path.join(tmp, "vt"), "--data", small, "--resume", full])
        check(r.returncode == 0 and r2.returncode == 1 and mismatch in r2.stderr,
              "the trainer refuses to resume from other shapes: " + r2.stderr.strip())
        r = run([args.anvilc, "train", variant, "--init-from", full, "--reinit", "^fc[12]\\.",
                 "-o", os.path.join(tmp, "vt2")])
        check(r.returncode == 0, "--reinit leaves out the parameters of other shapes" +
              (": " + r.stderr if r.returncode else ""))

        # Fine-tuning: the body from the checkpoint and frozen, the head
        # initialized afresh (as the seed gives it) and trained.
        tuned = os.path.join(tmp, "tuned")
        r = run([args.anvilc, "train", model, "--lr", "0.05", "--momentum", "0.9", "--init-from", full,
                 "--freeze", "^fc[12]\\.", "--reinit", "^fc3\\.", "-o", tuned])
        r2 = run([tuned, "--data", small, "--epochs", "1", "--save", tuned + ".ckpt"])
        ok = r.returncode == 0 and r2.returncode == 0
        ck, start, fresh = read_weights(full), read_weights(tuned + ".weights"), read_weights(trainer + ".weights")
        end = read_weights(tuned + ".ckpt") if ok else {}
        body = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
        check(ok and all(same(ck[n], end[n]) for n in body),
              "fine-tuning keeps the frozen body bit-identical" + (": " + r.stderr + r2.stderr if not ok else ""))
        check(ok and same(start["fc3.weight"], fresh["fc3.weight"]) and not same(start["fc3.weight"], ck["fc3.weight"])
              and not start["fc3.weight.momentum"].any(),
              "--reinit starts the head from its initializer, with fresh optimizer state")
        check(ok and not same(end["fc3.weight"], ck["fc3.weight"]) and not same(end["fc3.weight"], start["fc3.weight"]),
              "the re-initialized head trains")
        r = run([args.anvilc, "train", model, "--init-from", full, "--reinit", "^head", "-o", tuned])
        check(r.returncode == 1 and "--reinit '^head' matches no parameter" in r.stderr,
              "a --reinit that matches nothing is an error: " + r.stderr.strip())

        # --batch re-batches the model.
        check(step_matches("b32", 32, ["--batch", "32"]),
              "the train step re-batched to 32 equals the reference's")
        b32 = os.path.join(tmp, "b32")
        rep = os.path.join(tmp, "b32.json")
        r = run([b32, "--data", data, "--epochs", "1", "--report-json", rep])
        check(r.returncode == 0 and "200 steps of 32 per epoch" in r.stdout
              and json.load(open(rep))[0]["test_accuracy"] > 70.0,
              "a trainer re-batched to 32 trains" + (": " + r.stderr if r.returncode else ""))
        r = run([b32, "--data", small, "--batch", "64"])
        check(r.returncode == 1 and "compiled for batch 32" in r.stderr,
              "the trainer's --batch names the compiled batch: " + r.stderr.strip())
        # A model of the ops whose gradients came last trains too.
        gmodel = os.path.join(tmp, "gradient-ops.mlir")
        open(gmodel, "w").write(GRADIENT_OPS_MODEL)
        gtrainer = os.path.join(tmp, "gtrainer")
        r = run([args.anvilc, "train", gmodel, "--lr", "0.05", "--momentum", "0.9", "-o", gtrainer])
        check(r.returncode == 0, "anvilc train compiles a model of the newer gradients" +
              (": " + r.stderr if r.returncode else ""))
        greport = os.path.join(tmp, "greport.json")
        r = run([gtrainer, "--data", data, "--epochs", "2", "--report-json", greport])
        gepochs = json.load(open(greport)) if r.returncode == 0 else []
        check(len(gepochs) == 2 and gepochs[1]["train_loss"] < gepochs[0]["train_loss"] and
              gepochs[1]["test_accuracy"] > 70.0,
              f"it trains ({[(round(e['train_loss'], 4), e['test_accuracy']) for e in gepochs]})")
        check(step_matches("g2", 64, source=gmodel),
              "its compiled train step's loss equals the reference's")

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
