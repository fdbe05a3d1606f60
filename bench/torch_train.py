#!/usr/bin/python3
"""PyTorch's side of bench/run.py's training comparison.

Trains the same MLP as examples/mlp.mlir (784-256-128-10, ReLU), or with
--model lenet the LeNet-5 of examples/lenet.mlir, or with --model resnet8
the ResNet-8 of examples/resnet8.mlir (all defined in
bench/models/export.py), on
Fashion-MNIST with the same hyperparameters as the Anvil trainer (SGD, lr,
momentum, batch 64, shuffled, last partial batch dropped), and prints one
JSON line per epoch: seconds, train_loss, test_loss, test_accuracy.

Usage: torch_train.py --epochs N --threads T [--model mlp|lenet|resnet8] [--lr 0.05]
                      [--momentum 0.9]
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "models"))
import export  # noqa: E402  (the MLP, LeNet-5 and ResNet-8)

DATA = "/usr/share/datasets/fashion-mnist"


def load(split):
    with gzip.open(f"{DATA}/{split}-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{DATA}/{split}-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy(x.astype(np.float32) / 255), torch.from_numpy(y.astype(np.int64))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--model", choices=["mlp", "lenet", "resnet8"], default="mlp")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    model = {"mlp": export.mlp, "lenet": export.lenet, "resnet8": export.resnet8}[args.model]()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    batch = 64
    for epoch in range(args.epochs):
        perm = torch.randperm(len(xtr))
        start = time.perf_counter()
        total, steps = 0.0, len(xtr) // batch
        model.train()
        for s in range(steps):
            idx = perm[s * batch:(s + 1) * batch]
            opt.zero_grad()
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            total += loss.item()
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            n = len(xte) // batch * batch
            logits = model(xte[:n])
            test_loss = F.cross_entropy(logits, yte[:n]).item()
            accuracy = (logits.argmax(1) == yte[:n]).float().mean().item() * 100
        print(json.dumps({"epoch": epoch + 1, "seconds": seconds, "train_loss": total / steps,
                          "test_loss": test_loss, "test_accuracy": accuracy}), flush=True)


if __name__ == "__main__":
    main()
