#!/usr/bin/python3
"""The runtime's answers to user errors, end to end, on compiled programs.

Compiles examples/mlp.mlir into an executable with built-in weights, one with
a weights file (--weights-file) and a trainer, then checks that:
  - every user error (built-in weights given --weights; a number that is not
    one, or out of range; a directory, a missing file or an overflowing .npy
    shape where a file is expected; NaN or inf among the features; an output
    that cannot be written; --save onto the trainer's own weights file) is
    one line `<prog>: error: ...` naming the option or file, exit status 1,
    with no output and no temporary file left behind, and that outputs are
    checked before training starts;
  - the trainer scores every test sample: with 100 test samples (batch 64),
    and with 10 (fewer than a batch), its test loss and accuracy equal those
    computed from the trained checkpoint's logits, and it says how many it
    tested on;
  - --report-json is there, complete, after each epoch;
  - an executable or trainer moved together with its weights file uses the
    file beside it;
  - OpenMP's idle threads sleep at once by default (KMP_BLOCKTIME=0), unless
    the user chose (KMP_BLOCKTIME, OMP_WAIT_POLICY).
Exits non-zero on any failure.
"""
import argparse
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

from checks import Checks, run
from idx import read_idx, write_idx

BATCH = 64


def write_dataset(path, images, labels, train_images, train_labels):
    os.makedirs(path)
    write_idx(os.path.join(path, "train-images-idx3-ubyte"), train_images)
    write_idx(os.path.join(path, "train-labels-idx1-ubyte"), train_labels)
    write_idx(os.path.join(path, "t10k-images-idx3-ubyte"), images)
    write_idx(os.path.join(path, "t10k-labels-idx1-ubyte"), labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--examples", required=True)
    args = ap.parse_args()
    args.anvilc = os.path.abspath(args.anvilc)
    args.examples = os.path.abspath(args.examples)
    check = Checks()
    failures = check.failures

    with tempfile.TemporaryDirectory() as tmp:
        def p(name):
            return os.path.join(tmp, name)

        def leftovers():
            return glob.glob(p("**/*.tmp.*"), recursive=True)

        def expect_error(cmd, fragments, absent=(), what=None):
            """`cmd` fails with one line `<prog>: error: ...` holding every
            fragment, status 1, stdout silent, and leaves no `absent` file
            and no temporary file."""
            r = run(cmd, cwd=tmp)
            lines = r.stderr.splitlines()
            prefixes = (cmd[0] + ": error: ", os.path.basename(cmd[0]) + ": error: ")
            ok = (r.returncode == 1 and len(lines) == 1 and lines[0].startswith(prefixes)
                  and all(f in lines[0] for f in fragments) and r.stdout == ""
                  and not any(os.path.exists(p(a)) for a in absent) and not leftovers())
            check(ok, (what or " ".join(os.path.basename(c) for c in cmd)) + " -> " +
                  (lines[0] if lines else "") + ("" if ok else f" [status {r.returncode}, stderr {r.stderr!r}, "
                                                               f"stdout {r.stdout[:200]!r}, left {leftovers()}]"))

        model = os.path.join(args.examples, "mlp.mlir")
        mlp, mlpw, trainer = p("mlp"), p("mlpw"), p("trainer")
        for cmd in ([args.anvilc, model, "-o", mlp],
                    [args.anvilc, model, "--weights-file=" + p("mlpw.weights"), "-o", mlpw],
                    [args.anvilc, "train", model, "--lr", "0.05", "--momentum", "0.9", "-o", trainer]):
            r = run(cmd)
            check(r.returncode == 0, " ".join(cmd[1:]) + (": " + r.stderr if r.returncode else ""))
        if failures:
            return 1

        train_images = read_idx("train-images-idx3-ubyte")[:640]
        train_labels = read_idx("train-labels-idx1-ubyte")[:640]
        test_images = read_idx("t10k-images-idx3-ubyte")[:100]
        test_labels = read_idx("t10k-labels-idx1-ubyte")[:100]
        write_dataset(p("data100"), test_images, test_labels, train_images, train_labels)
        write_dataset(p("data10"), test_images[:10], test_labels[:10], train_images, train_labels)
        x = np.zeros((BATCH, 1, 28, 28), np.float32)
        np.save(p("x.npy"), x)
        os.makedirs(p("dir.npy"))
        os.makedirs(p("dir.ckpt"))

        # 1. Built-in weights refuse --weights, whether the file is there or not.
        for weights in ("nope.ckpt", "mlpw.weights"):
            expect_error([mlp, "--weights", weights, "--input", "x.npy", "--output", "y.npy"],
                         ["--weights", "built in", "anvilc MODEL --weights CKPT", "--weights-file FILE"],
                         absent=["y.npy"])

        # 3. Numbers on the command line: the whole text, in range.
        for cmd, fragment in (
                ([trainer, "--lr", "abc"], "--lr: 'abc' is not a number"),
                ([trainer, "--lr", "0"], "--lr: 0 is out of range"),
                ([trainer, "--lr", "nan"], "--lr: nan is not a finite number"),
                ([trainer, "--seed", "abc"], "--seed: 'abc' is not a whole number"),
                ([trainer, "--seed", "-1"], "--seed: -1 is out of range"),
                ([trainer, "--epochs", "2x"], "--epochs: '2x' is not a whole number"),
                ([trainer, "--epochs", "0"], "--epochs: 0 is out of range; give 1 or more"),
                ([trainer, "--threads", "0"], "--threads: 0 is out of range"),
                ([trainer, "--threads", "-4"], "--threads: -4 is out of range"),
                ([trainer, "--batch", "64x"], "--batch: '64x' is not a whole number"),
                ([trainer, "--normalize", "mean-std", "--mean", "0", "--std", "0"], "--std: 0 is out of range"),
                ([mlp, "--bench", "x"], "--bench: 'x' is not a whole number"),
                ([mlp, "--bench", "-1"], "--bench: -1 is out of range"),
                ([mlp, "--threads", "0", "--bench", "1"], "--threads: 0 is out of range"),
                ([mlp, "--threads", "-4", "--bench", "1"], "--threads: -4 is out of range")):
            expect_error(cmd + ["--save", "never.ckpt"] if cmd[0] == trainer else cmd, [fragment],
                         absent=["never.ckpt"])

        # 4. A directory or a missing file where a file is expected.
        expect_error([mlpw, "--input", "dir.npy", "--output", "y.npy"],
                     ["dir.npy: is a directory, not a .npy file"], absent=["y.npy"])
        expect_error([mlpw, "--input", "none.npy", "--output", "y.npy"],
                     ["none.npy: cannot open the .npy file: No such file or directory"], absent=["y.npy"])
        expect_error([mlpw, "--input", "x.npy", "--output", "dir.npy"], ["dir.npy: cannot write: Is a directory"])
        expect_error([mlpw, "--weights", "dir.ckpt", "--input", "x.npy", "--output", "y.npy"],
                     ["dir.ckpt: is a directory, not a weights file"], absent=["y.npy"])
        expect_error([trainer, "--data", "data100", "--resume", "dir.ckpt", "--save", "s.ckpt"],
                     ["dir.ckpt: is a directory, not a weights file"], absent=["s.ckpt"])
        expect_error([trainer, "--data", "data100", "--weights", "dir.ckpt"],
                     ["dir.ckpt: is a directory, not a weights file"])
        expect_error([trainer, "--data", "data100", "--resume", "none.ckpt"],
                     ["none.ckpt: cannot open the weights file: No such file or directory"])
        expect_error([trainer, "--train-data", "dir.npy", "--train-labels", "y.npy",
                      "--test-data", "dir.npy", "--test-labels", "y.npy"],
                     ["dir.npy: is a directory, not a .npy file"])
        os.makedirs(p("dir.csv"))
        expect_error([trainer, "--train-data", "dir.csv", "--test-data", "dir.csv"],
                     ["dir.csv: is a directory, not a dataset file"])
        expect_error([trainer, "--data", "x.npy"], ["x.npy: is not a directory; point --data at"])
        os.makedirs(p("datadir/train-images-idx3-ubyte"))
        shutil.copy(p("data100/train-labels-idx1-ubyte"), p("datadir"))
        expect_error([trainer, "--data", "datadir"],
                     ["train-images-idx3-ubyte: is a directory, not a dataset file"])
        expect_error([args.anvilc, "train", model, "--init-from", p("dir.ckpt"), "-o", p("t2")],
                     ["dir.ckpt: is a directory, not a weights file"], absent=["t2"],
                     what="anvilc train --init-from DIR")

        # 5. A .npy shape whose size overflows, or exceeds the file.
        def raw_npy(path, shape, data=b"\0" * 16):
            header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape
            header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
            with open(p(path), "wb") as f:
                f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data)
        np.save(p("y.npy"), np.zeros(4, np.int64))
        raw_npy("huge.npy", "(4611686018427387904, 784)")
        raw_npy("wide.npy", "(4, 1099511627776, 1099511627776)")
        raw_npy("large.npy", "(4, 4000000000)")
        for name, fragment in (("huge.npy", "corrupt: the header's shape (4611686018427387904, 784) describes "
                                            "more data than any file can hold"),
                               ("wide.npy", "corrupt: the header's shape (4, 1099511627776, 1099511627776)"),
                               ("large.npy", "truncated: the header promises 64000000000 bytes")):
            expect_error([trainer, "--train-data", name, "--train-labels", "y.npy",
                          "--test-data", name, "--test-labels", "y.npy"], [name + ": " + fragment])
        expect_error([mlpw, "--input", "huge.npy", "--output", "out.npy"],
                     ["huge.npy: corrupt: the header's shape"], absent=["out.npy"])

        # 7. NaN or inf among the features: an error naming file and row.
        rows = [[int(l)] + list(img.reshape(-1)) for img, l in zip(train_images[:70], train_labels[:70])]
        good_csv = "\n".join(",".join(str(v) for v in r) for r in rows) + "\n"
        bad_rows = [list(r) for r in rows]
        bad_rows[5][3] = "nan"
        with open(p("good.csv"), "w") as f:
            f.write(good_csv)
        with open(p("nan.csv"), "w") as f:
            f.write("\n".join(",".join(str(v) for v in r) for r in bad_rows) + "\n")
        expect_error([trainer, "--train-data", "nan.csv", "--test-data", "good.csv"],
                     ["nan.csv:6: field 4 ('nan') is not a finite number"])
        xs = train_images[:70].astype(np.float32).reshape(70, 784)
        xs[12, 100] = np.inf
        np.save(p("inf-x.npy"), xs)
        np.save(p("inf-y.npy"), train_labels[:70].astype(np.int64))
        expect_error([trainer, "--train-data", "inf-x.npy", "--train-labels", "inf-y.npy",
                      "--test-data", "inf-x.npy", "--test-labels", "inf-y.npy"],
                     ["inf-x.npy: sample 12, feature 100 is inf", "not a finite number"])

        # 6. Outputs are checked before training starts (no "epoch" printed).
        for option, value, fragment in (
                ("--save", "nodir/s.ckpt", "--save: cannot write nodir/s.ckpt: No such file or directory"),
                ("--save", "dir.ckpt", "--save: dir.ckpt is a directory"),
                ("--report-json", "nodir/r.json", "--report-json: cannot write nodir/r.json"),
                ("--report-json", "dir.npy", "--report-json: dir.npy is a directory"),
                ("--export-onnx", "nodir/m.onnx", "--export-onnx: cannot write nodir/m.onnx"),
                ("--save", "trainer.weights", "--save: trainer.weights is this trainer's own weights file"),
                ("--save", "dir.npy/../trainer.weights", "is this trainer's own weights file"),
                ("--report-json", os.path.join(tmp, "trainer.weights"), "is this trainer's own weights file")):
            expect_error([trainer, "--data", "data100", "--epochs", "1", option, value], [fragment])
        before = open(p("trainer.weights"), "rb").read()

        # 2. Every test sample is scored, with and without a partial batch.
        report = p("report.json")
        for data, count in (("data100", 100), ("data10", 10)):
            ckpt = p(data + ".ckpt")
            r = run([trainer, "--data", p(data), "--epochs", "1", "--save", ckpt, "--report-json", report])
            check(r.returncode == 0 and f"testing on {count}\n" in r.stdout,
                  f"the trainer trains on {data} and says it tests on {count}" + (": " + r.stderr if r.returncode else ""))
            if r.returncode:
                continue
            reported = json.load(open(report))[0]
            inference = p("mlp-" + data)
            r = run([args.anvilc, model, "--weights", ckpt, "-o", inference])
            check(r.returncode == 0, "the checkpoint compiles" + (": " + r.stderr if r.returncode else ""))
            images = test_images[:count].astype(np.float32).reshape(count, 1, 28, 28) / 255
            logits = np.zeros((count, 10), np.float32)
            for first in range(0, count, BATCH):
                batch = np.zeros((BATCH, 1, 28, 28), np.float32)
                n = min(BATCH, count - first)
                batch[:n] = images[first:first + n]
                np.save(p("batch.npy"), batch)
                run([inference, "--input", "batch.npy", "--output", "logits.npy"], cwd=tmp)
                logits[first:first + n] = np.load(p("logits.npy"))[:n]
            z = logits.astype(np.float64)
            z -= z.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            labels = test_labels[:count].astype(np.int64)
            loss = -log_p[np.arange(count), labels].mean()
            accuracy = 100.0 * (logits.argmax(axis=1) == labels).mean()
            check(abs(reported["test_accuracy"] - accuracy) < 1e-3,
                  f"{data}: the reported test accuracy is that of all {count} samples "
                  f"({reported['test_accuracy']:.4f}% vs {accuracy:.4f}%)")
            check(abs(reported["test_loss"] - loss) < 1e-4 * max(1.0, loss),
                  f"{data}: the reported test loss is the mean over all {count} samples "
                  f"({reported['test_loss']:.6f} vs {loss:.6f})")

        # 6. --report-json is complete after each epoch, while training goes on:
        # a run stopped (SIGTERM) once it has printed epoch 2 leaves a report
        # of the whole epochs it finished, 1 to k, far fewer than the 50 asked
        # for. (Reading the report while the run goes on raced it: an epoch
        # of 100 samples takes ~10 ms, so the report could already hold
        # epoch 2 when the line was read.)
        watched = p("watched.json")
        proc = subprocess.Popen([trainer, "--data", p("data100"), "--epochs", "50",
                                 "--report-json", watched],
                                cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in proc.stdout:
            if line.startswith("epoch 2/"):
                proc.terminate()
                break
        proc.communicate()
        try:
            epochs = [e["epoch"] for e in json.load(open(watched))]
        except (OSError, ValueError, KeyError, TypeError) as e:
            epochs = f"unreadable: {e}"
        check(isinstance(epochs, list) and 1 <= len(epochs) < 50
              and epochs == list(range(1, len(epochs) + 1)),
              f"stopped during training, {os.path.basename(watched)} holds the epochs it "
              f"finished ({epochs})")
        proc = subprocess.run([trainer, "--data", p("data100"), "--epochs", "3", "--report-json", report],
                              cwd=tmp, capture_output=True, text=True)
        check(proc.returncode == 0 and [e["epoch"] for e in json.load(open(report))] == [1, 2, 3],
              "after the run it holds every epoch")
        check(open(p("trainer.weights"), "rb").read() == before, "trainer.weights is untouched")

        # 9. Moved together, an executable and its weights file work.
        r = run([mlpw, "--input", "x.npy", "--output", "built.npy"], cwd=tmp)
        check(r.returncode == 0, "the --weights-file executable runs" + (": " + r.stderr if r.returncode else ""))
        os.makedirs(p("moved"))
        shutil.copy(mlpw, p("moved/mlpw"))
        if os.path.exists(p("data100.ckpt")):  # other values, same names and types
            shutil.copy(p("data100.ckpt"), p("moved/mlpw.weights"))
        r = run([p("moved/mlpw"), "--input", p("x.npy"), "--output", p("moved.npy")])
        run([mlpw, "--weights", "data100.ckpt", "--input", "x.npy", "--output", "expected.npy"], cwd=tmp)
        check(r.returncode == 0 and np.array_equal(np.load(p("moved.npy")), np.load(p("expected.npy")))
              and not np.array_equal(np.load(p("moved.npy")), np.load(p("built.npy"))),
              "a moved executable uses the weights file beside it" + (": " + r.stderr if r.returncode else ""))
        os.makedirs(p("moved-trainer"))
        shutil.move(trainer, p("moved-trainer/trainer"))
        shutil.move(p("trainer.weights"), p("moved-trainer/trainer.weights"))
        r = run([p("moved-trainer/trainer"), "--data", p("data100"), "--epochs", "1"])
        check(r.returncode == 0, "a moved trainer finds its weights file beside it" +
              (": " + r.stderr if r.returncode else ""))
        expect_error([p("moved-trainer/trainer"), "--data", p("data100"), "--save",
                      p("moved-trainer/trainer.weights")], ["is this trainer's own weights file"],
                     what="--save onto the moved trainer's own weights file")

        # 10. Idle OpenMP threads sleep at once, unless the user chose.
        for env, zero in (({}, True), ({"KMP_BLOCKTIME": "7"}, False), ({"OMP_WAIT_POLICY": "active"}, False)):
            r = run([mlp, "--bench", "1"], env=dict(os.environ, KMP_SETTINGS="1", **env))
            got = [l.strip() for l in r.stderr.splitlines() if l.strip().startswith("KMP_BLOCKTIME=")]
            check(r.returncode == 0 and bool(got) and (got[0] == "KMP_BLOCKTIME=0") == zero
                  and (got[0] == "KMP_BLOCKTIME=7") == ("KMP_BLOCKTIME" in env),
                  f"with {env or 'nothing set'}, libomp's blocktime is {'0' if zero else 'the one chosen'} ({got})")
        check(not leftovers(), f"no temporary file is left ({leftovers()})")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all runtime error checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
