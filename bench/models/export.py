#!/usr/bin/python3
"""The bench's model zoo: builds each network in PyTorch and exports it to ONNX.

Every model is built with random initialization from a fixed seed (nothing is
downloaded), so `build(name)` returns the same weights in every process on the
same PyTorch; bench/run.py builds its PyTorch peer that way and checks it
against the reference output saved here. For each model, OUT gets:

  NAME.onnx      opset 13 (Anvil imports opsets 7-17), the batch dimension
                 symbolic ("batch"), input "input", output "output";
  NAME.in.npy    a fixed input at batch 2 (seeded normal, f32);
  NAME.out.npy   PyTorch's output for it (eval mode, no grad);
and OUT/zoo.json lists every model: family, input shape without the batch,
file names. A model that fails to export is reported and skipped (exit 1).

PyTorch's exporter folds each BatchNormalization into the convolution before
it (what users get from torch.onnx.export); --keep-batchnorm keeps them as
BatchNormalization nodes (inference mode), to test a compiler's own folding.

Usage: bench/models/export.py [--out DIR] [--models a,b] [--keep-batchnorm] [--list]
  (run with /usr/bin/python3: it has torch and torchvision)
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

OPSET = 13
REF_BATCH = 2
SEED = 0


def mlp():
    """The MLP of examples/mlp.mlir: 784-256-128-10 with ReLU."""
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))


def lenet():
    """The LeNet-5 of examples/lenet.mlir."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10))


class BasicBlock(torch.nn.Module):
    """ResNet's basic block: conv3x3-bn-relu-conv3x3-bn, plus the input (a
    1x1 conv + bn projection when the shape changes), relu."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(cout)
        self.conv2 = torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(cout)
        self.shortcut = torch.nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, stride, bias=False),
                                                torch.nn.BatchNorm2d(cout))

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


def resnet8():
    """The ResNet-8 of examples/resnet8.mlir (not in the zoo: bench/run.py
    trains it)."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1, bias=False), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
        BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(64, 10))


def transformer():
    """One post-norm encoder layer: d_model 128, 4 heads, feed-forward 512, on
    [batch, 32, 128]. Dropout 0 so that train and eval agree."""
    return torch.nn.TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=512,
                                            dropout=0.0, batch_first=True)


def torchvision_model(name):
    def make():
        import torchvision
        return getattr(torchvision.models, name)(weights=None)
    make.__doc__ = f"torchvision.models.{name}, random init"
    return make


IMAGE = [3, 224, 224]
MNIST = [1, 28, 28]
# name: (family, input shape without the batch, builder). The family groups
# models that exercise the same kernels; bench/run.py --quick takes the first
# model of each family.
MODELS = {
    "resnet18": ("resnet", IMAGE, torchvision_model("resnet18")),
    "resnet50": ("resnet", IMAGE, torchvision_model("resnet50")),
    "mobilenet_v2": ("mobile", IMAGE, torchvision_model("mobilenet_v2")),
    "mobilenet_v3_small": ("mobile", IMAGE, torchvision_model("mobilenet_v3_small")),
    "efficientnet_b0": ("mobile", IMAGE, torchvision_model("efficientnet_b0")),
    "shufflenet_v2_x1_0": ("mobile", IMAGE, torchvision_model("shufflenet_v2_x1_0")),
    "squeezenet1_1": ("squeeze", IMAGE, torchvision_model("squeezenet1_1")),
    "densenet121": ("dense", IMAGE, torchvision_model("densenet121")),
    "transformer": ("transformer", [32, 128], transformer),
    "lenet": ("small", MNIST, lenet),
    "mlp": ("small", MNIST, mlp),
}


def build(name):
    """The model `name` in eval mode, its weights drawn from the fixed seed."""
    torch.manual_seed(SEED)
    return MODELS[name][2]().eval()


def reference_input(name, batch=REF_BATCH):
    """A fixed f32 input for `name` at `batch` (normal, seeded by the batch)."""
    rng = np.random.default_rng(SEED + batch)
    return rng.standard_normal([batch] + MODELS[name][1]).astype(np.float32)


def export(name, out, keep_batchnorm=False):
    model = build(name)
    x = reference_input(name)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    path = os.path.join(out, name + ".onnx")
    tmp = path + ".tmp"
    # Export to a temporary name and rename, so that a reader never sees half
    # a model.
    torch.onnx.export(model, torch.from_numpy(x), tmp, opset_version=OPSET,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      do_constant_folding=True,
                      # PRESERVE exports the eval-mode model as it is; the
                      # default (EVAL) folds BatchNormalization into Conv.
                      training=(torch.onnx.TrainingMode.PRESERVE if keep_batchnorm
                                else torch.onnx.TrainingMode.EVAL))
    os.replace(tmp, path)
    np.save(os.path.join(out, name + ".in.npy"), x)
    np.save(os.path.join(out, name + ".out.npy"), y)
    return {"family": MODELS[name][0], "input_shape": MODELS[name][1], "onnx": name + ".onnx",
            "ref_input": name + ".in.npy", "ref_output": name + ".out.npy",
            "ref_batch": REF_BATCH, "opset": OPSET, "batchnorm_folded": not keep_batchnorm}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/work/zoo", help="output folder (default /work/zoo)")
    ap.add_argument("--models", help="comma-separated names (default: all)")
    ap.add_argument("--keep-batchnorm", action="store_true",
                    help="keep BatchNormalization nodes (default: folded into Conv by the exporter)")
    ap.add_argument("--list", action="store_true", help="print the model names and exit")
    args = ap.parse_args()
    if args.list:
        for name, (family, shape, _) in MODELS.items():
            print(name, family, "x".join(map(str, shape)))
        return
    names = args.models.split(",") if args.models else list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f"export.py: unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "zoo.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
    failed = []
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for name in names:
        try:
            manifest[name] = export(name, args.out, args.keep_batchnorm)
            print(f"{name}: {os.path.join(args.out, name + '.onnx')}", file=sys.stderr)
        except Exception as e:  # report every model that fails, not only the first
            failed.append(name)
            print(f"{name}: export failed: {type(e).__name__}: {e}", file=sys.stderr)
    with open(manifest_path + ".tmp", "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(manifest_path + ".tmp", manifest_path)
    if failed:
        sys.exit(f"export.py: {len(failed)} model(s) failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
