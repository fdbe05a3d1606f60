#!/usr/bin/python3
"""Exports the two example networks from PyTorch as ONNX models.

    /usr/bin/python3 examples/onnx/export_models.py OUTDIR [--seed S]

writes OUTDIR/mlp.onnx (784-256-128-10, ReLU) and OUTDIR/lenet.onnx (LeNet-5
for 28x28 images), the same architectures as examples/mlp.mlir and
examples/lenet.mlir, with PyTorch's default initialization from the seed, a
symbolic batch dimension named "batch" and opset 13. Compile them with
`anvilc ... --bind batch=64`, or train them:

    anvilc train OUTDIR/lenet.onnx --bind batch=64 --loss cross-entropy \
        --lr 0.05 --momentum 0.9 -o trainer
"""
import argparse
import os

import torch
from torch import nn


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                         nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


MODELS = {"mlp": mlp, "lenet": lenet}


def export(model, path):
    model.eval()
    example = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(model, example, path, input_names=["image"],
                      output_names=["logits"], opset_version=13,
                      dynamic_axes={"image": {0: "batch"},
                                    "logits": {0: "batch"}})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    for name, make in MODELS.items():
        torch.manual_seed(args.seed)
        export(make(), os.path.join(args.outdir, name + ".onnx"))
        print("wrote", os.path.join(args.outdir, name + ".onnx"))


if __name__ == "__main__":
    main()
