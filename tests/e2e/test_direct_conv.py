#!/usr/bin/python3
"""f32 convolutions as direct register tiles (anvil-direct-conv).

Each function below is one convolution with a constant filter (what the
pass rewrites) in a geometry that exercises a part of the tiles: output rows
split into equal segments (56, 23 wide) or periods of rows cut into tiles
that run across a row's end (7, 5, 13 and 14 wide, with the rows left after
the last whole period cut apart; which ones depends on the width), stride 2, dilation, asymmetric pads, no
padding, a 7x7 filter on 3 channels, 1x3 and 3x1 filters, no bias, 48 output
channels (three blocks of 16, six of 8), and the epilogues the tiles take: relu, a residual
add, add then relu (and a sigmoid after them, which stays a loop of its own,
as the report says), a clip (relu6), add then clip. The fusion report must say that each runs on the direct
tiles (so that this test fails if the pass silently stops applying), and
name why a 1x1 convolution and one of 20 output channels do not. The
executables built by default and with --no-direct-conv run at 1, 2 and 3
threads: the --no-direct-conv one at 1 thread must match the reference
interpreter within 1e-4, every other run must equal it within 1e-5
relative. With --no-fusion the add and relu stay ops of their own (the
report says the convolution is direct, without an epilogue), and with
--no-direct-conv-periods every tile is a segment of one row (the report
says no more periods): the results are the same. A padded image of at most
256 KB goes block of channels by block (the report says so; every case but
image320k, a 320 KB one, which goes period by period of rows), and with
--no-direct-conv-blocks-outer period by period: the results are the same.

The tiles are 16 channels wide on AVX-512 and 8 wide on AVX2. Both widths
are checked on any host with AVX2: the report of the other width comes from
compiling for it (--matmul-vector-bits 256 on an AVX-512 host,
--target-cpu=skylake-avx512 on an AVX2 one, whose executables this host
could not run), and the 8-lane executables run on both, besides the host's
own. A host without AVX2 gets no direct tiles, and the test says so.
"""
import os
import re
import sys
import tempfile

import numpy as np

from checks import Checks, anvilc_arg, compare_threads, must

FLAGS = open("/proc/cpuinfo").read().split()
HAS_AVX512, HAS_AVX2 = "avx512f" in FLAGS, "avx2" in FLAGS
# The tile widths checked, each with the flags that compile for it, and
# whether this host runs what they compile.
WIDTHS = {16: ([] if HAS_AVX512 else ["--target-cpu=skylake-avx512"], HAS_AVX512),
          8: (["--matmul-vector-bits=256"] if HAS_AVX512 else
              [] if HAS_AVX2 else ["--target-cpu=haswell"], HAS_AVX2)}

# name: (input NCHW, O, kh, kw, attrs, bias, epilogue)
CONVS = {
    "rows56": ((2, 8, 56, 56), 16, 3, 3, "pads = array<i64: 1, 1, 1, 1>", True, ""),
    "segments23": ((1, 5, 9, 25), 32, 3, 3, "pads = array<i64: 0, 0, 0, 0>", True, ""),
    "whole_rows7": ((3, 16, 7, 7), 32, 3, 3, "pads = array<i64: 1, 1, 1, 1>", True, ""),
    "whole_rows5": ((2, 6, 14, 14), 16, 5, 5,
                    "strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>", True, ""),
    "stem7x7": ((1, 3, 40, 40), 16, 7, 7,
                "strides = array<i64: 2, 2>, pads = array<i64: 3, 3, 3, 3>", True, "relu"),
    "dilated": ((2, 4, 20, 30), 16, 3, 3,
                "dilations = array<i64: 2, 2>, pads = array<i64: 2, 1, 0, 3>", True, ""),
    "row1x3": ((1, 7, 12, 33), 16, 1, 3, "pads = array<i64: 0, 1, 0, 1>", False, ""),
    "col3x1": ((1, 7, 12, 33), 16, 3, 1, "pads = array<i64: 1, 0, 1, 0>", True, ""),
    "blocks48": ((2, 16, 18, 18), 48, 3, 3, "pads = array<i64: 1, 1, 1, 1>", True, "relu"),
    "image320k": ((1, 32, 48, 48), 16, 3, 3, "pads = array<i64: 1, 1, 1, 1>", True, ""),
    "residual": ((2, 16, 28, 28), 32, 3, 3, "pads = array<i64: 1, 1, 1, 1>", True, "add"),
    "residual_relu": ((2, 32, 14, 14), 32, 3, 3, "pads = array<i64: 1, 1, 1, 1>", True,
                      "add_relu"),
    "relu_sigmoid": ((1, 16, 14, 14), 16, 3, 3, "pads = array<i64: 1, 1, 1, 1>", True,
                     "add_relu_sigmoid"),
    "rows13": ((2, 8, 13, 13), 16, 3, 3, "pads = array<i64: 1, 1, 1, 1>", True, "add_relu"),
    "stem_clip": ((2, 3, 30, 30), 16, 3, 3,
                  "strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>", True, "clip"),
    "residual_clip": ((1, 16, 10, 10), 16, 3, 3, "pads = array<i64: 1, 1, 1, 1>", True,
                      "add_clip"),
}

# Tiles across output rows (DirectConvSchedule.h's periods), by tile width:
# the report's words for them. AVX2's tiles take at most 12 positions (3x3),
# and one of fewer than 8 would leave the FMA pipes waiting: a 14-wide row
# is not two tiles of 7 but two rows are 10, 10 and 8; 13 wide, 9, 9 and 8
# (the 13th row alone: 7 and 6); 7 x 7 maps go by 4 rows (10, 10, 8; the
# last 3 rows 11 and 10). AVX-512's 16: 7 x 7 by 4 rows (14, 14; 11, 10).
CROSS_ROWS = {8: {"residual_relu": "3 per 2 output rows", "rows13": "3 per 2 output rows",
                  "whole_rows7": "3 per 4 output rows"},
              16: {"whole_rows7": "2 per 4 output rows"}}

# Not direct, with the report's reason.
NOT_DIRECT = {
    "pointwise": (((2, 16, 14, 14), 32, 1, 1, "", True, ""), "a 1x1 convolution"),
    "channels20": (((2, 16, 14, 14), 20, 3, 3, "pads = array<i64: 1, 1, 1, 1>", True, ""),
                   "not a multiple of"),
}


def tensor(shape):
    return "tensor<" + "x".join(map(str, shape)) + "xf32>"


def dense(a):
    return 'dense<"0x' + a.astype("<f4").tobytes().hex().upper() + '">'


def out_shape(x, o, kh, kw, attrs):
    def arr(name, default):
        m = re.search(name + r" = array<i64: ([^>]*)>", attrs)
        return [int(v) for v in m.group(1).split(",")] if m else default
    st, dil = arr("strides", [1, 1]), arr("dilations", [1, 1])
    p = arr("pads", [0, 0, 0, 0])
    oh = (x[2] + p[0] + p[2] - dil[0] * (kh - 1) - 1) // st[0] + 1
    ow = (x[3] + p[1] + p[3] - dil[1] * (kw - 1) - 1) // st[1] + 1
    return (x[0], o, oh, ow)


def function(name, spec, rng):
    """The function's text and its argument shapes (input, then the
    residual for an add)."""
    x, o, kh, kw, attrs, bias, epilogue = spec
    w = rng.uniform(-0.5, 0.5, (o, x[1], kh, kw)).astype(np.float32)
    y = out_shape(x, o, kh, kw, attrs)
    args = [("%x", x)] + ([("%r", y)] if "add" in epilogue else [])
    body = [f"    %w = anvil.constant {dense(w)} : {tensor(w.shape)}"]
    operands, types = "%x, %w", f"{tensor(x)}, {tensor(w.shape)}"
    if bias:
        b = rng.uniform(-1, 1, (o,)).astype(np.float32)
        body.append(f"    %b = anvil.constant {dense(b)} : {tensor((o,))}")
        operands += ", %b"
        types += f", {tensor((o,))}"
    body.append(f"    %y = anvil.conv2d {operands} {{{attrs}}} : {types}")
    last = "%y"
    if "add" in epilogue:
        body.append(f"    %s = anvil.add %y, %r : {tensor(y)}, {tensor(y)}")
        last = "%s"
    if "relu" in epilogue:
        body.append(f"    %z = anvil.relu {last} : {tensor(y)}")
        last = "%z"
    if "clip" in epilogue:
        # relu6, and values on both sides of it (the input is in [-1, 1]).
        body.append(f"    %c = anvil.clip {last} {{min = 0.0 : f64, max = 0.75 : f64}} : "
                    f"{tensor(y)}")
        last = "%c"
    if "sigmoid" in epilogue:
        body.append(f"    %q = anvil.sigmoid {last} : {tensor(y)}")
        last = "%q"
    signature = ", ".join(f"{n}: {tensor(s)}" for n, s in args)
    text = (f"  func.func @{name}({signature}) -> {tensor(y)} {{\n" + "\n".join(body) +
            f"\n    return {last} : {tensor(y)}\n  }}\n")
    return text, [s for _, s in args]


def report_lines(report):
    """Each kernel's first line, by the function it is in (a batch split
    into chunks: its chunk function's)."""
    lines = {}
    for line in report.splitlines():
        m = re.match(r"#\d+\s+@(\w+?)(?:__chunk)?: (.*)", line)
        if m:
            lines.setdefault(m.group(1), []).append(m.group(2))
    return lines


def report_checks(check, anvilc, model, exe, lanes, flags):
    """The fusion report compiled with `flags` (tiles `lanes` wide): every
    CONVS case direct with its epilogue, the NOT_DIRECT ones not, saying why,
    and with --no-fusion no epilogue in the tiles."""
    tiles = f"x {lanes} channels"
    text = must([anvilc, model, "--fusion-report", "-o", exe] + flags)
    report = report_lines(text)
    for name, spec in CONVS.items():
        first = (report.get(name) or ["(no kernel)"])[0]
        check("[direct tiles:" in first and tiles in first,
              f"{lanes} lanes: {name} runs on the direct tiles: {first}")
        epilogue = spec[6]
        if epilogue:
            want = {"relu": "relu", "add": "add", "add_relu": "add+relu",
                    "add_relu_sigmoid": "add+relu", "clip": "clip",
                    "add_clip": "add+clip"}[epilogue]
            check(f"+ epilogue {want} in its tiles' stores" in first,
                  f"{lanes} lanes: {name}'s {want} is in the tiles' stores")
    for name, words in CROSS_ROWS[lanes].items():
        first = (report.get(name) or ["(no kernel)"])[0]
        check(re.search(rf"channels, {words}[\];]", first) is not None,
              f"{lanes} lanes: {name}'s tiles run across rows ({words}): {first}")
    check("sigmoid not fused with the relu: the direct convolution's tiles take only "
          "an add and a relu or clip into their stores" in text,
          f"{lanes} lanes: relu_sigmoid: the report keeps the sigmoid out of the tiles, "
          "saying why")
    for name, (_, why) in NOT_DIRECT.items():
        first = (report.get(name) or ["(no kernel)"])[0]
        check("not direct" in first and why in first,
              f"{lanes} lanes: {name} keeps the im2col matmul, saying why: {first}")
    rows = report_lines(must([anvilc, model, "--fusion-report", "--no-direct-conv-periods",
                              "-o", exe] + flags))
    for name in CROSS_ROWS[lanes]:
        first = (rows.get(name) or ["(no kernel)"])[0]
        check("[direct tiles:" in first and "output rows" not in first,
              f"{lanes} lanes: with --no-direct-conv-periods {name}'s tiles are segments "
              f"of one row: {first}")
    for name in CONVS:
        first = (report.get(name) or ["(no kernel)"])[0]
        small = name != "image320k"
        check(("block by block: the padded image stays in cache" in first) == small,
              f"{lanes} lanes: {name} goes {'block by block' if small else 'period by period'}"
              f": {first}")
    periods = report_lines(must([anvilc, model, "--fusion-report",
                                 "--no-direct-conv-blocks-outer", "-o", exe] + flags))
    first = (periods.get("rows56") or ["(no kernel)"])[0]
    check("[direct tiles:" in first and "block by block" not in first,
          f"{lanes} lanes: with --no-direct-conv-blocks-outer rows56 goes period by period: "
          f"{first}")
    unfused = report_lines(must([anvilc, model, "--fusion-report", "--no-fusion",
                                 "-o", exe] + flags))
    first = (unfused.get("residual_relu") or ["(no kernel)"])[0]
    check("[direct tiles:" in first and "epilogue" not in first,
          f"{lanes} lanes: with --no-fusion the add and relu are not in the tiles: {first}")


def main():
    anvilc = anvilc_arg(__doc__)
    check = Checks()
    rng = np.random.default_rng(11)
    texts, cases = [], {}
    for name, spec in CONVS.items():
        text, shapes = function(name, spec, rng)
        texts.append(text)
        cases[name] = shapes
    for name, (spec, _) in NOT_DIRECT.items():
        text, shapes = function(name, spec, rng)
        texts.append(text)
        cases[name] = shapes
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "convs.mlir")
        with open(model, "w") as f:
            f.write("module {\n" + "".join(texts) + "}\n")
        # (-o: the report compiles too; its executable goes to the folder.)
        exe = os.path.join(tmp, "report")
        for lanes, (flags, _) in WIDTHS.items():
            report_checks(check, anvilc, model, exe, lanes, flags)
        if not HAS_AVX2:
            print("skipped: running the direct tiles (this host lacks AVX2)")
        plain = os.path.join(tmp, "plain")
        must([anvilc, model, "--no-direct-conv", "-o", plain])
        for lanes, (flags, runs) in WIDTHS.items():
            if not runs:
                continue
            direct = os.path.join(tmp, f"direct{lanes}")
            must([anvilc, model, "-o", direct] + flags)
            compare_threads(check, anvilc, model, cases, plain, direct, "--no-direct-conv",
                            tmp, rng, rel_tol=1e-5)
            # Every tile one row's segment: the same results.
            rows = os.path.join(tmp, f"rows{lanes}")
            must([anvilc, model, "--no-direct-conv-periods", "-o", rows] + flags)
            compare_threads(check, anvilc, model,
                            {n: cases[n] for n in CROSS_ROWS[lanes]},
                            plain, rows, "--no-direct-conv", tmp, rng, rel_tol=1e-5)
            # Period by period, every block in each: the same results.
            periods = os.path.join(tmp, f"periods{lanes}")
            must([anvilc, model, "--no-direct-conv-blocks-outer", "-o", periods] + flags)
            compare_threads(check, anvilc, model, cases, plain, periods, "--no-direct-conv",
                            tmp, rng, rel_tol=1e-5)
            # A tile's short last runs as one masked 2-D store (the block's
            # channels together) instead of whole vectors of 4, 2 and 1
            # lanes: the same results.
            masked = os.path.join(tmp, f"masked{lanes}")
            must([anvilc, model, "--no-split-tail-stores", "-o", masked] + flags)
            compare_threads(check, anvilc, model, cases, plain, masked, "--no-direct-conv",
                            tmp, rng, rel_tol=1e-5)
            nofusion = os.path.join(tmp, f"nofusion{lanes}")
            must([anvilc, model, "--no-fusion", "-o", nofusion] + flags)
            compare_threads(check, anvilc, model, {"residual_relu": cases["residual_relu"]},
                            plain, nofusion, "--no-direct-conv", tmp, rng, rel_tol=1e-5)
    if check.failures:
        sys.exit(f"{len(check.failures)} check(s) failed")


if __name__ == "__main__":
    main()
