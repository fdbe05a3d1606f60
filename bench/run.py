#!/usr/bin/python3
"""Anvil side by side with oneDNN and PyTorch (CPU), in one run; writes RESULTS.md.

Measures, on this machine, in one process tree so that the numbers share the
machine's state:
  1. f32 matmul GFLOP/s for square sizes 64..1024 and the MLP's layer shapes:
     Anvil (`anvilc` on a one-matmul model, timed by the executable's --bench)
     against oneDNN (build/bin/anvil-bench-onednn), 1 and 2 threads;
  2. MLP and LeNet inference, batch-1 latency and batch-256 throughput:
     Anvil's executables against PyTorch (Debian's python3-torch) running the
     same network, 1 and 2 threads;
  3. the compile time of each example;
  4. training the MLP and LeNet-5 (batch 64, SGD lr 0.05, momentum 0.9):
     Anvil's trainer against PyTorch (bench/torch_train.py), 1 and 2
     threads: seconds per epoch, test accuracy after the same epochs, peak
     RSS;
  5. the MLP trainer under contention: seconds per epoch at the default
     thread count and at --threads 1, alone and beside 2 busy processes.
Every figure is a median over repeated runs; ratios are Anvil / other for
throughput (higher is better for Anvil) and other / Anvil for latency.

Usage: bench/run.py [--build build] [--out bench/RESULTS.md] [--quick]
                    [--only contention]
"""
import argparse
import datetime
import json
import os
import platform
import resource
import re
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(cmd, env=None):
    return subprocess.run(cmd, check=True, capture_output=True, text=True,
                          env=env).stdout


def median_ms(bench_output):
    return float(re.search(r"latency median ([0-9.]+) ms", bench_output).group(1))


def cpu_name():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


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

    def bench(self, exe, runs, threads):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        return median_ms(sh([exe, "--bench", str(runs)], env))


def matmul_model(m, n, k):
    return (f"func.func @forward(%a: tensor<{m}x{k}xf32>, %b: tensor<{k}x{n}xf32>) -> tensor<{m}x{n}xf32> {{\n"
            f"  %c = anvil.matmul %a, %b : tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>\n"
            f"  return %c : tensor<{m}x{n}xf32>\n}}\n")


def example(name, batch):
    with open(os.path.join(ROOT, "examples", name + ".mlir")) as f:
        return f.read().replace("tensor<64x", f"tensor<{batch}x")


def torch_mlp():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))


def torch_lenet():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10))


def torch_ms(model, batch, runs, threads):
    torch.set_num_threads(threads)
    x = torch.zeros(batch, 1, 28, 28)
    times = []
    with torch.no_grad():
        for _ in range(3):
            model(x)
        for _ in range(runs):
            start = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def peak_rss(cmd, capture=False):
    """Runs `cmd` in a fresh process (via a tiny wrapper that reports the
    child's peak RSS in KB) and returns the peak RSS (and stdout)."""
    wrapper = ("import resource, subprocess, sys; "
               "r = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True); "
               "sys.stdout.write(r.stdout); "
               "print('RSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    stdout = sh([sys.executable, "-c", wrapper] + cmd)
    rss = int(stdout.strip().splitlines()[-1].split()[1])
    return (rss, stdout) if capture else rss


def epoch_seconds(trainer, threads, epochs, tmp):
    """The median seconds per epoch of `trainer` (--report-json), with libomp's
    wait policy left to the trainer (KMP_BLOCKTIME=0 unless the user sets one)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("KMP_BLOCKTIME", "OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    report = os.path.join(tmp, "report-contention.json")
    cmd = [trainer, "--epochs", str(epochs), "--report-json", report]
    sh(cmd + (["--threads", str(threads)] if threads else []), env)
    return statistics.median(e["seconds"] for e in json.load(open(report)))


def contention(anvil, tmp, epochs=3):
    """The MLP trainer alone and beside 2 busy processes: the table's lines."""
    trainer = os.path.join(tmp, "trainer-contention")
    sh([anvil.anvilc, "train", os.path.join(ROOT, "examples", "mlp.mlir"), "--lr", "0.05",
        "--momentum", "0.9", "-o", trainer])
    lines = ["\n## Training under contention\n",
             f"The MLP trainer's seconds per epoch (median of {epochs}) alone and beside 2 busy "
             "processes (`python3 -c 'while True: pass'`), at the default thread count (all "
             "cores) and at `--threads 1`; ratio = busy / alone. Idle libomp threads sleep at "
             "once (the trainer sets KMP_BLOCKTIME=0 unless KMP_BLOCKTIME or OMP_WAIT_POLICY is "
             "set), so the busy processes cost about their share of the cores (before, spinning "
             "threads made an epoch beside 2 busy loops take 35-69 s instead of 2.4-5.3 s).\n",
             "| threads | alone s/epoch | 2 busy s/epoch | ratio |",
             "|---|---|---|---|"]
    for threads in (None, 1):
        alone = epoch_seconds(trainer, threads, epochs, tmp)
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
        try:
            loaded = epoch_seconds(trainer, threads, epochs, tmp)
        finally:
            for p in busy:
                p.kill()
                p.wait()
        name = f"default ({os.cpu_count()})" if threads is None else str(threads)
        lines.append(f"| {name} | {alone:.3f} | {loaded:.3f} | {loaded / alone:.2f} |")
        print(f"contention, {name} thread(s): done", file=sys.stderr)
    return lines


def replace_section(path, lines):
    """Replaces the section `lines` starts (its `## ` title) in the results file
    at `path`, or appends it."""
    title = lines[0].strip()
    text = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
    start = text.find(title)
    if start < 0:
        start = end = len(text)
    else:
        end = text.find("\n## ", start + len(title))
        end = len(text) if end < 0 else end + 1
    rest = "\n" + text[end:] if end < len(text) else ""
    text = text[:start].rstrip("\n") + "\n" + "\n".join(lines) + "\n" + rest
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    ap.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    ap.add_argument("--epochs", type=int, default=5, help="MLP training epochs per run")
    ap.add_argument("--lenet-epochs", type=int, default=1, help="LeNet training epochs per run")
    ap.add_argument("--only", choices=["contention"],
                    help="run only this section and replace it in --out")
    args = ap.parse_args()
    if args.only == "contention":
        with tempfile.TemporaryDirectory() as tmp:
            lines = contention(Anvil(args.build, tmp), tmp)
        replace_section(args.out, lines)
        print("\n".join(lines))
        return
    runs = 5 if args.quick else 30
    onednn = os.path.join(args.build, "bin", "anvil-bench-onednn")
    threads = [1, 2]
    lines = []
    out = lines.append

    with tempfile.TemporaryDirectory() as tmp:
        anvil = Anvil(args.build, tmp)
        out("## f32 matmul: Anvil vs oneDNN\n")
        out("GFLOP/s (median of %d runs); ratio = Anvil / oneDNN.\n" % runs)
        out("| M x N x K | threads | Anvil GFLOP/s | oneDNN GFLOP/s | ratio |")
        out("|---|---|---|---|---|")
        shapes = [(s, s, s) for s in (64, 128, 256, 512, 1024)]
        shapes += [(64, 256, 784), (64, 128, 256), (64, 10, 128)]
        exes = {shape: anvil.compile("mm_%dx%dx%d" % shape, matmul_model(*shape)) for shape in shapes}
        for t in threads:
            env = dict(os.environ, OMP_NUM_THREADS=str(t))
            flat = [str(v) for shape in shapes for v in shape]
            dnnl = {}
            for line in sh([onednn, str(runs)] + flat, env).splitlines():
                m, n, k, ms = line.split()
                dnnl[(int(m), int(n), int(k))] = float(ms)
            for shape in shapes:
                flop = 2.0 * shape[0] * shape[1] * shape[2]
                a = flop / anvil.bench(exes[shape], runs, t) / 1e6
                d = flop / dnnl[shape] / 1e6
                out(f"| {shape[0]} x {shape[1]} x {shape[2]} | {t} | {a:.1f} | {d:.1f} | {a / d:.2f} |")
            print(f"matmul, {t} thread(s): done", file=sys.stderr)

        out("\n## Inference: Anvil vs PyTorch\n")
        out("Batch-1 latency in ms (ratio = PyTorch / Anvil, higher is better for Anvil) and "
            "batch-256 throughput in images/s (ratio = Anvil / PyTorch). Same networks, "
            "zero inputs; the weights' values do not change the work.\n")
        out("| model | threads | Anvil b1 ms | PyTorch b1 ms | ratio | Anvil b256 img/s | PyTorch b256 img/s | ratio |")
        out("|---|---|---|---|---|---|---|---|")
        nets = {"mlp": torch_mlp().eval(), "lenet": torch_lenet().eval()}
        for name, net in nets.items():
            e1 = anvil.compile(f"{name}_b1", example(name, 1))
            e256 = anvil.compile(f"{name}_b256", example(name, 256))
            for t in threads:
                a1 = anvil.bench(e1, runs * 10, t)
                p1 = torch_ms(net, 1, runs * 10, t)
                a256 = 256 * 1000 / anvil.bench(e256, runs, t)
                p256 = 256 * 1000 / torch_ms(net, 256, runs, t)
                out(f"| {name} | {t} | {a1:.4f} | {p1:.4f} | {p1 / a1:.2f} | {a256:.0f} | {p256:.0f} | {a256 / p256:.2f} |")
            print(f"{name}: done", file=sys.stderr)

        out("\n## Compile time\n")
        out("| model | anvilc seconds (median of 5) |")
        out("|---|---|")
        for name in ("mlp", "lenet"):
            src = os.path.join(ROOT, "examples", name + ".mlir")
            times = []
            for _ in range(5):
                start = time.perf_counter()
                sh([anvil.anvilc, src, "-o", os.path.join(tmp, name + "-ct")])
                times.append(time.perf_counter() - start)
            out(f"| {name} | {statistics.median(times):.3f} |")

        out("\n## Training: Anvil vs PyTorch\n")
        out("All of Fashion-MNIST, batch 64, SGD lr 0.05 momentum 0.9, each run in its own "
            f"process: the MLP for {args.epochs} epochs, LeNet-5 for {args.lenet_epochs}. "
            "Seconds per epoch are the median over epochs (ratio = PyTorch / Anvil, higher is "
            "better for Anvil); accuracy is on the test set after the last epoch; peak RSS is "
            "the process's maximum resident set.\n")
        out("| model | threads | Anvil s/epoch | PyTorch s/epoch | ratio | Anvil acc % | "
            "PyTorch acc % | Anvil peak RSS MB | PyTorch peak RSS MB |")
        out("|---|---|---|---|---|---|---|---|---|")
        for name, epochs in (("mlp", args.epochs), ("lenet", args.lenet_epochs)):
            trainer = os.path.join(tmp, "trainer-" + name)
            sh([anvil.anvilc, "train", os.path.join(ROOT, "examples", name + ".mlir"), "--lr",
                "0.05", "--momentum", "0.9", "-o", trainer])
            for t in threads:
                report = os.path.join(tmp, f"report-{name}{t}.json")
                anvil_rss = peak_rss([trainer, "--epochs", str(epochs), "--threads", str(t),
                                      "--report-json", report])
                a = json.load(open(report))
                rss, stdout = peak_rss([sys.executable, os.path.join(ROOT, "bench", "torch_train.py"),
                                        "--model", name, "--epochs", str(epochs), "--threads", str(t)],
                                       capture=True)
                p = [json.loads(l) for l in stdout.splitlines() if l.startswith("{")]
                a_s = statistics.median(e["seconds"] for e in a)
                p_s = statistics.median(e["seconds"] for e in p)
                out(f"| {name} | {t} | {a_s:.3f} | {p_s:.3f} | {p_s / a_s:.2f} | "
                    f"{a[-1]['test_accuracy']:.2f} | {p[-1]['test_accuracy']:.2f} | "
                    f"{anvil_rss / 1024:.0f} | {rss / 1024:.0f} |")
                print(f"training {name}, {t} thread(s): done", file=sys.stderr)
        lines += contention(anvil, tmp)

    header = [
        "# Benchmark results",
        "",
        f"Measured {datetime.date.today().isoformat()} by `bench/run.py` (`/usr/bin/python3 bench/run.py`) "
        f"on {cpu_name()}, {os.cpu_count()} cores; PyTorch {torch.__version__}, oneDNN from "
        "Debian's libdnnl-dev. This machine is shared and noisy: compare ratios, not absolutes.",
        "",
    ]
    text = "\n".join(header + lines) + "\n"
    tmp_out = args.out + ".tmp"
    with open(tmp_out, "w") as f:
        f.write(text)
    os.replace(tmp_out, args.out)
    print(text)


if __name__ == "__main__":
    main()
