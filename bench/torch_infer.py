#!/usr/bin/python3
"""PyTorch's side of bench/run.py's inference comparison, one process per
thread count, so that the thread count reaches every pool: bench/run.py sets
OMP_NUM_THREADS and OPENBLAS_NUM_THREADS (OpenBLAS sizes its pool when it
loads and ignores torch.set_num_threads) and this sets torch's.

  torch_infer.py --gemm
      times a 512x512x512 f32 matmul (20 runs) and prints JSON: {"gflops"
      (median), "peak_gflops" (fastest run: less hurt by a loaded machine),
      "torch", "blas_info", "blas_library"}: which BLAS the process really
      loaded, so that a reference BLAS can be refused.
  torch_infer.py --model NAME --threads T --batches 1,8 --out DIR
                 [--seconds S] [--max-runs N]
      builds zoo model NAME (bench/models/export.py: the same seed, so the
      same weights as its ONNX export), and for each batch runs the zoo's
      reference input of that batch, saves the output to DIR/NAME.bB.torch.npy
      and times the forward pass (eval, inference mode): 3 warm-up calls,
      then max(5, min(N, S seconds' worth)) timed calls. Prints JSON:
      {"cases": [{"batch", "median_ms", "min_ms", "runs"}]}.
"""
import argparse
import json
import math
import os
import re
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "models"))
import export  # noqa: E402  (the zoo's definitions)


def timed(fn, seconds, max_runs):
    warm = []
    for _ in range(3):
        start = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - start)
    runs = max(5, min(max_runs, math.ceil(seconds / statistics.mean(warm))))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": statistics.median(times), "min_ms": min(times), "runs": runs}


def blas_library():
    """The BLAS shared library this process mapped (Debian's libblas.so.3
    alternative resolves to OpenBLAS or to the reference BLAS)."""
    paths = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if re.search(r"blas", os.path.basename(path)):
                paths.add(os.path.realpath(path))
    return ", ".join(sorted(paths)) or "none mapped"


def gemm():
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    t = timed(lambda: torch.mm(a, b), 0.5, 20)
    info = re.search(r"BLAS_INFO=([^,]+)", torch.__config__.show())
    return {"gflops": 2 * 512 ** 3 / t["median_ms"] / 1e6,
            "peak_gflops": 2 * 512 ** 3 / t["min_ms"] / 1e6, "torch": torch.__version__,
            "blas_info": info.group(1) if info else "?", "blas_library": blas_library()}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gemm", action="store_true")
    ap.add_argument("--model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--out")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--max-runs", type=int, default=200)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.gemm:
        print(json.dumps(gemm()))
        return
    model = export.build(args.model)
    cases = []
    with torch.inference_mode():
        for batch in map(int, args.batches.split(",")):
            x = torch.from_numpy(export.reference_input(args.model, batch))
            np.save(os.path.join(args.out, f"{args.model}.b{batch}.torch.npy"), model(x).numpy())
            cases.append(dict(batch=batch, **timed(lambda: model(x), args.seconds, args.max_runs)))
    print(json.dumps({"cases": cases}))


if __name__ == "__main__":
    main()
