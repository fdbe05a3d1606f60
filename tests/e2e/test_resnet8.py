#!/usr/bin/python3
"""The batch-norm ResNet-8 of examples/resnet8.mlir: its compiled training
step and evaluation against PyTorch (torch.autograd, in float64).

Draws random weights for every parameter (batch-norm scales, shifts and
running statistics included), compiles `anvilc train --init-from` them with
SGD and momentum 0.9 (after one step a parameter's momentum is its
gradient), trains one step on 64 Fashion-MNIST images, evaluates 128 test
images, and checks against the same network written independently in
PyTorch, batch norm in training mode for the step and in eval mode after it:
  - the step's loss;
  - every parameter's gradient (its momentum state) and its new value;
  - every batch norm's running mean and variance after the step
    (--bn-momentum 0.2, the unbiased batch variance);
  - the test loss and accuracy the trainer reports (its @eval_step, batch
    norms over the running statistics);
  - the inference executable compiled from the checkpoint (`anvilc --weights`,
    batch norms folded into the convolutions): its logits;
  - a --bn-momentum out of [0, 1] is a clear error.
Errors are measured relative to the largest magnitude of the tensor
compared (a gradient's near-zero entries carry the rounding of the large
ones' sums). Each must be within 1e-4, or within 3x the error of PyTorch's
own float32 run of the same step where float32 cannot do better: the
gradients of the first layers sum 50,176 products per weight, and
PyTorch's float32 misses float64's by up to ~2e-4 there. Exits non-zero on
any failure.
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

from checks import Checks, must, run
from weights import read_weights, write_weights
from idx import read_idx

# --bn-momentum 0.2, not the default 0.1: the option reaches the step.
BATCH, LR, BN_MOMENTUM = 64, 0.1, 0.2
# The basic blocks: name, input and output channels, stride.
BLOCKS = [("layer1", 16, 16, 1), ("layer2", 16, 32, 2), ("layer3", 32, 64, 2)]








def conv_shapes():
    """name -> filter shape of every convolution."""
    shapes = {"stem.conv": (16, 1, 3, 3)}
    for name, cin, cout, stride in BLOCKS:
        shapes[name + ".conv1"] = (cout, cin, 3, 3)
        shapes[name + ".conv2"] = (cout, cout, 3, 3)
        if stride != 1 or cin != cout:
            shapes[name + ".shortcut.conv"] = (cout, cin, 1, 1)
    return shapes


def random_params(rng):
    """Every parameter of examples/resnet8.mlir, random (f32)."""
    p = {}
    for conv, shape in conv_shapes().items():
        p[conv + ".weight"] = rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))
        bn, c = conv.replace("conv", "bn"), shape[0]
        p[bn + ".weight"] = rng.uniform(0.5, 1.5, c)
        p[bn + ".bias"] = 0.1 * rng.standard_normal(c)
        p[bn + ".running_mean"] = 0.1 * rng.standard_normal(c)
        p[bn + ".running_var"] = rng.uniform(0.5, 1.5, c)
    p["fc.weight"] = rng.standard_normal((64, 10)) / 8.0
    p["fc.bias"] = 0.1 * rng.standard_normal(10)
    return {k: v.astype(np.float32) for k, v in p.items()}


def torch_resnet8(x, p, training):
    """The network in PyTorch on parameters `p` (float64 tensors; the running
    statistics are updated in place when `training`)."""
    def bn(h, name):
        return F.batch_norm(h, p[name + ".running_mean"], p[name + ".running_var"],
                            p[name + ".weight"], p[name + ".bias"], training=training,
                            momentum=BN_MOMENTUM, eps=1e-5)

    h = F.relu(bn(F.conv2d(x, p["stem.conv.weight"], padding=1), "stem.bn"))
    for name, cin, cout, stride in BLOCKS:
        y = F.relu(bn(F.conv2d(h, p[name + ".conv1.weight"], stride=stride, padding=1), name + ".bn1"))
        y = bn(F.conv2d(y, p[name + ".conv2.weight"], padding=1), name + ".bn2")
        if stride != 1 or cin != cout:
            h = bn(F.conv2d(h, p[name + ".shortcut.conv.weight"], stride=stride), name + ".shortcut.bn")
        h = F.relu(y + h)
    h = F.adaptive_avg_pool2d(h, 1).flatten(1)
    return h @ p["fc.weight"] + p["fc.bias"]


def error(got, want):
    """The largest |got - want| relative to the largest |want|."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return float("inf")
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30))


def close(got, want, float32=None):
    """(ok, error): `got` within 1e-4 of `want` (float64), or within 3x the
    error of `float32` (PyTorch's float32 result) when that is larger."""
    err = error(got, want)
    allowed = 1e-4 if float32 is None else max(1e-4, 3 * error(float32, want))
    return err <= allowed, err


def torch_step(init, images, labels, dtype):
    """PyTorch's step from `init` in `dtype`: the loss and the parameters
    (running statistics updated, the others with .grad)."""
    # Copies: training-mode batch norm updates the running statistics in place.
    p = {k: torch.tensor(v, dtype=dtype) for k, v in init.items()}
    for k in p:
        if "running" not in k:
            p[k].requires_grad_()
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255)).to(dtype)
    loss = F.cross_entropy(torch_resnet8(x, p, training=True), torch.from_numpy(labels))
    loss.backward()
    return loss.item(), p


def torch_eval(p, images, labels):
    """PyTorch's eval mode after the step: logits, mean loss, accuracy (%)."""
    with torch.no_grad():
        q = {k: (v - LR * v.grad if v.grad is not None else v).detach() for k, v in p.items()}
        x = torch.from_numpy(images.astype(np.float32) / np.float32(255)).to(q["fc.bias"].dtype)
        logits = torch_resnet8(x, q, training=False)
        loss = F.cross_entropy(logits, torch.from_numpy(labels)).item()
        return logits.double().numpy(), loss, 100.0 * (logits.argmax(1).numpy() == labels).mean()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--examples", required=True)
    args = ap.parse_args()
    check = Checks()
    rng = np.random.default_rng(8)
    model = os.path.join(args.examples, "resnet8.mlir")

    with tempfile.TemporaryDirectory() as tmp:
        path = lambda name: os.path.join(tmp, name)  # noqa: E731
        images = read_idx("train-images-idx3-ubyte")[:BATCH].reshape(BATCH, 1, 28, 28)
        labels = read_idx("train-labels-idx1-ubyte")[:BATCH].astype(np.int64)
        test_images = read_idx("t10k-images-idx3-ubyte")[:2 * BATCH].reshape(2 * BATCH, 1, 28, 28)
        test_labels = read_idx("t10k-labels-idx1-ubyte")[:2 * BATCH].astype(np.int64)
        for name, a in (("x", images), ("y", labels), ("tx", test_images), ("ty", test_labels)):
            np.save(path(name + ".npy"), a)
        data = ["--train-data", path("x.npy"), "--train-labels", path("y.npy"),
                "--test-data", path("tx.npy"), "--test-labels", path("ty.npy")]
        init = random_params(rng)
        write_weights(path("init.weights"), init)

        # One compiled step, then evaluation, from those weights.
        must([args.anvilc, "train", model, "--lr", str(LR), "--momentum", "0.9",
              "--bn-momentum", str(BN_MOMENTUM), "--init-from", path("init.weights"),
              "-o", path("trainer")])
        must([path("trainer"), *data, "--epochs", "1", "--save", path("step.ckpt"),
              "--report-json", path("report.json")])
        report = json.load(open(path("report.json")))[0]
        ckpt = read_weights(path("step.ckpt"))

        # The same in PyTorch: float64 is the truth, float32 what float32
        # can do.
        loss, p = torch_step(init, images, labels, torch.float64)
        loss32, p32 = torch_step(init, images, labels, torch.float32)
        ok, err = close(report["train_loss"], loss, loss32)
        check(ok, f"the step's loss equals PyTorch's ({report['train_loss']:.6f} vs "
                  f"{loss:.6f}, error {err:.1e})")
        worst = {"gradient": (0.0, ""), "parameter": (0.0, ""), "running statistic": (0.0, "")}
        failed = []
        for k in p:
            if p[k].grad is not None:
                pairs = (("gradient", ckpt[k + ".momentum"], p[k].grad, p32[k].grad),
                         ("parameter", ckpt[k], p[k].detach() - LR * p[k].grad,
                          p32[k].detach() - LR * p32[k].grad))
            else:
                pairs = (("running statistic", ckpt[k], p[k], p32[k]),)
            for what, got, want, want32 in pairs:
                ok, err = close(got, want.numpy(), want32.numpy())
                if not ok:
                    failed.append(f"{what} {k} (error {err:.1e}, PyTorch float32's "
                                  f"{error(want32.numpy(), want.numpy()):.1e})")
                worst[what] = max(worst[what], (err, k))
        check(not failed, "every gradient, updated parameter and running statistic equals "
                          "PyTorch's (worst: " +
              "; ".join(f"{w} {e:.1e} at {k}" for w, (e, k) in worst.items()) + ")" +
              ("".join("\n     " + f for f in failed)))
        moved = [k for k in p if "running" in k and not np.array_equal(ckpt[k], init[k])]
        check(len(moved) == 2 * len(conv_shapes()), f"the step moved all {len(moved)} running statistics")

        # Evaluation: the running statistics, after the step.
        logits, test_loss, accuracy = torch_eval(p, test_images, test_labels)
        logits32, test_loss32, _ = torch_eval(p32, test_images, test_labels)
        ok, err = close(report["test_loss"], test_loss, test_loss32)
        check(ok and abs(report["test_accuracy"] - accuracy) < 1e-3,
              f"@eval_step uses the running statistics: test loss {report['test_loss']:.6f} vs "
              f"PyTorch's eval mode {test_loss:.6f} (error {err:.1e}), accuracy "
              f"{report['test_accuracy']:.2f}% vs {accuracy:.2f}%")

        # The trained model compiled for inference, batch norms folded.
        must([args.anvilc, model, "--weights", path("step.ckpt"), "-o", path("infer")])
        np.save(path("tx-f32.npy"), test_images[:BATCH].astype(np.float32) / np.float32(255))
        must([path("infer"), "--input", path("tx-f32.npy"), "--output", path("logits.npy")])
        ok, err = close(np.load(path("logits.npy")), logits[:BATCH], logits32[:BATCH])
        check(ok, f"the inference executable from the checkpoint gives PyTorch's eval-mode "
                  f"logits (error {err:.1e})")

        # A --bn-momentum out of [0, 1] is an error.
        r = run([args.anvilc, "train", model, "--bn-momentum", "1.5", "-o", path("bad")])
        check(r.returncode == 1 and "--bn-momentum must be in [0, 1], not 1.5" in r.stderr,
              "--bn-momentum 1.5 is refused: " + r.stderr.strip())
    for f in check.failures:
        print("FAIL " + f.splitlines()[0])
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
