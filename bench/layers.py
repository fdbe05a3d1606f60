#!/usr/bin/python3
"""Per-layer time of one ONNX model, Anvil beside ONNX Runtime: where the
milliseconds are lost.

Anvil's side: the model is compiled once into an executable (with its fusion
report, `anvilc --fusion-report=json`: every kernel with the ONNX node names
it covers) and once to the `llvm` phase with locations
(`--mlir-print-debuginfo`), which says which node names each outlined loop
nest (`forward_kernelN`, anvil-outline-kernels) came from. `perf record` of
the executable's --bench loop gives each loop nest's share of the samples
(its OpenMP bodies, `forward_kernelN..omp_par*`, count as its own); a
report kernel's time is the sum of its loop nests' shares times the median
latency. ONNX Runtime's side: its profiler (bench/ort_profile.js) gives each
node's median kernel time; a node that ONNX Runtime's NCHWc layout rewrote
is named after its output tensor, mapped back to the node producing it.
Both sides' nodes meet at the fusion report's kernels.

Prints one row per kernel with a convolution or matmul (and one summing the
rest), sorted by the milliseconds Anvil loses to ONNX Runtime: the shape
(the report's pattern), GFLOP, Anvil ms, ONNX Runtime ms, the ratio ORT/Anvil
(> 1: Anvil faster) and both sides' GFLOP/s. At more than one thread the
shares are of CPU time, spread over the latency.

Usage: bench/layers.py MODEL.onnx [--batch 8] [--threads 1] [--runs 10]
                       [--build build] [--ort DIR] [--keep DIR] [--json OUT]
Needs perf, node and onnxruntime-node (bench/setup.sh, or --ort DIR).
"""
import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
DEFAULT_ORT = os.path.join(BENCH, ".cache", "ort", "node_modules", "onnxruntime-node")


def sh(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"layers.py: {' '.join(cmd)} failed:\n{r.stderr.strip()[-2000:]}")
    return r.stdout


def threads_env(threads):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    return env


# --- Anvil ---------------------------------------------------------------------

LOC_DEF = re.compile(r'^(#loc\d*) = loc\((.*)\)\s*$')
LOC_REF = re.compile(r'#loc\d*\b')
# A NameLoc: a quoted name followed by its child location.
LOC_NAME = re.compile(r'"((?:[^"\\]|\\.)*)"\(')
FUNC = re.compile(r'llvm\.func (?:\w+ )*@(\w+)\(')


def kernel_names(llvm_ir):
    """{outlined function: Counter of the node names its ops came from, one
    count per op}. (Constants that CSE merged keep one node's location, so a
    loop nest also names a few nodes it has nothing to do with: the counts
    tell them apart.)"""
    defs, uses, current = {}, collections.defaultdict(collections.Counter), None
    with open(llvm_ir) as f:
        for line in f:
            m = LOC_DEF.match(line)
            if m:
                defs[m.group(1)] = m.group(2)
                continue
            m = FUNC.search(line)
            if m:
                current = m.group(1)
            if current is None:
                continue
            for r in LOC_REF.findall(line):
                uses[current][r] += 1
            for n in LOC_NAME.findall(line):
                uses[current]['"' + n] += 1
    memo = {}

    def names(alias, seen=()):
        if alias.startswith('"'):
            return {alias[1:]}
        if alias in memo:
            return memo[alias]
        text = defs.get(alias, "")
        out = set(LOC_NAME.findall(text))
        for r in LOC_REF.findall(text):
            if r != alias and r not in seen:
                out |= names(r, seen + (alias,))
        memo[alias] = out
        return out

    funcs = {}
    for func, counts in uses.items():
        funcs[func] = collections.Counter()
        for r, count in counts.items():
            for n in names(r):
                funcs[func][n] += count
    return funcs


def perf_shares(exe, threads, runs, tmp):
    """({function: share of the samples}, median ms) of `exe --bench runs`."""
    data = os.path.join(tmp, "perf.data")
    out = sh(["perf", "record", "-q", "-o", data, exe, "--threads", str(threads),
              "--bench", str(runs)], threads_env(threads))
    median = float(re.search(r"latency median ([0-9.]+) ms", out).group(1))
    report = sh(["perf", "report", "-i", data, "--no-children", "--sort", "sym", "--stdio",
                 "--percent-limit", "0"])
    shares = collections.Counter()
    for line in report.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+\[.\]\s+(\S+)", line)
        if m:
            # forward_kernel7..omp_par.3 is forward_kernel7's parallel body.
            shares[m.group(2).split("..")[0]] += float(m.group(1)) / 100
    return shares, median


# --- ONNX Runtime --------------------------------------------------------------


def ort_nodes(model, shape, threads, runs, ort_dir, tmp):
    prof = os.path.join(tmp, "ort-profile")
    os.makedirs(prof, exist_ok=True)
    job = os.path.join(tmp, "ort-job.json")
    with open(job, "w") as f:
        json.dump({"ort": ort_dir, "model": model, "threads": threads, "runs": runs,
                   "shape": shape, "profile_dir": prof}, f)
    return json.loads(sh(["node", os.path.join(BENCH, "ort_profile.js"), job],
                         threads_env(threads)))


# --- the table -----------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--ort", default=os.environ.get("ORT_NODE", DEFAULT_ORT),
                   help="onnxruntime-node's folder (default: bench/.cache's, or $ORT_NODE)")
    p.add_argument("--keep", help="keep the executable and IR in this folder")
    p.add_argument("--json", help="also write the rows as JSON here")
    p.add_argument("--anvilc-args", default="", help="extra anvilc options, space-separated")
    args = p.parse_args()
    if not os.path.isdir(args.ort):
        sys.exit(f"layers.py: no onnxruntime-node at {args.ort}: run bench/setup.sh or pass --ort")

    tmp = args.keep or tempfile.mkdtemp(prefix="anvil-layers-")
    os.makedirs(tmp, exist_ok=True)
    anvilc = os.path.join(args.build, "bin", "anvilc")
    extra = args.anvilc_args.split()
    exe = os.path.join(tmp, "model")
    report = json.loads(sh([anvilc, args.model, "--bind", f"batch={args.batch}",
                            "--fusion-report=json", "-o", exe] + extra))
    llvm_ir = os.path.join(tmp, "model.llvm.mlir")
    sh([anvilc, args.model, "--bind", f"batch={args.batch}", "--compile-to=llvm",
        "--mlir-print-debuginfo", "-o", llvm_ir] + extra)
    funcs = kernel_names(llvm_ir)
    kernels = report["kernels"]
    owner = {}  # node name -> report kernel index
    for i, k in enumerate(kernels):
        for s in k["sources"]:
            owner.setdefault(s, i)

    def kernel_of(names):
        votes = collections.Counter()
        for n, count in names.items():
            if n in owner:
                votes[owner[n]] += count
        return min(votes, key=lambda i: (-votes[i], i)) if votes else None

    shares, anvil_ms = perf_shares(exe, args.threads, args.runs, tmp)
    anvil = collections.defaultdict(float)
    for func, share in shares.items():
        anvil[kernel_of(funcs.get(func, {}))] += share * anvil_ms

    graph = onnx.load(args.model, load_external_data=False).graph
    producer = {o: n.name for n in graph.node for o in n.output}
    dims = [d.dim_value or args.batch for d in graph.input[0].type.tensor_type.shape.dim]
    ort = ort_nodes(args.model, dims, args.threads, args.runs, args.ort, tmp)
    ort_ms = collections.defaultdict(float)
    for name, node in ort["nodes"].items():
        base = name[:-len("_nchwc")] if name.endswith("_nchwc") else name
        # A node ONNX Runtime fused keeps the last original name before
        # "/<Rule>Fusion/" (a SiLU's Mul: ".../Mul/QuickGeluFusion/").
        base = re.sub(r"/[A-Za-z]+Fusion/?$", "", base)
        ort_ms[owner.get(base, owner.get(producer.get(base)))] += node["us"] / 1000

    # A chunk function's kernels run once per chunk (anvil-split-batch); the
    # report's FLOPs are one call's.
    calls = {}
    for split in report.get("split_batch", []):
        m = re.search(r"into (\d+) chunks", split["note"])
        if m:
            calls[split["function"] + "__chunk"] = int(m.group(1))
    rows, others, rest = [], [], {"anvil": 0.0, "ort": 0.0, "flops": 0}
    for i, k in enumerate(kernels):
        flops = k["flops"] * calls.get(k["function"], 1)
        row = {"layer": k["sources"][0], "pattern": k["pattern"], "flops": flops,
               "anvil_ms": anvil.get(i, 0.0), "ort_ms": ort_ms.get(i, 0.0)}
        if any(op in ("conv2d", "matmul") for op in k["ops"]):
            rows.append(row)
        else:
            others.append(row)
            rest["anvil"] += row["anvil_ms"]
            rest["ort"] += row["ort_ms"]
            rest["flops"] += row["flops"]
    rest["anvil"] += anvil.get(None, 0.0)
    rest["ort"] += ort_ms.get(None, 0.0)
    rows.sort(key=lambda r: r["ort_ms"] - r["anvil_ms"])

    def gflops(flops, ms):
        return flops / ms / 1e6 if ms > 0 else float("nan")

    print(f"{os.path.basename(args.model)} batch {args.batch}, {args.threads} thread(s): "
          f"Anvil {anvil_ms:.1f} ms, ONNX Runtime {ort['median_ms']:.1f} ms per call "
          f"(node's timer; its nodes sum to {sum(ort_ms.values()):.1f} ms); load "
          f"{os.getloadavg()[0]:.2f}")
    head = f"{'lost ms':>8} {'Anvil ms':>9} {'ORT ms':>8} {'ORT/Anvil':>9} {'GFLOP':>7} " \
           f"{'Anvil GF/s':>10} {'ORT GF/s':>9}  layer: pattern"
    print(head)

    def line(r):
        lost = r["anvil_ms"] - r["ort_ms"]
        ratio = r["ort_ms"] / r["anvil_ms"] if r["anvil_ms"] > 0 else float("nan")
        print(f"{lost:8.1f} {r['anvil_ms']:9.2f} {r['ort_ms']:8.2f} {ratio:9.2f} "
              f"{r['flops'] / 1e9:7.2f} {gflops(r['flops'], r['anvil_ms']):10.1f} "
              f"{gflops(r['flops'], r['ort_ms']):9.1f}  {r['layer']}: {r['pattern']}")

    for r in rows:
        line(r)
    conv_a = sum(r["anvil_ms"] for r in rows)
    conv_o = sum(r["ort_ms"] for r in rows)
    print(f"{conv_a - conv_o:8.1f} {conv_a:9.2f} {conv_o:8.2f} "
          f"{conv_o / conv_a if conv_a else float('nan'):9.2f} "
          f"{sum(r['flops'] for r in rows) / 1e9:7.2f} {'':>10} {'':>9}  all convolutions and matmuls")
    print(f"{rest['anvil'] - rest['ort']:8.1f} {rest['anvil']:9.2f} {rest['ort']:8.2f} "
          f"{rest['ort'] / rest['anvil'] if rest['anvil'] else float('nan'):9.2f} "
          f"{rest['flops'] / 1e9:7.2f} {'':>10} {'':>9}  everything else (incl. unattributed samples)")
    # Of everything else, the kernels worth a look: 1% of Anvil's time or
    # of ONNX Runtime's, and the samples no kernel claimed.
    others = [r for r in others if max(r["anvil_ms"] / anvil_ms, r["ort_ms"] / ort["median_ms"]) >= 0.01]
    others.sort(key=lambda r: r["ort_ms"] - r["anvil_ms"])
    if others or anvil.get(None):
        print("of which:")
        for r in others:
            line(r)
        if anvil.get(None):
            print(f"{anvil[None] - ort_ms.get(None, 0.0):8.1f} {anvil[None]:9.2f} "
                  f"{ort_ms.get(None, 0.0):8.2f} {'':>9} {'':>7} {'':>10} {'':>9}  "
                  "outside the report's kernels (Anvil: runtime, libc, OpenMP; ORT: layout reorders)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"model": args.model, "batch": args.batch, "threads": args.threads,
                       "anvil_ms": anvil_ms, "ort_ms": ort["median_ms"], "rows": rows,
                       "rest": rest}, f, indent=1)


if __name__ == "__main__":
    main()
