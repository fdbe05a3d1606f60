#!/usr/bin/python3
"""Anvil side by side with ONNX Runtime, PyTorch (on OpenBLAS) and oneDNN, in
one run; writes RESULTS.md. Install the peers first: bench/setup.sh.

Sections (each states the machine's load before and after it):
  zoo       the model zoo (bench/models/export.py, exported afresh into a
            temporary folder): per model, batch (1 and 8; LeNet and the MLP
            also 64) and thread count (1 and 2), the forward pass's median
            latency in Anvil (the executable's own --bench loop), ONNX Runtime
            (CPU EP, all graph optimizations, sequential, intra-op threads T,
            through node: bench/ort_bench.js) and PyTorch (eval, inference
            mode, in its own process with OMP and OpenBLAS threads T:
            bench/torch_infer.py); the ratios ORT/Anvil and PyTorch/Anvil
            (> 1: Anvil faster); anvilc's compile seconds; the errors of
            Anvil's and ORT's outputs against PyTorch's on the zoo's fixed
            input; a geometric mean over the zoo at batch 8 per thread count.
            A model Anvil cannot compile gets a row saying so.
  matmul    f32 matmul GFLOP/s, Anvil vs oneDNN (build/bin/anvil-bench-onednn);
            and int8 (u8 x s8 -> s32) at 1024^3, Anvil vs oneDNN's u8s8s32.
  training  the MLP and LeNet-5 trained on Fashion-MNIST, Anvil's trainer vs
            PyTorch (bench/torch_train.py).
  contention the MLP trainer alone and beside 2 busy processes, at the default
            thread count and at --threads 1, in alternating rounds (the
            default must not be much worse than one thread under contention).
  fusion    the graph fusions' effect: ResNet-18 (as torch exports it, batch
            norms folded, and with its batch norms kept), and MobileNetV2
            (batch 1 and 8, 1 thread) compiled by default and with
            --no-fusion, timed in alternating rounds; medians and the ratio
            (issue 10's goal for ResNet-18: >= 1.15x).
  int8-train post-training int8 quantization of the examples trained by
            Anvil's trainer on Fashion-MNIST (the MLP, LeNet-5, the batch-norm
            ResNet-8): `anvilc quantize` calibrated on training images, then
            per model the f32 and int8 test accuracy, the drop, and int8 vs
            f32 inference throughput at batch 64, 1 and 2 threads, in
            alternating rounds (issue 11's goals). --int8-checkpoints DIR
            keeps the trained checkpoints to reuse.
  bf16-train the MLP and LeNet-5 trained on Fashion-MNIST in f32 and with
            `--precision bf16` (matmuls, convolutions on vdpbf16ps tiles, f32 master
            weights), 1 and 2 threads, one shuffling seed per round, f32 and
            bf16 alternating: seconds per epoch and test accuracy (issue 11's
            bf16 goals: within 0.3 point, >= 1.3x per epoch).
  compile   anvilc's wall and CPU seconds on the zoo's largest graphs (batch 8)
            and on a generated chain of 20,000 elementwise ONNX ops, with
            kernels outlined (the default) and --no-outline-kernels.
  int8-models  ResNet-18 (batch 8) through `anvilc quantize` (calibrated on 8
            random images): Anvil int8 vs Anvil fp32 and ONNX Runtime on the
            exported QDQ model (and fp32), 1 and 2 threads, and the int8
            output's SQNR vs fp32.

Before measuring, it refuses to run when PyTorch's 512^3 matmul is slower than
--min-gflops at 1 thread (a reference BLAS, or a machine too loaded to
measure) or when ONNX Runtime is not installed.

Usage: bench/run.py [--build build] [--out bench/RESULTS.md] [--quick]
                    [--only zoo,matmul,training,contention,fusion,compile,int8-models,
                            int8-train,bf16-train] [--models a,b]
                    [--batches 1,8] [--threads 1,2] [--runs N] [--seconds S] [--rounds R]
  --quick: one model per zoo family, few runs, one MLP training epoch (a smoke
  run of a few minutes). --only replaces just those sections in --out.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
sys.path.insert(0, os.path.join(BENCH, "models"))
import export  # noqa: E402  (the zoo)

SECTIONS = ["zoo", "matmul", "training", "contention", "fusion", "compile", "int8-models",
            "int8-train", "bf16-train"]
# Each section's title in RESULTS.md, by which --only finds it.
TITLES = ["## Inference: the model zoo, Anvil vs ONNX Runtime and PyTorch",
          "## f32 matmul: Anvil vs oneDNN", "## Training: Anvil vs PyTorch",
          "## Training under contention", "## Compile time",
          "## Fusion: the graph fusions on and off (--no-fusion)",
          "## int8 models: post-training quantization, Anvil int8 vs fp32 and ONNX Runtime's QDQ",
          "## int8: post-training quantization of the trained examples",
          "## bf16 mixed-precision training"]
SETUP = "run bench/setup.sh (it installs OpenBLAS, torchvision, node and onnxruntime-node)"
# ORT's per-call cost through node is subtracted from its time when the model
# takes less than this many times that cost (see the zoo section's text).
OVERHEAD_FACTOR = 20


class Refusal(Exception):
    pass


def sh(cmd, env=None):
    return subprocess.run(cmd, check=True, capture_output=True, text=True,
                          env=env).stdout


def threads_env(threads):
    """The environment that gives every pool of a child `threads` threads:
    OpenBLAS sizes its pool at load time from OPENBLAS_NUM_THREADS."""
    return dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))


def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def cpu_name():
    """The CPU's model name and its widest vector ISA: the kernels (Anvil's,
    ONNX Runtime's MLAS, oneDNN) each pick theirs from it, so results from
    an AVX-512 and an AVX2 machine are not comparable."""
    name, flags = platform.processor(), set()
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    if "avx512f" in flags:
        isa = ["AVX-512"] + [shown for flag, shown in (("avx512_vnni", "VNNI"), ("amx_tile", "AMX"))
                             if flag in flags]
    else:
        isa = ["AVX2" if "avx2" in flags else "no AVX2"]
    return f"{name} ({', '.join(isa)})"


def median_ms(bench_output):
    return float(re.search(r"latency median ([0-9.]+) ms", bench_output).group(1))


def runs_for(estimate_s, args):
    """How many timed runs fit the per-measurement time budget."""
    return max(args.min_runs, min(args.runs, math.ceil(args.seconds / max(estimate_s, 1e-6))))


def geomean(values):
    return math.exp(statistics.mean(math.log(v) for v in values))


def one_line(stderr):
    """anvilc's error as one table-safe line: its first line without the
    `anvilc: error: PATH:` prefix, then every problem it lists, each without
    its list of node names."""
    lines = [l.strip() for l in stderr.strip().splitlines() if l.strip()]
    if not lines:
        return "anvilc failed without a message"
    first = re.sub(r"^anvilc: error: \S+: ", "", lines[0])
    problems = [re.sub(r"\((\d+x): .*", r"(\1)", l) for l in lines[1:]]
    text = first + (" " + "; ".join(problems) if problems else "")
    text = text if len(text) <= 300 else text[:297] + "..."
    return text.replace("|", "\\|")


def fmt_ratio(v):
    return f"{v:.2f}" if v >= 0.1 else f"{v:.3f}"


# --- the peers ---------------------------------------------------------------


def check_torch(min_gflops):
    """PyTorch's BLAS, measured in a child with 1 thread; refuses a slow one."""
    info = json.loads(sh([sys.executable, os.path.join(BENCH, "torch_infer.py"), "--gemm",
                          "--threads", "1"], threads_env(1)))
    print(f"PyTorch {info['torch']}: 512^3 matmul {info['gflops']:.1f} GFLOP/s (peak "
          f"{info['peak_gflops']:.1f}) at 1 thread; BLAS {info['blas_library']}", file=sys.stderr)
    # Debian's netlib BLAS lives in .../blas/ (OpenBLAS in .../openblas-pthread/).
    reference = [p for p in info["blas_library"].split(", ") if os.path.basename(os.path.dirname(p)) == "blas"]
    if reference:
        raise Refusal(f"PyTorch called the reference BLAS ({reference[0]}): its 512x512x512 "
                      f"matmul ran at {info['peak_gflops']:.1f} GFLOP/s at 1 thread; {SETUP}.")
    if info["peak_gflops"] < min_gflops:
        raise Refusal(
            f"PyTorch's 512x512x512 matmul runs at {info['peak_gflops']:.1f} GFLOP/s at 1 thread "
            f"(at best), under --min-gflops {min_gflops:g}; BLAS: {info['blas_library']}; load "
            f"average {loadavg()}. A reference BLAS runs at about 4: {SETUP}. If OpenBLAS is "
            "already there, the machine is too loaded to measure: wait and rerun.")
    return info


def check_ort(ort_dir):
    """ONNX Runtime's node package and its version; refuses when missing."""
    try:
        version = sh(["node", "-p", f"require({json.dumps(os.path.join(ort_dir, 'package.json'))}).version"]).strip()
    except (OSError, subprocess.CalledProcessError):
        raise Refusal(f"ONNX Runtime (onnxruntime-node) not found in {ort_dir}, or no node: {SETUP}, "
                      "or point --ort at an onnxruntime-node folder.")
    return version


class Anvil:
    def __init__(self, build, tmp):
        self.anvilc = os.path.join(build, "bin", "anvilc")
        self.tmp = tmp

    def compile(self, name, text):
        src = os.path.join(self.tmp, name + ".mlir")
        with open(src, "w") as f:
            f.write(text)
        exe = os.path.join(self.tmp, name)
        sh([self.anvilc, src, "-o", exe])
        return exe

    def compile_onnx(self, model, batch, exe):
        """(seconds, None) or (None, anvilc's error as one line)."""
        start = time.perf_counter()
        r = subprocess.run([self.anvilc, model, "--bind", f"batch={batch}", "-o", exe],
                           capture_output=True, text=True)
        seconds = time.perf_counter() - start
        return (seconds, None) if r.returncode == 0 else (None, one_line(r.stderr))

    def bench(self, exe, runs, threads):
        return median_ms(sh([exe, "--bench", str(runs), "--threads", str(threads)],
                            threads_env(threads)))


class Ort:
    """ONNX Runtime through node (bench/ort_bench.js)."""

    def __init__(self, ort_dir, tmp):
        self.ort_dir = ort_dir
        self.tmp = tmp

    def run(self, model, threads, cases, args):
        """Times `model` on each (shape, input .bin, output .bin) case; the
        list of {median_ms, ...}."""
        job = {"ort": self.ort_dir, "model": model, "threads": threads, "max_runs": args.runs,
               "seconds": args.seconds,
               "cases": [{"shape": s, "input": i, "output": o} for s, i, o in cases]}
        path = os.path.join(self.tmp, "ort-job.json")
        with open(path, "w") as f:
            json.dump(job, f)
        r = subprocess.run(["node", os.path.join(BENCH, "ort_bench.js"), path],
                           capture_output=True, text=True, env=threads_env(threads))
        if r.returncode != 0:
            raise RuntimeError(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed")
        return json.loads(r.stdout)["cases"]

    def overhead_ms(self, threads, args):
        """ORT's time for a one-Relu model on one float: node's per-call cost
        plus ORT's least work per run."""
        import onnx
        from onnx import TensorProto, helper
        path = os.path.join(self.tmp, "trivial.onnx")
        graph = helper.make_graph([helper.make_node("Relu", ["input"], ["output"])], "trivial",
                                  [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1])],
                                  [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1])])
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
        x = os.path.join(self.tmp, "trivial.bin")
        np.ones(1, np.float32).tofile(x)
        quick = argparse.Namespace(runs=max(args.runs, 1000), seconds=1.0)
        return self.run(path, threads, [([1], x, x + ".out")], quick)[0]["median_ms"]


# --- the zoo -------------------------------------------------------------------


def zoo_models(args):
    if args.models:
        names = args.models.split(",")
        unknown = [n for n in names if n not in export.MODELS]
        if unknown:
            raise Refusal(f"unknown model(s) {', '.join(unknown)}; the zoo has {', '.join(export.MODELS)}")
        return names
    if not args.quick:
        return list(export.MODELS)
    firsts = {}
    for name, (family, _, _) in export.MODELS.items():
        firsts.setdefault(family, name)
    return list(firsts.values())


def zoo_batches(name, args):
    if args.batches:
        return [int(b) for b in args.batches.split(",")]
    # LeNet and the MLP also at 64, issue 10's goal for LeNet.
    return [1, 8, 64] if export.MODELS[name][0] == "small" else [1, 8]


def errors(out, ref):
    """Max abs error and that over max |ref| (relative), or None."""
    if out is None or ref is None:
        return None
    out = np.asarray(out, np.float32).reshape(ref.shape)
    err = float(np.abs(out - ref).max())
    return err, err / max(float(np.abs(ref).max()), 1e-30)


def measure_model(name, anvil, ort, args, tmp, threads_list):
    """Everything the zoo table shows about one model: a dict per (batch,
    threads), and Anvil's import error if any."""
    onnx_path = os.path.join(tmp, name + ".onnx")
    export.export(name, tmp)
    batches = zoo_batches(name, args)
    compiled, compile_s, anvil_err, est = {}, {}, None, {}
    inputs = {}
    for b in batches:
        x = export.reference_input(name, b)
        npy = os.path.join(tmp, f"{name}.b{b}.in.npy")
        np.save(npy, x)
        x.tofile(npy + ".bin")
        inputs[b] = npy
        if anvil_err:
            continue
        exe = os.path.join(tmp, f"{name}.b{b}")
        seconds, anvil_err = anvil.compile_onnx(onnx_path, b, exe)
        if anvil_err:
            continue
        compile_s[b] = seconds
        # One run on the zoo's input: Anvil's output, and an upper bound on a
        # run's time (with the process start) for choosing how many to time.
        start = time.perf_counter()
        r = subprocess.run([exe, "--input", npy, "--output", exe + ".out.npy"],
                           capture_output=True, text=True, env=threads_env(max(threads_list)))
        est[b] = time.perf_counter() - start
        if r.returncode != 0:
            anvil_err = "compiled, but the executable failed: " + one_line(r.stderr)
            continue
        compiled[b] = exe
    rows = {}
    for t in threads_list:
        # Per engine and batch, one median per round.
        times = {(b, e): [] for b in batches for e in ("anvil", "ort", "torch")}
        for b in batches:
            rows[(b, t)] = {}
        # The three engines one after another at this thread count, in
        # --rounds alternating rounds: this host's load swings within
        # minutes (the same binary twice as slow a minute later), so each
        # engine gets a turn in every phase and a cell is its median round.
        for _ in range(args.rounds):
            for b, exe in compiled.items():
                times[(b, "anvil")].append(anvil.bench(exe, runs_for(est[b], args), t))
            try:
                cases = ort.run(onnx_path, t, [([b] + export.MODELS[name][1], inputs[b] + ".bin",
                                                f"{tmp}/{name}.b{b}.ort.bin") for b in batches],
                                args)
                for b, c in zip(batches, cases):
                    times[(b, "ort")].append(c["median_ms"])
            except RuntimeError as e:
                for b in batches:
                    rows[(b, t)]["ort_error"] = str(e)
            out = json.loads(sh([sys.executable, os.path.join(BENCH, "torch_infer.py"), "--model",
                                 name, "--threads", str(t), "--batches", ",".join(map(str, batches)),
                                 "--out", tmp, "--seconds", str(args.seconds),
                                 "--max-runs", str(args.runs)], threads_env(t)))
            for b, c in zip(batches, out["cases"]):
                times[(b, "torch")].append(c["median_ms"])
        for (b, engine), values in times.items():
            # An engine that failed in any round has no cell: a median over
            # fewer rounds would not be comparable with its neighbours'.
            if len(values) == args.rounds:
                rows[(b, t)][engine] = statistics.median(values)
                rows[(b, t)][engine + "_rounds"] = values
    for b in batches:
        ref = np.load(f"{tmp}/{name}.b{b}.torch.npy")
        a = np.load(compiled[b] + ".out.npy") if b in compiled else None
        o_path = f"{tmp}/{name}.b{b}.ort.bin"
        o = np.fromfile(o_path, np.float32) if os.path.exists(o_path) else None
        for t in threads_list:
            rows[(b, t)]["anvil_err"] = errors(a, ref)
            rows[(b, t)]["ort_err"] = errors(o, ref)
            rows[(b, t)]["compile_s"] = compile_s.get(b)
    return batches, rows, anvil_err


def fmt_ms(v):
    return "—" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def zoo(args, anvil, ort, tmp):
    threads_list = [int(t) for t in args.threads.split(",")]
    names = zoo_models(args)
    overhead = {t: ort.overhead_ms(t, args) for t in threads_list}
    load_before = loadavg()
    table = ["| model | batch | threads | Anvil ms | ORT ms | PyTorch ms | ORT/Anvil | "
             "PyTorch/Anvil | compile s | Anvil max abs err | Anvil rel err | ORT rel err |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    notes, ratios, failed = [], {t: [] for t in threads_list}, []
    for name in names:
        try:
            batches, rows, anvil_err = measure_model(name, anvil, ort, args, tmp, threads_list)
        except (subprocess.CalledProcessError, OSError, RuntimeError) as e:
            # A peer or the export failing on one model must not lose the others.
            detail = e.stderr.strip().splitlines()[-1] if getattr(e, "stderr", None) else str(e)
            notes.append(f"{name}: the bench failed on it: {detail}".replace("|", "\\|"))
            table.append(f"| {name} | | | bench failed (note {len(notes)}) | | | | | | | | |")
            print(f"zoo {name}: failed: {detail}", file=sys.stderr)
            continue
        if anvil_err:
            notes.append(f"{name}: {anvil_err}")
            failed.append(name)
        for b in batches:
            for i, t in enumerate(threads_list):
                r = rows[(b, t)]
                a, o, p = r.get("anvil"), r.get("ort"), r.get("torch")
                starred = o is not None and o < OVERHEAD_FACTOR * overhead[t]
                o_net = o - overhead[t] if starred else o
                ort_ratio = "—" if a is None or o is None else fmt_ratio(o_net / a) + ("*" if starred else "")
                torch_ratio = "—" if a is None else fmt_ratio(p / a)
                if a is not None and o is not None and b == 8:
                    ratios[t].append((name, o_net / a, p / a))
                # Compile time and errors once per batch, on its first row.
                ae, oe, cs = (r["anvil_err"], r["ort_err"], r["compile_s"]) if i == 0 else (None,) * 3
                if a is not None:
                    anvil_cell = fmt_ms(a)
                else:
                    anvil_cell = f"not compiled (note {len(notes)})" if anvil_err else "—"
                ort_cell = fmt_ms(o) if o is not None else "failed: " + r.get("ort_error", "?")
                table.append(
                    f"| {name} | {b} | {t} | {anvil_cell} | {ort_cell} | {fmt_ms(p)} | "
                    f"{ort_ratio} | {torch_ratio} | {f'{cs:.1f}' if cs else ''} | "
                    f"{f'{ae[0]:.2e}' if ae else ''} | {f'{ae[1]:.1e}' if ae else ''} | "
                    f"{f'{oe[1]:.1e}' if oe else ''} |")
        print(f"zoo {name}: done", file=sys.stderr)
    load_after = loadavg()
    lines = [TITLES[0] + "\n",
             f"Models from `bench/models/export.py` (random init, ONNX opset {export.OPSET}, symbolic "
             "batch), each compiled by `anvilc MODEL.onnx --bind batch=B`. Median latency in ms of "
             f"at least {args.min_runs} and at most {args.runs} timed runs (about "
             f"{args.seconds:g} s per measurement) after warm-up (Anvil's: at least 10 runs and "
             "50 ms; the others': 3 runs); the engines take turns, model by model and thread count "
             f"by thread count, in {args.rounds} rounds, and each cell is the median of its "
             "rounds' medians (this host's speed swings within minutes). Anvil: the executable's "
             "`--bench` loop (in process, zero "
             "inputs). ONNX Runtime: CPU execution provider, all graph "
             "optimizations, sequential execution, intra-op threads = threads, called from node "
             "(`bench/ort_bench.js`). PyTorch: eval, inference mode, its own process with OMP and "
             "OpenBLAS at that many threads (`bench/torch_infer.py`). Ratios are peer ms / Anvil ms: "
             "**> 1 means Anvil is faster**. Errors are against PyTorch's output on the zoo's fixed "
             "input (seeded normal) at that batch: max abs error, and it over max |PyTorch output| "
             "(rel). Compile s: anvilc's wall seconds for that batch.\n",
             "ONNX Runtime through node pays a fixed cost per call: a one-Relu model takes "
             + ", ".join(f"{overhead[t] * 1000:.0f} µs at {t} thread(s)" for t in threads_list)
             + f". Where ORT's time is under {OVERHEAD_FACTOR}x that, its ratio (marked *) uses ORT's "
             "time minus that cost, which favours ORT.\n",
             f"On {cpu_name()}; load average (1/5/15 min) before: {load_before}; after: {load_after}.\n"]
    lines += table
    if ratios and any(ratios.values()):
        lines.append("\n**Geometric mean over the zoo at batch 8** (models Anvil compiles):\n")
        lines.append("| threads | models | ORT/Anvil | PyTorch/Anvil | lowest ORT/Anvil |")
        lines.append("|---|---|---|---|---|")
        for t in threads_list:
            if not ratios[t]:
                continue
            low = min(ratios[t], key=lambda r: r[1])
            lines.append(f"| {t} | {len(ratios[t])} | {fmt_ratio(geomean(r[1] for r in ratios[t]))} | "
                         f"{fmt_ratio(geomean(r[2] for r in ratios[t]))} | {fmt_ratio(low[1])} ({low[0]}) |")
        if failed:
            lines.append(f"\nNot in the mean (Anvil cannot compile them): {', '.join(failed)}.")
    if notes:
        lines.append("\nNotes:\n")
        lines += [f"{i + 1}. {n}" for i, n in enumerate(notes)]
    return lines


# --- matmul, training, contention (Anvil's own models) ------------------------


def matmul_model(m, n, k):
    return (f"func.func @forward(%a: tensor<{m}x{k}xf32>, %b: tensor<{k}x{n}xf32>) -> tensor<{m}x{n}xf32> {{\n"
            f"  %c = anvil.matmul %a, %b : tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>\n"
            f"  return %c : tensor<{m}x{n}xf32>\n}}\n")


def qmatmul_model(m, n, k, weight=-127):
    """u8 activations by constant int8 weights (anvil-int8-matmul's case).
    The values do not change the time, but their range picks the kernel
    without VNNI: weights within [-64, 64] take the vpmaddubsw tile, others
    (real quantized weights reach +-127) the exact vpmaddwd one."""
    return (f"func.func @forward(%a: tensor<{m}x{k}xui8>, %za: tensor<ui8>) -> tensor<{m}x{n}xi32> {{\n"
            f"  %w = anvil.constant dense<{weight}> : tensor<{k}x{n}xi8>\n"
            f"  %zw = anvil.constant dense<0> : tensor<i8>\n"
            f"  %c = anvil.qmatmul %a, %w, %za, %zw : tensor<{m}x{k}xui8>, tensor<{k}x{n}xi8>, tensor<ui8>, tensor<i8>\n"
            f"  return %c : tensor<{m}x{n}xi32>\n}}\n")


def matmul(args, anvil):
    runs = 5 if args.quick else 30
    onednn = os.path.join(args.build, "bin", "anvil-bench-onednn")
    lines = [TITLES[1] + "\n",
             f"GFLOP/s (median of {runs} runs); ratio = Anvil / oneDNN. On {cpu_name()}; load average before: "
             f"{loadavg()}.\n",
             "| M x N x K | threads | Anvil GFLOP/s | oneDNN GFLOP/s | ratio |",
             "|---|---|---|---|---|"]
    shapes = [(s, s, s) for s in (64, 128, 256, 512, 1024)]
    shapes += [(64, 256, 784), (64, 128, 256), (64, 10, 128)]
    # A convolution's GEMM per image (passes/Conversion/AnvilToLinalg/Conv.cpp):
    # M = output channels, N = output pixels, K = input channels x kernel
    # window; B is the im2col buffer (or a 1x1 convolution's input), rows N
    # floats apart. ResNet-18's 3x3 convolutions, then ResNet-50's 1x1 ones.
    shapes += [(64, 3136, 576), (128, 784, 1152), (256, 196, 2304), (512, 49, 4608),
               (64, 3136, 64), (256, 3136, 64), (1024, 196, 256), (2048, 49, 512)]
    exes = {shape: anvil.compile("mm_%dx%dx%d" % shape, matmul_model(*shape)) for shape in shapes}
    f32 = {}
    for t in (1, 2):
        flat = [str(v) for shape in shapes for v in shape]
        dnnl = {}
        for line in sh([onednn, str(runs)] + flat, threads_env(t)).splitlines():
            m, n, k, ms = line.split()[:4]
            dnnl[(int(m), int(n), int(k))] = float(ms)
        for shape in shapes:
            flop = 2.0 * shape[0] * shape[1] * shape[2]
            a = flop / anvil.bench(exes[shape], runs, t) / 1e6
            d = flop / dnnl[shape] / 1e6
            f32[(shape, t)] = a
            lines.append(f"| {shape[0]} x {shape[1]} x {shape[2]} | {t} | {a:.1f} | {d:.1f} | {a / d:.2f} |")
        print(f"matmul, {t} thread(s): done", file=sys.stderr)
    lines += int8_matmul(args, anvil, onednn, runs, f32)
    lines.append(f"\nLoad average after: {loadavg()}.")
    return lines


def int8_matmul(args, anvil, onednn, runs, f32):
    """The int8 rows (issue 11): u8 x s8 -> s32, Anvil's anvil-int8-matmul
    (vpdpbusd, and its portable path) vs oneDNN's u8s8s32 matmul (weights
    reordered once), beside Anvil's f32 of the same shape."""
    shape = (1024, 1024, 1024)
    lines = ["\nint8: u8 x s8 -> s32 with constant weights packed at compile time (oneDNN: "
             "reordered once), GOP/s (2 ops per multiply-add, median of "
             f"{runs} runs); ratio = Anvil / oneDNN; the issue's goal is >= 0.75 at 1 thread. "
             f"On {cpu_name()}; load average before: {loadavg()}.\n",
             "Anvil int8: weights of -127 (any int8 weights: vpdpbusd with VNNI, else the exact "
             "vpmaddwd tile); small: weights of 1 (within [-64, 64], which the vpmaddubsw tile "
             "needs without VNNI); portable: --int8-matmul=portable (no VNNI), weights of -127.\n",
             "| M x N x K | threads | Anvil int8 | small weights | portable (no VNNI) | oneDNN int8 | "
             "ratio | Anvil f32 GFLOP/s | int8 / f32 |",
             "|---|---|---|---|---|---|---|---|---|"]
    exe = anvil.compile("qmm_%dx%dx%d" % shape, qmatmul_model(*shape))
    small = anvil.compile("qmm_small_%dx%dx%d" % shape, qmatmul_model(*shape, weight=1))
    src = os.path.join(anvil.tmp, "qmm_%dx%dx%d.mlir" % shape)
    portable = os.path.join(anvil.tmp, "qmm_portable")
    sh([anvil.anvilc, src, "--int8-matmul=portable", "-o", portable])
    ops = 2.0 * shape[0] * shape[1] * shape[2]
    for t in (1, 2):
        out = sh([onednn, "--int8", str(runs)] + [str(v) for v in shape], threads_env(t))
        d = ops / float(out.split()[3]) / 1e6
        a = ops / anvil.bench(exe, runs, t) / 1e6
        sm = ops / anvil.bench(small, runs, t) / 1e6
        p = ops / anvil.bench(portable, runs, t) / 1e6
        f = f32.get((shape, t), 0.0)
        lines.append(f"| {shape[0]} x {shape[1]} x {shape[2]} | {t} | {a:.1f} | {sm:.1f} | {p:.1f} | {d:.1f} | "
                     f"{a / d:.2f} | {f:.1f} | {a / f if f else 0:.2f} |")
    return lines


def peak_rss(cmd, env=None, capture=False):
    """Runs `cmd` in a fresh process (via a tiny wrapper that reports the
    child's peak RSS in KB) and returns the peak RSS (and stdout)."""
    wrapper = ("import resource, subprocess, sys; "
               "r = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True); "
               "sys.stdout.write(r.stdout); "
               "print('RSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    stdout = sh([sys.executable, "-c", wrapper] + cmd, env)
    rss = int(stdout.strip().splitlines()[-1].split()[1])
    return (rss, stdout) if capture else rss


def training(args, anvil, tmp):
    epochs = 1 if args.quick else args.epochs
    lines = [TITLES[2] + "\n",
             "All of Fashion-MNIST, batch 64, SGD lr 0.05 momentum 0.9, each run in its own "
             f"process (PyTorch with OMP and OpenBLAS at that many threads): the MLP for {epochs} "
             f"epoch(s), LeNet-5 for {args.lenet_epochs}. Seconds per epoch are the median over "
             "epochs (ratio = PyTorch / Anvil, higher is better for Anvil); accuracy is on the test "
             "set after the last epoch; peak RSS is the process's maximum resident set. Load "
             f"average before: {loadavg()}.\n",
             "| model | threads | Anvil s/epoch | PyTorch s/epoch | ratio | Anvil acc % | "
             "PyTorch acc % | Anvil peak RSS MB | PyTorch peak RSS MB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, n in (("mlp", epochs), ("lenet", args.lenet_epochs)):
        trainer = os.path.join(tmp, "trainer-" + name)
        sh([anvil.anvilc, "train", os.path.join(ROOT, "examples", name + ".mlir"), "--lr",
            "0.05", "--momentum", "0.9", "-o", trainer])
        for t in (1, 2):
            report = os.path.join(tmp, f"report-{name}{t}.json")
            anvil_rss = peak_rss([trainer, "--epochs", str(n), "--threads", str(t),
                                  "--report-json", report])
            a = json.load(open(report))
            rss, stdout = peak_rss([sys.executable, os.path.join(BENCH, "torch_train.py"),
                                    "--model", name, "--epochs", str(n), "--threads", str(t)],
                                   threads_env(t), capture=True)
            p = [json.loads(l) for l in stdout.splitlines() if l.startswith("{")]
            a_s = statistics.median(e["seconds"] for e in a)
            p_s = statistics.median(e["seconds"] for e in p)
            lines.append(f"| {name} | {t} | {a_s:.3f} | {p_s:.3f} | {p_s / a_s:.2f} | "
                         f"{a[-1]['test_accuracy']:.2f} | {p[-1]['test_accuracy']:.2f} | "
                         f"{anvil_rss / 1024:.0f} | {rss / 1024:.0f} |")
            print(f"training {name}, {t} thread(s): done", file=sys.stderr)
    lines.append(f"\nLoad average after: {loadavg()}.")
    return lines


def epoch_seconds(trainer, threads, epochs, tmp):
    """The median seconds per epoch of `trainer` (--report-json), with libomp's
    wait policy left to the trainer (--wait-policy auto unless the user sets
    OMP_WAIT_POLICY or KMP_BLOCKTIME)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("KMP_BLOCKTIME", "OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    report = os.path.join(tmp, "report-contention.json")
    cmd = [trainer, "--epochs", str(epochs), "--report-json", report]
    sh(cmd + (["--threads", str(threads)] if threads else []), env)
    return statistics.median(e["seconds"] for e in json.load(open(report)))


def contention(args, anvil, tmp, epochs=3, rounds=3):
    """The MLP trainer alone and beside 2 busy processes, at the default thread
    count and at --threads 1: the table's lines. The four measurements take turns
    within each round, so that the load of the shared machine, which swings within
    minutes, falls on all of them alike; each cell is the median over the rounds."""
    trainer = os.path.join(tmp, "trainer-contention")
    sh([anvil.anvilc, "train", os.path.join(ROOT, "examples", "mlp.mlir"), "--lr", "0.05",
        "--momentum", "0.9", "-o", trainer])
    lines = [TITLES[3] + "\n",
             f"The MLP trainer's seconds per epoch alone and beside 2 busy processes "
             "(`python3 -c 'while True: pass'`), at the default thread count (all cores) and at "
             f"`--threads 1`: each cell the median over {rounds} rounds of the median of "
             f"{epochs} epochs, the four measurements taking turns within a round; ratio = "
             "busy / alone; vs 1 thread = busy / busy at `--threads 1` (the issue's figure: "
             "the default must never be much worse than one thread under contention). The "
             "trainer's default wait policy (`--wait-policy auto`) lets idle libomp threads "
             "spin only while its thread is not kept waiting for a core, and sleep at once "
             "otherwise, so the busy processes cost about their share of the cores (always "
             "spinning made an epoch beside 2 busy loops take 35-69 s instead of 2.4-5.3 s). "
             f"On {cpu_name()}; load average before: {loadavg()}.\n",
             "| threads | alone s/epoch | 2 busy s/epoch | ratio | vs 1 thread |",
             "|---|---|---|---|---|"]
    kinds = (None, 1)
    alone = {t: [] for t in kinds}
    loaded = {t: [] for t in kinds}
    for r in range(rounds):
        for threads in kinds:
            alone[threads].append(epoch_seconds(trainer, threads, epochs, tmp))
            busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                    for _ in range(2)]
            try:
                loaded[threads].append(epoch_seconds(trainer, threads, epochs, tmp))
            finally:
                for p in busy:
                    p.kill()
                    p.wait()
        print(f"contention, round {r + 1} of {rounds}: done", file=sys.stderr)
    one = statistics.median(loaded[1])
    for threads in kinds:
        a, b = statistics.median(alone[threads]), statistics.median(loaded[threads])
        name = f"default ({os.cpu_count()})" if threads is None else str(threads)
        lines.append(f"| {name} | {a:.3f} | {b:.3f} | {b / a:.2f} | {b / one:.2f} |")
    lines.append(f"\nLoad average after: {loadavg()}.")
    return lines


# --- compile time ----------------------------------------------------------------


def chain_model(ops, path):
    """Writes an ONNX graph of `ops` elementwise ops in one chain on [1, 1024]
    floats (Add, Relu, Mul, Sigmoid, Tanh in turn): issue 9's compile-time
    case, whose cost grows with the op count alone."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    kinds = ["Add", "Relu", "Mul", "Sigmoid", "Tanh"]
    nodes, prev = [], "x"
    for i in range(ops):
        kind = kinds[i % len(kinds)]
        nodes.append(helper.make_node(kind, [prev, "c"] if kind in ("Add", "Mul") else [prev], [f"t{i}"]))
        prev = f"t{i}"
    graph = helper.make_graph(
        nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1024])],
        [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1, 1024])],
        [numpy_helper.from_array(np.array([0.5], np.float32), "c")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def fusion(args, anvil, tmp, rounds=5):
    """Each model compiled with and without the graph fusions, the two timed
    one after the other in `rounds` rounds (the machine's state drifts over
    minutes, so alternating keeps the pair comparable): the lines."""
    # (name, BatchNormalization kept): torch's exporter folds every batch norm
    # into the convolution before it, which leaves Anvil's own folding nothing
    # to do; the "+BN" rows are the same networks exported with their batch
    # norms kept (export.py --keep-batchnorm), as a model from another
    # exporter or framework arrives.
    models = [("resnet18", False), ("resnet18", True)]
    if not args.quick:
        models.append(("mobilenet_v2", False))
    runs = 3 if args.quick else 10
    lines = [TITLES[5] + "\n",
             f"Forward latency at 1 thread, the median over {rounds} alternating rounds of the "
             f"executable's own median of {runs} runs, by default and with `anvilc --no-fusion` "
             "(no batch-norm folding, matmul epilogues, elementwise fusion, pad folding or "
             "sinking of concats); ratio = no fusion / fusion. A model marked +BN is exported "
             "with its BatchNormalization nodes kept (torch's exporter otherwise folds them into "
             "the convolutions, so the plain rows have none left to fold). "
             f"On {cpu_name()}; load average before: {loadavg()}.\n",
             "| model | batch | fused ms | unfused ms | ratio | fused min | unfused min |",
             "|---|---|---|---|---|---|---|"]
    for name, keep_bn in models:
        out = os.path.join(tmp, "batchnorm") if keep_bn else tmp
        os.makedirs(out, exist_ok=True)
        export.export(name, out, keep_batchnorm=keep_bn)
        onnx_path = os.path.join(out, name + ".onnx")
        label = name + (" +BN" if keep_bn else "")
        for b in [1, 8]:
            exes = []
            for extra in ([], ["--no-fusion"]):
                exe = os.path.join(out, f"{name}.b{b}{'.unfused' if extra else ''}")
                sh([anvil.anvilc, onnx_path, "--bind", f"batch={b}", "-o", exe] + extra)
                exes.append(exe)
            times = [[], []]
            for _ in range(rounds):
                for i, exe in enumerate(exes):
                    times[i].append(anvil.bench(exe, runs, 1))
            fused, unfused = (statistics.median(t) for t in times)
            lines.append(f"| {label} | {b} | {fmt_ms(fused)} | {fmt_ms(unfused)} | "
                         f"{unfused / fused:.2f} | {fmt_ms(min(times[0]))} | {fmt_ms(min(times[1]))} |")
            print(f"fusion, {label} batch {b}: done", file=sys.stderr)
    lines.append(f"\nLoad average after: {loadavg()}.")
    return lines


FASHION = "/usr/share/datasets/fashion-mnist"
# The examples int8-train trains and quantizes: name, epochs, calibration
# samples, trainer options. Calibration runs on the reference interpreter,
# whose naive convolutions take minutes for 512 ResNet-8 images.
INT8_MODELS = [("mlp", 5, 512, ["--lr", "0.05", "--momentum", "0.9"]),
               ("lenet", 5, 512, ["--lr", "0.05", "--momentum", "0.9"]),
               ("resnet8", 3, 64, ["--lr", "0.05", "--momentum", "0.9"])]


# QAT's trainer options (and its f32 baseline's): fine-tuning from a
# trained checkpoint, a fifth of the first training's learning rate.
QAT_LR = "0.01"
FINETUNE_OPTIONS = ["--lr", QAT_LR, "--momentum", "0.9"]


def fashion(split):
    """Fashion-MNIST's `split` ("train", "t10k"): uint8 images [N, 1, 28, 28]
    and int64 labels."""
    import gzip
    with gzip.open(f"{FASHION}/{split}-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{FASHION}/{split}-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return x, y


def trained_checkpoint(args, anvil, name, epochs, options, folder):
    """`folder`/NAME.ckpt: the example trained by Anvil's trainer on all of
    Fashion-MNIST (reused when there), and the seconds of each epoch
    (None when reused)."""
    ckpt = os.path.join(folder, name + ".ckpt")
    if os.path.exists(ckpt):
        return ckpt, None
    trainer = os.path.join(folder, "trainer-" + name)
    report = os.path.join(folder, name + "-report.json")
    sh([anvil.anvilc, "train", os.path.join(ROOT, "examples", name + ".mlir"), *options,
        "-o", trainer])
    sh([trainer, "--data", FASHION, "--epochs", str(epochs), "--save", ckpt + ".tmp",
        "--report-json", report])
    os.replace(ckpt + ".tmp", ckpt)
    return ckpt, [e["seconds"] for e in json.load(open(report))]


def finetuned_checkpoint(args, anvil, name, ckpt, calib, samples, options, folder, qat):
    """`folder`/NAME-qat.ckpt (`qat`) or NAME-more.ckpt: one more epoch from
    the f32 checkpoint (`anvilc train --init-from`), through fake int8 with
    `qat` (`--qat`, its ranges calibrated on `samples` of `calib`), else in
    f32 (the same epoch without fake quantization, QAT's baseline); reused
    when there. Also the epoch's seconds (None when reused)."""
    tag = "qat" if qat else "more"
    out = os.path.join(folder, f"{name}-{tag}.ckpt")
    if os.path.exists(out):
        return out, None
    trainer = os.path.join(folder, f"trainer-{tag}-{name}")
    report = os.path.join(folder, f"{name}-{tag}-report.json")
    extra = ["--qat", "--calibrate", calib, "--samples", str(samples)] if qat else []
    sh([anvil.anvilc, "train", os.path.join(ROOT, "examples", name + ".mlir"), "--init-from",
        ckpt, *extra, *options, "-o", trainer])
    sh([trainer, "--data", FASHION, "--epochs", "1", "--save", out + ".tmp",
        "--report-json", report])
    os.replace(out + ".tmp", out)
    return out, json.load(open(report))[-1]["seconds"]


def accuracy(exe, chunks, labels, tmp):
    """Top-1 accuracy (%) of the executable over the images of `chunks` (.npy
    files of one batch each; a quantized model is not marked as keeping its
    samples apart, so it takes exactly its batch)."""
    out, right = os.path.join(tmp, "int8-logits.npy"), 0
    for i, chunk in enumerate(chunks):
        sh([exe, "--input", chunk, "--output", out])
        right += int((np.load(out).argmax(1) == labels[i * 64:(i + 1) * 64]).sum())
    return 100.0 * right / (64 * len(chunks))


# The least time of one int8-train throughput measurement.
INT8_TRAIN_SECONDS = 0.5


def int8_trained(args, anvil, tmp, rounds=3):
    """Issue 11's post-training quantization goals on the trained examples:
    f32 vs int8 test accuracy and throughput at batch 64 (each model's own
    batch), the two executables timed in alternating rounds, each cell the
    median round. Whatever anvil-quantize rewrites is int8 (today matmuls;
    convolutions stay f32 until it takes them): the table's `int8 ops` column
    counts the quantized ops of each model."""
    folder = args.int8_checkpoints or os.path.join(tmp, "int8-checkpoints")
    os.makedirs(folder, exist_ok=True)
    train_x, train_y = fashion("train")
    test_x, test_y = fashion("t10k")
    calib, calib_labels = os.path.join(tmp, "calib.npy"), os.path.join(tmp, "calib-labels.npy")
    # Calibration samples from the training split (never the test images).
    np.save(calib, train_x[:max(args.int8_samples or 0, 512)])
    np.save(calib_labels, train_y[:max(args.int8_samples or 0, 512)])
    chunks = []
    for i in range(len(test_x) // 64):
        chunks.append(os.path.join(tmp, f"test-{i}.npy"))
        np.save(chunks[-1], test_x[i * 64:(i + 1) * 64].astype(np.float32) / np.float32(255))
    runs = 10 if args.quick else 50
    lines = [TITLES[7] + "\n",
             "The examples trained by Anvil's trainer on all of Fashion-MNIST (batch 64, SGD lr "
             "0.05 momentum 0.9; epochs in the table), then `anvilc quantize --method "
             f"{args.int8_method}` calibrated on the first training images (as many as the table "
             "says); "
             "accuracy is top-1 on the first 9,984 test images (156 batches), f32 and int8 executables alike "
             "(`anvilc --weights CKPT`, `anvilc MODEL-int8.mlir`). int8 ops: the ops "
             "anvil-quantize made int8 of the model's matmuls and convolutions. Throughput: "
             f"samples/s at batch 64 (--bench N: at least {runs} calls, and enough for "
             f"{INT8_TRAIN_SECONDS:g} s, past the first 0.1 s in which idle threads sleep "
             f"between loops), f32 and int8 taking turns in {rounds} "
             f"rounds, each cell the median round; speedup = int8 / f32. Issue 11's goals: drop "
             "<= 0.3 point for the MLP and LeNet, <= 0.5 for ResNet-8; int8 >= 2.5x f32 for LeNet "
             f"and ResNet-8. QAT: one more epoch from the f32 checkpoint through fake int8 "
             f"(`anvilc train --qat --init-from CKPT`, SGD lr {QAT_LR} momentum 0.9, ranges "
             "calibrated on the same samples and fixed), its checkpoint then quantized with those "
             "ranges (`anvilc quantize --weights QAT.ckpt`). Its baseline is the same epoch in f32 "
             "(the same command without `--qat`: +1 epoch f32 acc), since the extra epoch alone "
             "changes the accuracy; QAT drop = that f32 acc - QAT int8 acc (goal <= 0.2 for "
             "ResNet-8). --only-faster: `anvilc quantize --only-faster`, which keeps f32 the "
             "layers whose int8 form compiled alone took > 1.1x their f32 time on this machine "
             "(the report's per-layer times). "
             f"Load average before: {loadavg()}.\n",
             "| model | epochs | s/epoch | calibration samples | int8 ops | f32 acc % | int8 acc % | "
             "drop (points) | QAT s/epoch | +1 epoch f32 acc % | QAT int8 acc % | QAT drop | threads | "
             "f32 samples/s | int8 samples/s | speedup | --only-faster int8 ops | acc % | "
             "samples/s | speedup |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, epochs, samples, options in INT8_MODELS:
        samples = args.int8_samples or samples
        model = os.path.join(ROOT, "examples", name + ".mlir")
        ckpt, seconds = trained_checkpoint(args, anvil, name, epochs, options, folder)
        qmodel = os.path.join(tmp, name + "-int8.mlir")
        sh([anvil.anvilc, "quantize", model, "--weights", ckpt, "--calibrate", calib, "--labels",
            calib_labels, "--samples", str(samples), "--method", args.int8_method,
            "-o", qmodel])
        text = open(qmodel).read()
        quantized = len(re.findall(r"anvil\.q(?:matmul|conv)", text))
        total = len(re.findall(r"anvil\.(?:matmul|conv2d)\b", open(model).read()))
        f32_exe, int8_exe = os.path.join(tmp, name + "-f32"), os.path.join(tmp, name + "-int8")
        sh([anvil.anvilc, model, "--weights", ckpt, "-o", f32_exe])
        sh([anvil.anvilc, qmodel, "-o", int8_exe])
        # --only-faster: the layers int8 slows down (timed alone) kept f32.
        fast_model, fast_exe = (os.path.join(tmp, name + "-fast" + e) for e in (".mlir", ""))
        sh([anvil.anvilc, "quantize", model, "--weights", ckpt, "--calibrate", calib, "--labels",
            calib_labels, "--samples", str(samples), "--method", args.int8_method,
            "--no-layer-sqnr", "--only-faster", "-o", fast_model])
        sh([anvil.anvilc, fast_model, "-o", fast_exe])
        fast_ops = len(re.findall(r"anvil\.q(?:matmul|conv)", open(fast_model).read()))
        fast_acc = accuracy(fast_exe, chunks, test_y, tmp)
        f32_acc = accuracy(f32_exe, chunks, test_y, tmp)
        int8_acc = accuracy(int8_exe, chunks, test_y, tmp)
        per_epoch = f"{statistics.median(seconds):.1f}" if seconds else "(reused)"
        # Quantization-aware training from the same checkpoint.
        qat_ckpt, qat_seconds = finetuned_checkpoint(args, anvil, name, ckpt, calib, samples,
                                                     FINETUNE_OPTIONS, folder, qat=True)
        more_ckpt, _ = finetuned_checkpoint(args, anvil, name, ckpt, calib, samples,
                                            FINETUNE_OPTIONS, folder, qat=False)
        more_exe = os.path.join(tmp, name + "-more-f32")
        sh([anvil.anvilc, model, "--weights", more_ckpt, "-o", more_exe])
        more_acc = accuracy(more_exe, chunks, test_y, tmp)
        qat_model, qat_exe = (os.path.join(tmp, name + "-qat-int8" + e) for e in (".mlir", ""))
        sh([anvil.anvilc, "quantize", model, "--weights", qat_ckpt, "--calibrate", calib,
            "--labels", calib_labels, "--samples", str(samples), "--no-layer-sqnr",
            "--no-layer-times", "-o", qat_model])
        sh([anvil.anvilc, qat_model, "-o", qat_exe])
        qat_acc = accuracy(qat_exe, chunks, test_y, tmp)
        qat_epoch = f"{qat_seconds:.1f}" if qat_seconds else "(reused)"
        for t in (1, 2):
            times = {f32_exe: [], int8_exe: [], fast_exe: []}
            # At least `runs` calls, and enough for INT8_TRAIN_SECONDS per
            # measurement: 50 calls of LeNet int8 take 8 ms, all inside the
            # first 0.1 s in which the runtime's auto wait policy lets idle
            # threads sleep (runtime/WaitPolicy.h), so each call would pay
            # the threads' wake-up, which no longer-running user sees.
            counts = {exe: max(runs, math.ceil(INT8_TRAIN_SECONDS * 1000 /
                                               anvil.bench(exe, 10, t)))
                      for exe in times}
            for _ in range(rounds):
                for exe in times:
                    times[exe].append(anvil.bench(exe, counts[exe], t))
            f32_ms, int8_ms, fast_ms = (statistics.median(times[e])
                                        for e in (f32_exe, int8_exe, fast_exe))
            lines.append(f"| {name} | {epochs} | {per_epoch} | {samples} | {quantized} of {total} | "
                         f"{f32_acc:.2f} | {int8_acc:.2f} | {f32_acc - int8_acc:.2f} | "
                         f"{qat_epoch} | {more_acc:.2f} | {qat_acc:.2f} | {more_acc - qat_acc:.2f} | "
                         f"{t} | "
                         f"{64000 / f32_ms:.0f} | {64000 / int8_ms:.0f} | {f32_ms / int8_ms:.2f} | "
                         f"{fast_ops} of {total} | {fast_acc:.2f} | {64000 / fast_ms:.0f} | "
                         f"{f32_ms / fast_ms:.2f} |")
        print(f"int8-train {name}: done", file=sys.stderr)
    lines.append(f"\nLoad average after: {loadavg()}.")
    return lines


def bf16_trained(args, anvil, tmp, rounds=3):
    """The MLP and LeNet trained in f32 and in bf16 (`--precision bf16`), at 1
    and 2 threads: per round one shuffling seed, f32 and bf16 in turn."""
    epochs = {"mlp": 1 if args.quick else 5, "lenet": 1 if args.quick else 3}
    rounds = 1 if args.quick else rounds
    lines = [TITLES[8] + "\n",
             "All of Fashion-MNIST, batch 64, SGD lr 0.05 momentum 0.9; each model compiled by "
             "`anvilc train` in f32 and with `--precision bf16` (every matmul and one-group "
             "convolution of @train_step, forward and gradients, on bf16-rounded operands "
             "with f32 accumulation: the `vdpbf16ps` tiles; weights, optimizer and every "
             f"other op f32). {rounds} rounds, each with its own shuffling seed (`--seed`), "
             "the f32 and "
             "bf16 trainers in turn: s/epoch is the median over every epoch of every round, "
             f"accuracy the mean test accuracy after the last epoch (the MLP {epochs['mlp']} "
             f"epochs, LeNet {epochs['lenet']}). Speedup = f32 / bf16 s/epoch. On "
             f"{cpu_name()}; load average before: {loadavg()}.\n",
             "| model | threads | f32 s/epoch | bf16 s/epoch | speedup | f32 acc % | bf16 acc % "
             "| bf16 - f32 points | accuracy per seed (f32 / bf16) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in ("mlp", "lenet"):
        trainers = {}
        for mode, flags in (("f32", []), ("bf16", ["--precision", "bf16"])):
            trainers[mode] = os.path.join(tmp, f"trainer-{name}-{mode}")
            sh([anvil.anvilc, "train", os.path.join(ROOT, "examples", name + ".mlir"),
                "--lr", "0.05", "--momentum", "0.9", "-o", trainers[mode]] + flags)
        for t in (1, 2):
            seconds = {"f32": [], "bf16": []}
            acc = {"f32": [], "bf16": []}
            for r in range(rounds):
                for mode in ("f32", "bf16"):
                    report = os.path.join(tmp, f"report-{name}-{mode}.json")
                    sh([trainers[mode], "--epochs", str(epochs[name]), "--threads", str(t),
                        "--seed", str(r), "--report-json", report])
                    a = json.load(open(report))
                    seconds[mode] += [e["seconds"] for e in a]
                    acc[mode].append(a[-1]["test_accuracy"])
            f, b = statistics.median(seconds["f32"]), statistics.median(seconds["bf16"])
            fa, ba = statistics.mean(acc["f32"]), statistics.mean(acc["bf16"])
            seeds = ", ".join(f"{x:.2f} / {y:.2f}" for x, y in zip(acc["f32"], acc["bf16"]))
            lines.append(f"| {name} | {t} | {f:.3f} | {b:.3f} | {f / b:.2f} | {fa:.2f} | "
                         f"{ba:.2f} | {ba - fa:+.2f} | {seeds} |")
            print(f"bf16-train {name}, {t} thread(s): done", file=sys.stderr)
    lines.append(f"\nLoad average after: {loadavg()}.")
    return lines


def children_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def compile_times(args, anvil, tmp):
    """anvilc's wall and CPU seconds per graph, outlined and not: the lines."""
    import onnx
    chain_ops = 2000 if args.quick else 20000
    graphs = [(f"chain of {chain_ops:,} elementwise ops", os.path.join(tmp, "chain.onnx"), [])]
    chain_model(chain_ops, graphs[0][1])
    for name in (["resnet18"] if args.quick else ["resnet18", "efficientnet_b0", "densenet121"]):
        export.export(name, tmp)
        graphs.append((f"{name}, batch 8", os.path.join(tmp, name + ".onnx"), ["--batch", "8"]))
    lines = [TITLES[4] + "\n",
             "`anvilc MODEL -o EXE` end to end (import, phases, code generation on all cores, "
             "link): wall seconds and CPU seconds (user + system of anvilc, its code generation "
             "threads, ld and the linker), by default and with `--no-outline-kernels` (every "
             "loop nest left in one function: LLVM's optimizations are superlinear in a "
             "function's size). `anvilc --time-phases` shows where the time of one compile "
             f"goes. On {cpu_name()}; load average before: {loadavg()}.\n",
             "| graph | ONNX nodes | wall s | CPU s | not outlined: wall s | CPU s |",
             "|---|---|---|---|---|---|"]
    for title, path, flags in graphs:
        cells = []
        for extra in ([], ["--no-outline-kernels"]):
            cpu, start = children_cpu_seconds(), time.perf_counter()
            sh([anvil.anvilc, path, "-o", os.path.join(tmp, "compiled")] + flags + extra)
            cells += [f"{time.perf_counter() - start:.1f}", f"{children_cpu_seconds() - cpu:.1f}"]
        nodes = len(onnx.load(path, load_external_data=False).graph.node)
        lines.append(f"| {title} | {nodes} | " + " | ".join(cells) + " |")
        print(f"compile, {title}: done", file=sys.stderr)
    lines.append(f"\nLoad average after: {loadavg()}.")
    return lines


# --- the results file ----------------------------------------------------------


# --- int8 models ---------------------------------------------------------------


def sqnr_db(ref, got):
    noise = float(np.sum((ref.astype(np.float64) - got) ** 2))
    return float("inf") if noise == 0 else 10 * math.log10(float(np.sum(ref.astype(np.float64) ** 2)) / noise)


def int8_zoo_model(args, anvil, ort, tmp, name, batch, calibration, threads_list):
    """One zoo model quantized by `anvilc quantize` (calibrated on
    `calibration` random normal images, as the zoo's inputs are): its rows of
    the int8-models table. Anvil fp32 (the ONNX model), Anvil int8 (the
    quantized .mlir), ONNX Runtime on the QDQ .onnx the same command exports,
    in alternating rounds; the int8 output's SQNR against fp32 (compiled, on
    the zoo's input)."""
    export.export(name, tmp)
    onnx_path = os.path.join(tmp, name + ".onnx")
    cal = os.path.join(tmp, f"{name}.cal.npy")
    np.save(cal, np.random.default_rng(5).standard_normal(
        [calibration] + export.MODELS[name][1]).astype(np.float32))
    report = os.path.join(tmp, f"{name}.int8.json")
    qmlir, qonnx = os.path.join(tmp, f"{name}.int8.mlir"), os.path.join(tmp, f"{name}.int8.onnx")
    start = time.perf_counter()
    for out in (qmlir, qonnx):
        # The per-layer SQNRs are one reference run of the model per layer:
        # minutes for a ResNet, so not here.
        sh([anvil.anvilc, "quantize", onnx_path, "--bind", f"batch={batch}", "--calibrate", cal,
            "--samples", str(calibration), "--no-layer-sqnr", "--report-json", report, "-o", out])
    quantize_s = (time.perf_counter() - start) / 2
    r = json.load(open(report))
    int8_layers = len(r["layers"])
    convs = sum(l["op"] == "conv2d" for l in r["layers"])
    f32_exe, int8_exe = os.path.join(tmp, f"{name}.f32"), os.path.join(tmp, f"{name}.int8")
    seconds, err = anvil.compile_onnx(onnx_path, batch, f32_exe)
    if err:
        raise RuntimeError(f"{name} fp32: {err}")
    sh([anvil.anvilc, qmlir, "-o", int8_exe])
    x = export.reference_input(name, batch)
    xin = os.path.join(tmp, f"{name}.int8.in.npy")
    np.save(xin, x)
    x.tofile(xin + ".bin")
    outs = {}
    for exe in (f32_exe, int8_exe):
        sh([exe, "--input", xin, "--output", exe + ".out.npy"])
        outs[exe] = np.load(exe + ".out.npy")
    sqnr = sqnr_db(outs[f32_exe], outs[int8_exe])
    runs = max(args.min_runs, min(args.runs, 20))
    lines = []
    for t in threads_list:
        times = {"f32": [], "int8": [], "ort_qdq": [], "ort_f32": []}
        ort_err = None
        for _ in range(args.rounds):
            times["f32"].append(anvil.bench(f32_exe, runs, t))
            times["int8"].append(anvil.bench(int8_exe, runs, t))
            try:
                for key, model in (("ort_qdq", qonnx), ("ort_f32", onnx_path)):
                    c = ort.run(model, t, [([batch] + export.MODELS[name][1], xin + ".bin",
                                            f"{tmp}/{name}.{key}.bin")], args)[0]
                    times[key].append(c["median_ms"])
            except RuntimeError as e:
                ort_err = str(e)
        med = {k: statistics.median(v) if len(v) == args.rounds else None for k, v in times.items()}
        ort_sqnr = None
        if os.path.exists(f"{tmp}/{name}.ort_qdq.bin"):
            ort_sqnr = sqnr_db(outs[f32_exe].ravel(), np.fromfile(f"{tmp}/{name}.ort_qdq.bin", np.float32))
        ratio = lambda a, b: fmt_ratio(a / b) if a and b else "—"  # noqa: E731
        lines.append(
            f"| {name} | {batch} | {t} | {int8_layers} ({convs} conv) | {fmt_ms(med['f32'])} | "
            f"{fmt_ms(med['int8'])} | {ratio(med['f32'], med['int8'])} | {fmt_ms(med['ort_qdq'])} | "
            f"{fmt_ms(med['ort_f32'])} | {ratio(med['ort_qdq'], med['int8'])} | {sqnr:.1f} | "
            f"{'—' if ort_sqnr is None else f'{ort_sqnr:.1f}'} | {quantize_s:.0f} |"
            + (f" ORT: {ort_err}" if ort_err else ""))
        print(f"int8-models {name}, {t} thread(s): done", file=sys.stderr)
    return lines


def int8_models(args, anvil, ort, tmp):
    """Whole models through `anvilc quantize` (issue 11): int8 vs fp32 time
    and accuracy, and ONNX Runtime on the QDQ model Anvil exports."""
    threads_list = [int(t) for t in args.threads.split(",")]
    lines = [TITLES[6] + "\n",
             f"`anvilc quantize MODEL --bind batch=B --calibrate RANDOM.npy --no-layer-sqnr` "
             f"(minmax ranges; u8 activations, s8 weights per output channel), then `anvilc "
             f"q.mlir` (int8) and `anvilc MODEL` (fp32); ONNX Runtime runs the QDQ model that "
             f"the same command writes with `-o q.onnx` (and the fp32 ONNX model). Median ms "
             f"of {args.rounds} alternating rounds; speedup = Anvil fp32 / Anvil int8; vs ORT = "
             f"ORT QDQ / Anvil int8 (> 1: Anvil faster). SQNR: the compiled int8 output vs the "
             f"compiled fp32 one on the zoo's input (dB). On {cpu_name()}: without AVX-512 VNNI "
             f"the int8 tiles are AVX2's exact vpmaddwd on i16 pairs. Load average before: "
             f"{loadavg()}.\n",
             "| model | batch | threads | int8 layers | Anvil f32 ms | Anvil int8 ms | speedup | "
             "ORT QDQ ms | ORT f32 ms | vs ORT QDQ | SQNR dB | ORT QDQ SQNR dB | quantize s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += int8_zoo_model(args, anvil, ort, tmp, "resnet18", 8, 8, threads_list)
    lines.append(f"\nLoad average after: {loadavg()}.")
    return lines


def split_sections(text):
    """The header (before the first `## `) and {title line: section text}."""
    parts = re.split(r"(?m)^(?=## )", text)
    return parts[0], {p.splitlines()[0]: p for p in parts[1:]}


def write_results(path, header, sections, replace):
    """Writes `header` and `sections` (lists of lines) to `path` through a
    temporary file; with `replace`, the sections of the existing file that
    this run did not measure are kept, in their order."""
    new = {lines[0].strip(): "\n".join(lines).rstrip("\n") + "\n" for lines in sections}
    if replace and os.path.exists(path):
        _, old = split_sections(open(path).read())
        # Sections this bench no longer writes (an older layout's) are dropped.
        merged = [new.pop(title) if title in new else text.rstrip("\n") + "\n"
                  for title, text in old.items() if title in TITLES]
        body = merged + list(new.values())
    else:
        body = list(new.values())
    text = "\n".join(header) + "\n\n" + "\n".join(body)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(BENCH, "RESULTS.md"))
    ap.add_argument("--ort", default=os.path.join(BENCH, ".cache", "ort", "node_modules", "onnxruntime-node"),
                    help="the onnxruntime-node folder (default: where bench/setup.sh installs it)")
    ap.add_argument("--quick", action="store_true",
                    help="one zoo model per family, few runs, 1 MLP training epoch")
    ap.add_argument("--only", help="comma-separated sections to run (%s); the others in --out are kept"
                    % ",".join(SECTIONS))
    ap.add_argument("--models", help="zoo models (default: all; --quick: the first of each family)")
    ap.add_argument("--batches", help="zoo batches (default 1,8, and 64 for LeNet and the MLP)")
    ap.add_argument("--threads", default="1,2", help="zoo thread counts (default 1,2)")
    ap.add_argument("--runs", type=int, help="most timed runs per zoo measurement (default 200; --quick 20)")
    ap.add_argument("--min-runs", type=int, help="fewest timed runs per zoo measurement (default 10; --quick 5)")
    ap.add_argument("--seconds", type=float, help="time per zoo measurement (default 1; --quick 0.5)")
    ap.add_argument("--rounds", type=int,
                    help="alternating rounds of the engines per zoo model and thread count; a cell "
                    "is the median round (default 3; --quick 1)")
    ap.add_argument("--min-gflops", type=float, default=20.0,
                    help="refuse when PyTorch's 512^3 matmul is slower at 1 thread (default 20)")
    ap.add_argument("--epochs", type=int, default=5, help="MLP training epochs per run")
    ap.add_argument("--lenet-epochs", type=int, default=1, help="LeNet training epochs per run")
    ap.add_argument("--int8-checkpoints",
                    help="int8-train: a folder for the trained checkpoints (NAME.ckpt there is reused)")
    ap.add_argument("--int8-samples", type=int,
                    help="int8-train: calibration samples (default 512, ResNet-8 64)")
    ap.add_argument("--int8-method", default="percentile",
                    help="int8-train: anvilc quantize --method (default percentile)")
    args = ap.parse_args()
    args.runs = args.runs or (20 if args.quick else 200)
    args.min_runs = min(args.min_runs or (5 if args.quick else 10), args.runs)
    args.seconds = args.seconds if args.seconds is not None else (0.5 if args.quick else 1.0)
    args.rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    for option, value in (("--rounds", args.rounds), ("--runs", args.runs)):
        if value < 1:
            sys.exit(f"bench/run.py: {option} {value}: must be at least 1")
    if args.seconds <= 0:
        sys.exit(f"bench/run.py: --seconds {args.seconds:g}: must be more than 0")
    only = args.only.split(",") if args.only else SECTIONS
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        sys.exit(f"bench/run.py: unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")

    load_start = loadavg()
    try:
        torch_info = check_torch(args.min_gflops)
        ort_version = check_ort(args.ort) if "zoo" in only or "int8-models" in only else None
        if ort_version:
            print(f"ONNX Runtime {ort_version} (onnxruntime-node in {args.ort})", file=sys.stderr)
    except Refusal as e:
        sys.exit(f"bench/run.py: refusing to run: {e}")
    sections = []
    with tempfile.TemporaryDirectory() as tmp:
        anvil = Anvil(args.build, tmp)
        ort = Ort(args.ort, tmp)
        try:
            if "zoo" in only:
                sections.append(zoo(args, anvil, ort, tmp))
            if "matmul" in only:
                sections.append(matmul(args, anvil))
            if "training" in only:
                sections.append(training(args, anvil, tmp))
            if "contention" in only:
                sections.append(contention(args, anvil, tmp))
            if "fusion" in only:
                sections.append(fusion(args, anvil, tmp))
            if "compile" in only:
                sections.append(compile_times(args, anvil, tmp))
            if "int8-models" in only:
                sections.append(int8_models(args, anvil, ort, tmp))
            if "int8-train" in only:
                sections.append(int8_trained(args, anvil, tmp))
            if "bf16-train" in only:
                sections.append(bf16_trained(args, anvil, tmp))
        except Refusal as e:
            sys.exit(f"bench/run.py: {e}")
    dnnl = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libdnnl-dev"],
                          capture_output=True, text=True).stdout or "?"
    header = [
        "# Benchmark results",
        "",
        f"Measured {datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M')} UTC by "
        f"`/usr/bin/python3 bench/run.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}` on "
        f"{cpu_name()}, {os.cpu_count()} cores. This machine is shared and noisy: compare "
        f"ratios, not absolutes. Load average (1/5/15 min) at the start: {load_start}; at the "
        f"end: {loadavg()}." + (" **A --quick smoke run: few models and runs.**" if args.quick else ""),
        "",
        "Peers:",
        f"- ONNX Runtime {ort_version or '(not measured in this run)'} (npm `onnxruntime-node`, "
        "CPU execution provider), installed by `bench/setup.sh`;",
        f"- PyTorch {torch_info['torch']} (Debian; BLAS_INFO={torch_info['blas_info']}, which "
        f"calls the system BLAS: {torch_info['blas_library']}); its 512^3 f32 matmul ran at "
        f"{torch_info['gflops']:.1f} GFLOP/s at 1 thread;",
        f"- oneDNN {dnnl} (Debian's libdnnl-dev), for the matmul section.",
    ]
    if args.only:
        header.append("\nThis run measured only: " + ", ".join(only) +
                      "; the other sections are from earlier runs (their own load lines tell when).")
    text = write_results(args.out, header, sections, replace=bool(args.only))
    print(text)


if __name__ == "__main__":
    main()
