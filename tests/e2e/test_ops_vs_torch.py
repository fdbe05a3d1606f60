#!/usr/bin/python3
"""Every anvil op, on the reference interpreter or compiled, against PyTorch.

For each op this draws several random configurations (shapes including odd and
size-1 dimensions, attributes such as strides, padding, dilation, groups,
axes, transposes) and writes one function per case into one module. With
--mode reference each case runs through `anvilc run --reference`; with
--mode compiled the module is compiled once by anvilc into an executable that
runs each function. Every output is compared with the same computation in
PyTorch (in float64). Gradient cases (`grad_case`) are differentiated by
anvil-opt's anvil-autodiff first, and their gradients compared with
torch.autograd's. The hand-computed unit tests pin each reference kernel;
this test checks the reference broadly against an independent implementation
and the compiled code against the same truth. Exits non-zero on any mismatch.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

DT = {np.float32: "f32", np.int64: "i64"}


def ttype(a):
    dims = "x".join(str(d) for d in a.shape)
    elt = {np.dtype(np.float32): "f32", np.dtype(np.int64): "i64",
           np.dtype(np.bool_): "i1"}[a.dtype]
    return f"tensor<{dims}x{elt}>" if dims else f"tensor<{elt}>"


def arr(*values):
    return "array<i64" + (": " + ", ".join(str(v) for v in values) if values else "") + ">"


class Runner:
    """Collects cases (one function each), then runs and checks them all."""

    def __init__(self, anvilc, anvil_opt, tmp, mode):
        self.anvilc, self.anvil_opt, self.tmp, self.mode = anvilc, anvil_opt, tmp, mode
        # Extra anvilc options for the compiled cases (an off switch under test).
        self.flags = []
        self.cases, self.failures = [], []
        self.differentiated = []  # functions anvil-autodiff turns into @<name>_grad

    def check(self, name, inputs, op, want, rtol=1e-5, atol=1e-6, prelude=""):
        """Adds a case `%r = <op>` on `inputs` (%a0, %a1, ...) expected to
        give `want` (a float64/int64/bool torch tensor or a list of them);
        `prelude` (lines of ops) comes before it."""
        wants = want if isinstance(want, (list, tuple)) else [want]
        wants = [w.detach().numpy() for w in wants]
        outs = [w.astype(np.float32) if w.dtype == np.float64 else w for w in wants]
        k = len(self.cases)
        args = ", ".join(f"%a{i}: {ttype(a)}" for i, a in enumerate(inputs))
        rtypes = ", ".join(ttype(o) for o in outs)
        results = ", ".join(f"%r#{i}" for i in range(len(outs))) if len(outs) > 1 else "%r"
        lhs = f"%r:{len(outs)}" if len(outs) > 1 else "%r"
        text = (f"func.func @f{k}({args}) -> ({rtypes}) {{\n"
                f"{prelude}  {lhs} = {op}\n  return {results} : {rtypes}\n}}\n")
        self.cases.append((name, inputs, wants, text, rtol, atol, f"f{k}"))

    def check_grad(self, name, inputs, body, rtype, wants, rtol=1e-4, atol=1e-5):
        """Adds a case differentiated by anvil-autodiff: `body` defines %r
        (of type `rtype`) from %a0, ...; the last input %w weights it, and
        @g<k>_grad(inputs) must return sum(%r * %w), then the gradient of
        each float input, as `wants` (from torch.autograd) has them."""
        wants = [w.detach().numpy() for w in wants]
        k = len(self.cases)
        w = f"%a{len(inputs) - 1}"
        rank = len(inputs[-1].shape)
        args = ", ".join(f"%a{i}: {ttype(a)}" for i, a in enumerate(inputs))
        text = (f"func.func @g{k}({args}) -> tensor<f32> {{\n  {body}\n"
                f"  %m = anvil.mul %r, {w} : {rtype}, {rtype}\n"
                f"  %s = anvil.reduce_sum %m {{axes = {arr(*range(rank))}}} : {rtype}\n"
                f"  return %s : tensor<f32>\n}}\n")
        self.differentiated.append(f"g{k}")
        self.cases.append((name, inputs, wants, text, rtol, atol, f"g{k}_grad"))

    def run(self):
        model = os.path.join(self.tmp, "model.mlir")
        with open(model, "w") as f:
            f.write("".join(case[3] for case in self.cases))
        if self.differentiated:
            passes = ",".join(f"anvil-autodiff{{function={g} args=1}}" for g in self.differentiated)
            graded = os.path.join(self.tmp, "model-grad.mlir")
            diff = subprocess.run([self.anvil_opt, model, f"--pass-pipeline=builtin.module({passes})",
                                   "-o", graded], capture_output=True, text=True)
            if diff.returncode != 0:
                self.failures = [f"anvil-autodiff failed on the cases: {diff.stderr.strip()}"]
                return
            model = graded
        if self.mode == "compiled":
            exe = os.path.join(self.tmp, "model")
            build = subprocess.run([self.anvilc, model, *self.flags, "-o", exe], capture_output=True, text=True)
            if build.returncode != 0:
                self.failures = [f"anvilc failed to compile the cases: {build.stderr.strip()}"]
                self.failures += [f"{case[0]}: not compiled" for case in self.cases[1:]]
                return
            prefix = [exe]
        else:
            prefix = [self.anvilc, "run", "--reference", model]
        for k, (name, inputs, wants, text, rtol, atol, function) in enumerate(self.cases):
            case = os.path.join(self.tmp, f"case{k}")
            os.makedirs(case)
            cmd = prefix + ["--function", function]
            for i, a in enumerate(inputs):
                np.save(os.path.join(case, f"in{i}.npy"), a)
                cmd += ["--input", os.path.join(case, f"in{i}.npy")]
            for i in range(len(wants)):
                cmd += ["--output", os.path.join(case, f"out{i}.npy")]
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode != 0:
                self.failures.append(f"{name}: failed ({run.returncode}): {run.stderr.strip()}\n{text}")
                continue
            for i, w in enumerate(wants):
                got = np.load(os.path.join(case, f"out{i}.npy"))
                # NaN must be exactly where PyTorch has it (max pooling
                # propagates it), and nowhere else.
                if got.shape != w.shape or not np.allclose(got, w, rtol=rtol, atol=atol, equal_nan=True):
                    err = (np.max(np.abs(got.astype(np.float64) - w)) if got.shape == w.shape
                           else f"shape {got.shape} vs {w.shape}")
                    self.failures.append(f"{name} (result {i}): differs from PyTorch ({err})\n{text}")


def t(a):
    return torch.from_numpy(a).double() if a.dtype == np.float32 else torch.from_numpy(a)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-opt", help="anvil-opt, for anvil-autodiff (default: beside anvilc)")
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--mode", choices=["reference", "compiled"], default="reference")
    args = ap.parse_args()
    rng = np.random.default_rng(1234)

    def rand(*shape, low=-2.0, high=2.0):
        return rng.uniform(low, high, shape).astype(np.float32)

    def dims(n, lo=1, hi=6):
        return [int(d) for d in rng.integers(lo, hi, n)]

    def grad_case(name, inputs, body, fn, **tol):
        """anvil-autodiff of sum(%r * w), %r = `body` on `inputs`, against
        torch.autograd of sum(fn(inputs) * w) with a random w."""
        tins = [t(a).requires_grad_() if a.dtype == np.float32 else t(a) for a in inputs]
        out = fn(*tins)
        w = rand(*out.shape)
        loss = (out * t(w)).sum()
        loss.backward()
        wants = [loss] + [x.grad for x in tins if x.requires_grad] + [out]
        dims = "x".join(str(d) for d in out.shape)
        r.check_grad(name, inputs + [w], body, f"tensor<{dims}xf32>", wants, **tol)

    anvil_opt = args.anvil_opt or os.path.join(os.path.dirname(args.anvilc), "anvil-opt")
    with tempfile.TemporaryDirectory() as tmp:
        r = Runner(args.anvilc, anvil_opt, tmp, args.mode)
        for trial in range(args.trials):
            # Elementwise binary ops with broadcasting: drop leading dims and
            # set random dims to 1 on either side.
            rank = int(rng.integers(1, 4))
            full = dims(rank)
            a_shape = [d if rng.random() > 0.3 else 1 for d in full]
            b_shape = [d if rng.random() > 0.3 else 1 for d in full][int(rng.integers(0, rank)):]
            a, b = rand(*a_shape), rand(*b_shape)
            bpos = rand(*b_shape, low=0.5, high=2.0)
            apos = rand(*a_shape, low=0.1, high=3.0)
            for name, fn, x, y in (("add", torch.add, a, b), ("sub", torch.sub, a, b),
                                   ("mul", torch.mul, a, b), ("div", torch.div, a, bpos),
                                   ("max", torch.maximum, a, b), ("min", torch.minimum, a, b),
                                   ("pow", torch.pow, apos, b)):
                r.check(name, [x, y], f"anvil.{name} %a0, %a1 : {ttype(x)}, {ttype(y)}",
                        fn(t(x), t(y)))
            ia = rng.integers(-20, 20, a_shape).astype(np.int64)
            ib = rng.integers(1, 7, b_shape).astype(np.int64)
            r.check("add i64", [ia, ib], f"anvil.add %a0, %a1 : {ttype(ia)}, {ttype(ib)}",
                    t(ia) + t(ib))
            r.check("div i64", [ia, ib], f"anvil.div %a0, %a1 : {ttype(ia)}, {ttype(ib)}",
                    torch.div(t(ia), t(ib), rounding_mode="trunc"))
            # Comparisons (integer and float) and select, broadcasting.
            for pred, fn in (("eq", torch.eq), ("ne", torch.ne), ("lt", torch.lt),
                             ("le", torch.le), ("gt", torch.gt), ("ge", torch.ge)):
                r.check(f"compare {pred} i64", [ia, ib],
                        f'anvil.compare "{pred}" %a0, %a1 : {ttype(ia)}, {ttype(ib)}',
                        fn(t(ia), t(ib)))
            r.check("compare lt f32", [a, b], f'anvil.compare "lt" %a0, %a1 : {ttype(a)}, {ttype(b)}',
                    torch.lt(t(a), t(b)))
            mask = rng.random(b_shape) > 0.5
            r.check("select", [mask, a, b],
                    f"anvil.select %a0, %a1, %a2 : {ttype(mask)}, {ttype(a)}, {ttype(b)}",
                    torch.where(t(mask), t(a), t(b)))

            # Unary ops.
            x = rand(*dims(int(rng.integers(1, 4))))
            xp = np.abs(x) + 0.1
            for name, fn, v in (("neg", torch.neg, x), ("abs", torch.abs, x),
                                ("exp", torch.exp, x), ("log", torch.log, xp),
                                ("sqrt", torch.sqrt, xp), ("rsqrt", torch.rsqrt, xp),
                                ("relu", torch.relu, x), ("sigmoid", torch.sigmoid, x),
                                ("tanh", torch.tanh, x), ("erf", torch.erf, x),
                                ("gelu", F.gelu, x)):
                r.check(name, [v], f"anvil.{name} %a0 : {ttype(v)}", fn(t(v)))
            r.check("gelu tanh", [x], f"anvil.gelu %a0 {{tanh_approx}} : {ttype(x)}",
                    F.gelu(t(x), approximate="tanh"))
            alpha = float(rng.uniform(0.01, 0.5))
            r.check("leaky_relu", [x], f"anvil.leaky_relu %a0 {{alpha = {alpha!r} : f64}} : {ttype(x)}",
                    F.leaky_relu(t(x), alpha))
            r.check("clip", [x], f"anvil.clip %a0 {{min = -0.5 : f64, max = 1.0 : f64}} : {ttype(x)}",
                    torch.clamp(t(x), -0.5, 1.0))
            # NaN and infinities through the clamps: NaN stays NaN (a maxnum
            # lowering gave the bound), infinities meet the bounds.
            odd = x.copy().reshape(-1)
            odd[::3] = np.nan
            odd[1::5] = np.inf
            odd[2::7] = -np.inf
            odd = odd.reshape(x.shape)
            r.check("relu nan", [odd], f"anvil.relu %a0 : {ttype(odd)}", torch.relu(t(odd)))
            r.check("clip nan", [odd], f"anvil.clip %a0 {{min = -0.5 : f64, max = 1.0 : f64}} : {ttype(odd)}",
                    torch.clamp(t(odd), -0.5, 1.0))
            # Fake quantization (quantization-aware training) against torch's
            # own: u8 by a range narrower than x's (so that some values
            # clamp), its straight-through gradient (none for the range),
            # and i8 symmetric weights per tensor and per channel.
            qr = np.array([rng.uniform(-1.5, 0.0), rng.uniform(0.5, 1.5)], np.float32)
            qlo, qhi = min(float(qr[0]), 0.0), max(float(qr[1]), 0.0)
            qs = np.float32((qhi - qlo) / 255.0)
            qz = int(np.clip(np.round(np.float32(-qlo) / qs), 0, 255))

            def fake(v, rr=None):
                y = torch.fake_quantize_per_tensor_affine(v.float(), float(qs), qz, 0, 255).double()
                return y if rr is None else y + 0 * rr.sum()

            fq = f"anvil.fake_quantize %a0, %a1 : {ttype(x)}, tensor<2xf32>"
            r.check("fake_quantize", [x, qr], fq, fake(t(x)))
            grad_case("fake_quantize (autodiff)", [x, qr], f"%r = {fq}", fake)
            for axis in (None, 0, x.ndim - 1):
                amax = np.abs(x).max() if axis is None else \
                    np.abs(x).max(axis=tuple(d for d in range(x.ndim) if d != axis))
                ws = np.where(amax > 0, (amax.astype(np.float64) / 127.0), 1.0).astype(np.float32)

                def fake_w(v, axis=axis, ws=ws):
                    if axis is None:
                        return torch.fake_quantize_per_tensor_affine(
                            v.float(), float(ws), 0, -127, 127).double()
                    return torch.fake_quantize_per_channel_affine(
                        v.float(), torch.from_numpy(np.atleast_1d(ws)),
                        torch.zeros(np.atleast_1d(ws).shape, dtype=torch.int32), axis,
                        -127, 127).double()

                attr = "" if axis is None else f" {{axis = {axis} : i64}}"
                fw = f"anvil.fake_quantize_weights %a0{attr} : {ttype(x)}"
                r.check(f"fake_quantize_weights axis {axis}", [x], fw, fake_w(t(x)))
                grad_case(f"fake_quantize_weights axis {axis} (autodiff)", [x],
                          f"%r = {fw}", fake_w)
            r.check("cast", [x * 3], f"anvil.cast %a0 : {ttype(x)} to i64",
                    torch.trunc(t(x * 3)).long())
            # Gradients through casts: back to f32 from f64; none through i64.
            x64 = ttype(x).replace("f32", "f64")
            grad_case("cast f32<->f64 (autodiff)", [x],
                      f"%c = anvil.cast %a0 : {ttype(x)} to f64\n"
                      f"  %e = anvil.tanh %c : {x64}\n  %r = anvil.cast %e : {x64} to f32",
                      torch.tanh)
            x3 = x * 3
            grad_case("cast through i64 (autodiff)", [x3],
                      f"%i = anvil.cast %a0 : {ttype(x3)} to i64\n"
                      f"  %f = anvil.cast %i : {ttype(x3).replace('f32', 'i64')} to f32\n"
                      f"  %r = anvil.mul %a0, %f : {ttype(x3)}, {ttype(x3)}",
                      lambda v: v * torch.trunc(v))
            g = rand(*x.shape)
            r.check("relu_grad", [x, g], f"anvil.relu_grad %a0, %a1 : {ttype(x)}, {ttype(g)}",
                    torch.where(t(x) > 0, t(g), torch.zeros_like(t(g))))
            nc = int(rng.integers(1, 6))
            lab = rng.integers(-1, nc + 1, dims(2, 1, 5)).astype(np.int64)
            r.check("one_hot", [lab], f"anvil.one_hot %a0 {{classes = {nc} : i64}} : {ttype(lab)}",
                    F.one_hot(torch.from_numpy(lab).clamp(0, nc - 1), nc).double()
                    * ((t(lab) >= 0) & (t(lab) < nc)).unsqueeze(-1).double())

            # Softmax and reductions.
            x = rand(*dims(int(rng.integers(1, 4)), 1, 7), low=-30, high=30)
            axis = int(rng.integers(-x.ndim, x.ndim))
            r.check("softmax", [x], f"anvil.softmax %a0 {{axis = {axis} : i64}} : {ttype(x)}",
                    F.softmax(t(x), axis))
            r.check("log_softmax", [x], f"anvil.log_softmax %a0 {{axis = {axis} : i64}} : {ttype(x)}",
                    F.log_softmax(t(x), axis))
            # Rows of attention's length and the longest kept in vector
            # registers (one vector pass per row), and one longer (generics).
            for n in (32, 256, 300):
                xs = rand(int(rng.integers(1, 4)), int(rng.integers(1, 6)), n, low=-30, high=30)
                r.check(f"softmax_rows{n}", [xs], f"anvil.softmax %a0 {{axis = 2 : i64}} : {ttype(xs)}",
                        F.softmax(t(xs), 2))
                r.check(f"log_softmax_rows{n}", [xs],
                        f"anvil.log_softmax %a0 {{axis = -1 : i64}} : {ttype(xs)}", F.log_softmax(t(xs), -1))
            # An ONNX-style layer norm (opset 13: no LayerNormalization),
            # whose per-row sqrt(var + eps) the division broadcasts.
            xl = rand(int(rng.integers(1, 4)), int(rng.integers(1, 6)), 128)
            xt, kt = ttype(xl), ttype(xl[..., :1])
            r.check("layer_norm_pattern", [xl],
                    f"anvil.div %d, %q : {xt}, {kt}",
                    F.layer_norm(t(xl), (128,), eps=1e-5), rtol=1e-4, atol=1e-5,
                    prelude=(f"  %m = anvil.reduce_mean %a0 {{axes = array<i64: 2>, keepdims}} : {xt}\n"
                             f"  %d = anvil.sub %a0, %m : {xt}, {kt}\n"
                             f"  %p = anvil.mul %d, %d : {xt}, {xt}\n"
                             f"  %v = anvil.reduce_mean %p {{axes = array<i64: 2>, keepdims}} : {xt}\n"
                             f"  %e = anvil.constant dense<1.0e-05> : tensor<f32>\n"
                             f"  %ve = anvil.add %v, %e : {kt}, tensor<f32>\n"
                             f"  %q = anvil.sqrt %ve : {kt}\n"))
            axes = sorted(set(int(a) for a in rng.integers(0, x.ndim, int(rng.integers(1, x.ndim + 1)))))
            keep = bool(rng.random() > 0.5)
            kd = ", keepdims" if keep else ""
            for name, fn in (("reduce_sum", lambda v: torch.sum(v, axes, keepdim=keep)),
                             ("reduce_mean", lambda v: torch.mean(v, axes, keepdim=keep)),
                             ("reduce_max", lambda v: torch.amax(v, axes, keepdim=keep))):
                r.check(name, [x], f"anvil.{name} %a0 {{axes = {arr(*axes)}{kd}}} : {ttype(x)}", fn(t(x)))
            # argmax: ties (small integers) must give the first position.
            ties = np.round(x / 10).astype(np.float32)
            for v in (x, ties):
                r.check("argmax", [v], f"anvil.argmax %a0 {{axis = {axis} : i64}} : {ttype(v)}",
                        torch.argmax(t(v), axis))

            # Matmul: batch broadcasting and transposes.
            m, k, n = dims(3, 1, 9)
            batch = dims(int(rng.integers(0, 3)), 1, 4)
            ta, tb = bool(rng.random() > 0.5), bool(rng.random() > 0.5)
            a = rand(*batch, *([k, m] if ta else [m, k]))
            bb = [d if rng.random() > 0.5 else 1 for d in batch][int(rng.integers(0, len(batch) + 1)):]
            b = rand(*bb, *([n, k] if tb else [k, n]))
            flags = ", ".join(f for f, on in (("transpose_a", ta), ("transpose_b", tb)) if on)
            r.check("matmul", [a, b], f"anvil.matmul %a0, %a1 {{{flags}}} : {ttype(a)}, {ttype(b)}",
                    torch.matmul(t(a).transpose(-1, -2) if ta else t(a),
                                 t(b).transpose(-1, -2) if tb else t(b)))

            # Shape ops.
            x = rand(*dims(3, 1, 6))
            perm = [int(p) for p in rng.permutation(3)]
            r.check("transpose", [x], f"anvil.transpose %a0 {{perm = {arr(*perm)}}} : {ttype(x)}",
                    t(x).permute(perm))
            r.check("reshape", [x], f"anvil.reshape %a0 {{shape = {arr(x.size, 1)}}} : {ttype(x)}",
                    t(x).reshape(x.size, 1))
            fax = int(rng.integers(0, 4))
            r.check("flatten", [x], f"anvil.flatten %a0 {{axis = {fax} : i64}} : {ttype(x)}",
                    t(x).reshape(int(np.prod(x.shape[:fax])), -1))
            cax = int(rng.integers(0, 3))
            y_shape = list(x.shape)
            y_shape[cax] = int(rng.integers(1, 4))
            y = rand(*y_shape)
            r.check("concat", [x, y, x], f"anvil.concat %a0, %a1, %a2 {{axis = {cax} : i64}} : "
                    f"{ttype(x)}, {ttype(y)}, {ttype(x)}", torch.cat([t(x), t(y), t(x)], cax))
            starts, ends, steps, index = [], [], [], []
            for d in x.shape:
                if rng.random() > 0.5:
                    # Non-empty: compiled entry points cannot yet take
                    # zero-element tensors (see the empty case below).
                    s = int(rng.integers(0, d))
                    e = int(rng.integers(s + 1, d + 1))
                    st = int(rng.integers(1, 3))
                    index.append(slice(s, e, st))
                    starts.append(s), ends.append(e), steps.append(st)
                else:  # a reversed slice: start > end, negative step
                    s = int(rng.integers(0, d))
                    e = int(rng.integers(-1, s))
                    st = -int(rng.integers(1, 3))
                    index.append((s, e, st))
                    starts.append(s), ends.append(e), steps.append(st)
            want = np.array(x, copy=True)
            for dim, ix in enumerate(index):
                if isinstance(ix, tuple):
                    s, e, st = ix
                    sel = list(range(s, e, st))
                    want = np.take(want, sel, axis=dim)
                else:
                    want = want[(slice(None),) * dim + (ix,)]
            r.check("slice", [x], f"anvil.slice %a0 {{starts = {arr(*starts)}, ends = {arr(*ends)}, "
                    f"steps = {arr(*steps)}}} : {ttype(x)}", torch.from_numpy(want.astype(np.float64)))
            sattrs = f"starts = {arr(*starts)}, ends = {arr(*ends)}, steps = {arr(*steps)}"

            def sliced(v):
                for dim, (s, e, st) in enumerate(zip(starts, ends, steps)):
                    v = torch.index_select(v, dim, torch.tensor(list(range(s, e, st))))
                return v
            xin = t(x).requires_grad_()
            gy = rand(*want.shape)
            (sliced(xin) * t(gy)).sum().backward()
            r.check("slice_grad", [gy], f"anvil.slice_grad %a0 {{input_shape = {arr(*x.shape)}, {sattrs}}} : "
                    f"{ttype(gy)}", xin.grad)
            grad_case("slice (autodiff)", [x], f"%r = anvil.slice %a0 {{{sattrs}}} : {ttype(x)}", sliced)
            if args.mode == "reference":
                r.check("slice (empty)", [x], f"anvil.slice %a0 {{starts = {arr(0, 0, 0)}, "
                        f"ends = {arr(0, x.shape[1], x.shape[2])}, steps = {arr(1, 1, 1)}}} : {ttype(x)}",
                        torch.zeros((0, x.shape[1], x.shape[2]), dtype=torch.float64))
            gax = int(rng.integers(0, 3))
            idx = rng.integers(-x.shape[gax], x.shape[gax], dims(2, 1, 4)).astype(np.int64)
            want = np.take(x, idx % x.shape[gax], axis=gax).astype(np.float64)
            r.check("gather", [x, idx], f"anvil.gather %a0, %a1 {{axis = {gax} : i64}} : "
                    f"{ttype(x)}, {ttype(idx)}", torch.from_numpy(want))
            # gather_elements (torch.gather): indices of the input's rank,
            # no larger off the axis, negative ones wrapped.
            eshape = [int(rng.integers(1, d + 1)) if a != gax else int(rng.integers(1, 6))
                      for a, d in enumerate(x.shape)]
            eidx = rng.integers(-x.shape[gax], x.shape[gax], eshape).astype(np.int64)
            r.check("gather_elements", [x, eidx],
                    f"anvil.gather_elements %a0, %a1 {{axis = {gax} : i64}} : "
                    f"{ttype(x)}, {ttype(eidx)}",
                    torch.gather(t(x), gax, t(eidx % x.shape[gax])))

            def gathered(v):
                flat = torch.index_select(v, gax, torch.from_numpy(idx.reshape(-1) % x.shape[gax]))
                return flat.reshape(x.shape[:gax] + idx.shape + x.shape[gax + 1:])
            # Small index ranges repeat indices, which must accumulate.
            xin = t(x).requires_grad_()
            gy = rand(*want.shape)
            (gathered(xin) * t(gy)).sum().backward()
            r.check("gather_grad", [gy, idx], f"anvil.gather_grad %a0, %a1 {{axis = {gax} : i64, "
                    f"axis_size = {x.shape[gax]} : i64}} : {ttype(gy)}, {ttype(idx)}", xin.grad)
            grad_case("gather (autodiff)", [x, idx], f"%r = anvil.gather %a0, %a1 {{axis = {gax} : i64}} : "
                      f"{ttype(x)}, {ttype(idx)}", lambda v, i: gathered(v))

            # Convolution: groups, strides, asymmetric padding, dilation.
            groups = int(rng.integers(1, 4))
            cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
            kh, kw = dims(2, 1, 4)
            sh, sw = dims(2, 1, 3)
            dh, dw = dims(2, 1, 3)
            pads = [int(p) for p in rng.integers(0, 3, 4)]
            h = dh * (kh - 1) + 1 + int(rng.integers(0, 6))
            w = dw * (kw - 1) + 1 + int(rng.integers(0, 6))
            x = rand(int(rng.integers(1, 3)), cin, h, w)
            wt = rand(cout, cin // groups, kh, kw)
            bias = rand(cout)
            padded = F.pad(t(x), (pads[1], pads[3], pads[0], pads[2]))
            r.check("conv2d", [x, wt, bias],
                    f"anvil.conv2d %a0, %a1, %a2 {{strides = {arr(sh, sw)}, pads = {arr(*pads)}, "
                    f"dilations = {arr(dh, dw)}, groups = {groups} : i64}} : "
                    f"{ttype(x)}, {ttype(wt)}, {ttype(bias)}",
                    F.conv2d(padded, t(wt), t(bias), (sh, sw), 0, (dh, dw), groups))
            # The convolution's gradients, against PyTorch's: one group, then
            # the random groups.
            wt1 = rand(cout, cin, kh, kw)
            cattrs = (f"strides = {arr(sh, sw)}, pads = {arr(*pads)}, dilations = {arr(dh, dw)}")
            # One group, then grouped (and, when cin == groups, depthwise).
            for label, wg, g in (("", wt1, 1), (" (groups)", wt, groups)):
                xin = t(x).requires_grad_()
                win = t(wg).requires_grad_()
                out = F.conv2d(F.pad(xin, (pads[1], pads[3], pads[0], pads[2])), win, None,
                               (sh, sw), 0, (dh, dw), g)
                gy = rand(*out.shape)
                (out * t(gy)).sum().backward()
                gattrs = f"{cattrs}, groups = {g} : i64"
                r.check("conv2d_grad_input" + label, [gy, wg],
                        f"anvil.conv2d_grad_input %a0, %a1 {{input_size = {arr(h, w)}, {gattrs}}} : "
                        f"{ttype(gy)}, {ttype(wg)}", xin.grad, rtol=1e-4, atol=1e-5)
                r.check("conv2d_grad_filter" + label, [x, gy],
                        f"anvil.conv2d_grad_filter %a0, %a1 {{kernel = {arr(kh, kw)}, {gattrs}}} : "
                        f"{ttype(x)}, {ttype(gy)}", win.grad, rtol=1e-4, atol=1e-5)
            # One group, stride 1 along the rows: the input gradient's
            # vector col2im (rows of OW added 16 at a time; OW 20 takes two,
            # the second masked), with a row stride, dilations and padding.
            # (Its own generator and names: the random cases after it stay
            # as they were.)
            crng = np.random.default_rng(trial)
            for (csh, cdh, cdw, cpads, cw) in ((1, 1, 1, [0, 0, 0, 0], 9),
                                               (2, 1, 2, [1, 2, 0, 1], 12),
                                               (1, 2, 1, [2, 1, 1, 0], 22)):
                ck = 3
                chh = cdh * (ck - 1) + 1 + 4
                xc = crng.uniform(-2, 2, (2, 2, chh, cw)).astype(np.float32)
                wc = crng.uniform(-2, 2, (3, 2, ck, ck)).astype(np.float32)
                xcin = t(xc).requires_grad_()
                outc = F.conv2d(F.pad(xcin, (cpads[1], cpads[3], cpads[0], cpads[2])), t(wc), None,
                                (csh, 1), 0, (cdh, cdw))
                gyc = crng.uniform(-2, 2, tuple(outc.shape)).astype(np.float32)
                (outc * t(gyc)).sum().backward()
                r.check(f"conv2d_grad_input (vector col2im: s{csh},1 d{cdh},{cdw} p{cpads} w{cw})",
                        [gyc, wc],
                        f"anvil.conv2d_grad_input %a0, %a1 {{input_size = {arr(chh, cw)}, "
                        f"strides = {arr(csh, 1)}, pads = {arr(*cpads)}, dilations = {arr(cdh, cdw)}}} : "
                        f"{ttype(gyc)}, {ttype(wc)}", xcin.grad, rtol=1e-4, atol=1e-5)
            gattrs = f"{cattrs}, groups = {groups} : i64"
            # (No bias: compiled entry points take at most 8 arguments and
            # results together.)
            grad_case("conv2d groups (autodiff)", [x, wt],
                      f"%r = anvil.conv2d %a0, %a1 {{{gattrs}}} : {ttype(x)}, {ttype(wt)}",
                      lambda v, k: F.conv2d(F.pad(v, (pads[1], pads[3], pads[0], pads[2])), k, None,
                                            (sh, sw), 0, (dh, dw), groups))
            # The transposed convolution (ONNX ConvTranspose imports as
            # conv2d_grad_input) differentiated in turn: torch's
            # conv_transpose2d on the full padded size, the pads cut off.
            def transposed(v, k):
                full = F.conv_transpose2d(v, k, None, (sh, sw), 0, 0, groups, (dh, dw))
                ph, pw = h + pads[0] + pads[2], w + pads[1] + pads[3]
                full = F.pad(full, (0, pw - full.shape[3], 0, ph - full.shape[2]))
                return full[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + w]
            gyt = rand(*out.shape)
            grad_case("conv2d_grad_input (autodiff)", [gyt, wt],
                      f"%r = anvil.conv2d_grad_input %a0, %a1 {{input_size = {arr(h, w)}, "
                      f"{gattrs}}} : {ttype(gyt)}, {ttype(wt)}", transposed)
            # Depthwise with a channel multiplier.
            mult = int(rng.integers(1, 3))
            xd = rand(int(rng.integers(1, 3)), cin, h, w)
            wd = rand(cin * mult, 1, kh, kw)
            grad_case("conv2d depthwise (autodiff)", [xd, wd],
                      f"%r = anvil.conv2d %a0, %a1 {{{cattrs}, groups = {cin} : i64}} : {ttype(xd)}, {ttype(wd)}",
                      lambda v, k: F.conv2d(F.pad(v, (pads[1], pads[3], pads[0], pads[2])), k, None,
                                            (sh, sw), 0, (dh, dw), cin))
            r.check("conv2d no bias", [x, wt],
                    f"anvil.conv2d %a0, %a1 {{groups = {groups} : i64}} : {ttype(x)}, {ttype(wt)}",
                    F.conv2d(t(x), t(wt), None, 1, 0, 1, groups))

            # Pooling: symmetric padding (as PyTorch has it), ceil mode.
            kh, kw = dims(2, 1, 4)
            sh, sw = dims(2, 1, 4)
            ph, pw = int(rng.integers(0, kh // 2 + 1)), int(rng.integers(0, kw // 2 + 1))
            x = rand(int(rng.integers(1, 3)), int(rng.integers(1, 4)), kh + int(rng.integers(0, 7)),
                     kw + int(rng.integers(0, 7)))
            ceil = bool(rng.random() > 0.5)
            cm = ", ceil_mode" if ceil else ""
            attrs = f"kernel = {arr(kh, kw)}, strides = {arr(sh, sw)}, pads = {arr(ph, pw, ph, pw)}{cm}"
            r.check("max_pool2d", [x], f"anvil.max_pool2d %a0 {{{attrs}}} : {ttype(x)}",
                    F.max_pool2d(t(x), (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil))
            xin = t(x).requires_grad_()
            pooled = F.max_pool2d(xin, (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil)
            gy = rand(*pooled.shape)
            (pooled * t(gy)).sum().backward()
            r.check("max_pool2d_grad", [x, gy],
                    f"anvil.max_pool2d_grad %a0, %a1 {{{attrs}}} : {ttype(x)}, {ttype(gy)}",
                    xin.grad)
            # Windows 2 wide that tile the input exactly (stride = kernel, no
            # padding: LeNet's 2x2): anvil-convert-to-linalg's vector code,
            # 8 windows per step, rows of 16 ending masked; values on a grid
            # of 3 so that windows hold ties (the first maximum takes the
            # gradient, as in PyTorch).
            for kh2, ow2 in ((2, 14), (2, 8), (1, 3), (3, 5), (4, 1), (2, 17)):
                x2 = np.round(rand(2, int(rng.integers(1, 3)), 2 * kh2, 2 * ow2)).astype(np.float32)
                a2 = f"kernel = {arr(kh2, 2)}, strides = {arr(kh2, 2)}, pads = {arr(0, 0, 0, 0)}"
                xin = t(x2).requires_grad_()
                pooled = F.max_pool2d(xin, (kh2, 2), (kh2, 2))
                gy = rand(*pooled.shape)
                (pooled * t(gy)).sum().backward()
                r.check(f"max_pool2d_grad {kh2}x2 tiling exactly, ties", [x2, gy],
                        f"anvil.max_pool2d_grad %a0, %a1 {{{a2}}} : {ttype(x2)}, {ttype(gy)}",
                        xin.grad)
            for include in (False, True):
                ci = ", count_include_pad" if include else ""
                r.check("avg_pool2d", [x], f"anvil.avg_pool2d %a0 {{{attrs}{ci}}} : {ttype(x)}",
                        F.avg_pool2d(t(x), (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil,
                                     count_include_pad=include))
            for include in (False, True):
                ci = ", count_include_pad" if include else ""

                def avg(v, include=include):
                    return F.avg_pool2d(v, (kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil,
                                        count_include_pad=include)
                xin = t(x).requires_grad_()
                pooled = avg(xin)
                gy = rand(*pooled.shape)
                (pooled * t(gy)).sum().backward()
                r.check("avg_pool2d_grad", [gy],
                        f"anvil.avg_pool2d_grad %a0 {{input_size = {arr(*x.shape[2:])}, {attrs}{ci}}} : "
                        f"{ttype(gy)}", xin.grad)
                grad_case("avg_pool2d (autodiff)", [x], f"%r = anvil.avg_pool2d %a0 {{{attrs}{ci}}} : {ttype(x)}",
                          avg)
            r.check("global_avg_pool", [x], f"anvil.global_avg_pool %a0 : {ttype(x)}",
                    t(x).mean((2, 3), keepdim=True))

            # Normalization.
            c = int(rng.integers(1, 5))
            x = rand(int(rng.integers(2, 4)), c, *dims(int(rng.integers(0, 3)), 1, 5))
            g, bta, mu = rand(c), rand(c), rand(c)
            var = rand(c, low=0.1, high=2.0)
            r.check("batch_norm", [x, g, bta, mu, var],
                    f"anvil.batch_norm %a0, %a1, %a2, %a3, %a4 : {ttype(x)}, {ttype(g)}, "
                    f"{ttype(bta)}, {ttype(mu)}, {ttype(var)}",
                    F.batch_norm(t(x), t(mu), t(var), t(g), t(bta), False, 0.0, 1e-5))
            red = [0] + list(range(2, x.ndim))
            r.check("batch_norm_train", [x, g, bta],
                    f"anvil.batch_norm_train %a0, %a1, %a2 : {ttype(x)}, {ttype(g)}, {ttype(bta)}",
                    [F.batch_norm(t(x), None, None, t(g), t(bta), True, 0.0, 1e-5),
                     t(x).mean(red), t(x).var(red, unbiased=False)])
            x = rand(*dims(3, 1, 6))
            lax = int(rng.integers(-3, 3))
            norm_shape = x.shape[lax % 3:]
            g, bta = rand(*norm_shape), rand(*norm_shape)
            r.check("layer_norm", [x, g, bta],
                    f"anvil.layer_norm %a0, %a1, %a2 {{axis = {lax} : i64}} : "
                    f"{ttype(x)}, {ttype(g)}, {ttype(bta)}",
                    F.layer_norm(t(x), norm_shape, t(g), t(bta), 1e-5))
            r.check("dropout (inference)", [x], f"anvil.dropout %a0 {{ratio = 0.3 : f64}} : {ttype(x)}",
                    [t(x), torch.ones(x.shape, dtype=torch.bool)])

            # Losses, with large logits too.
            n, ncls = dims(2, 1, 8)
            logits = rand(n, ncls, low=-50, high=50)
            labels = rng.integers(0, ncls, n).astype(np.int64)
            for red in ("mean", "sum", "none"):
                r.check("softmax_cross_entropy", [logits, labels],
                        f"anvil.softmax_cross_entropy %a0, %a1 {{reduction = \"{red}\"}} : "
                        f"{ttype(logits)}, {ttype(labels)}",
                        F.cross_entropy(t(logits), t(labels), reduction=red))
                r.check("nll_loss", [logits, labels],
                        f"anvil.nll_loss %a0, %a1 {{reduction = \"{red}\"}} : "
                        f"{ttype(logits)}, {ttype(labels)}",
                        F.nll_loss(t(logits), t(labels), reduction=red))
                p, q = rand(n, ncls), rand(n, ncls)
                r.check("mse_loss", [p, q],
                        f"anvil.mse_loss %a0, %a1 {{reduction = \"{red}\"}} : {ttype(p)}, {ttype(q)}",
                        F.mse_loss(t(p), t(q), reduction=red))

        # Fixed shapes on the matmul's fast paths: widths 16 does not divide
        # (a 14x14 or 7x7 convolution's output pixels, peeled register
        # tiles), serial and parallel; batched lhs times a 2-D rhs (one 2-D
        # matmul) and equal batches (a batch_matmul), with transposes.
        for m, k, n in ((20, 37, 196), (256, 128, 196), (96, 64, 49), (40, 64, 392), (6, 300, 25)):
            a, b = rand(m, k), rand(k, n)
            r.check(f"matmul {m}x{k}x{n}", [a, b], f"anvil.matmul %a0, %a1 : {ttype(a)}, {ttype(b)}",
                    t(a) @ t(b), rtol=1e-4, atol=1e-4)
        for ashape, bshape, ta, tb in (((8, 32, 128), (128, 72), False, False),
                                       ((2, 3, 5, 7), (9, 7), False, True),
                                       ((3, 7, 5), (7, 9), True, False),
                                       ((4, 9, 7), (4, 7, 33), False, False),
                                       ((2, 3, 7, 5), (2, 3, 6, 7), True, True)):
            a, b = rand(*ashape), rand(*bshape)
            flags = ", ".join(f for f, on in (("transpose_a", ta), ("transpose_b", tb)) if on)
            r.check(f"matmul {ashape}x{bshape}", [a, b],
                    f"anvil.matmul %a0, %a1 {{{flags}}} : {ttype(a)}, {ttype(b)}",
                    torch.matmul(t(a).transpose(-1, -2) if ta else t(a),
                                 t(b).transpose(-1, -2) if tb else t(b)), rtol=1e-4, atol=1e-4)
        a, b = rand(4, 6, 10), rand(10, 7)
        grad_case("matmul 3-D x 2-D (autodiff)", [a, b],
                  f"%r = anvil.matmul %a0, %a1 : {ttype(a)}, {ttype(b)}", lambda u, v: u @ v)
        # 1x1 convolutions (stride 1: no im2col) with and without stride,
        # padding and batch, and 3x3 ones with 196 and 98 pixels. A batch of
        # images of 64 pixels or more runs one image at a time (a loop; the
        # padded image a buffer whose border is zeroed once), smaller ones
        # all at once: both, with padding (asymmetric too), strides,
        # dilations, without bias.
        for shape, cout, kernel, stride, pads, dil, with_bias in (
                ((1, 24, 14, 14), 40, 1, 1, (0, 0, 0, 0), 1, True),
                ((1, 24, 7, 7), 40, 1, 1, (1, 0, 1, 2), 1, True),
                ((1, 24, 14, 14), 40, 1, 2, (0, 0, 0, 0), 1, True),
                ((3, 24, 7, 7), 40, 1, 1, (0, 0, 0, 0), 1, True),
                ((1, 16, 14, 14), 24, 3, 1, (1, 1, 1, 1), 1, True),
                ((2, 16, 7, 7), 24, 3, 1, (1, 1, 1, 1), 1, True),
                ((3, 16, 14, 14), 24, 1, 1, (0, 0, 0, 0), 1, True),
                ((2, 16, 14, 14), 24, 1, 1, (1, 2, 0, 1), 1, False),
                ((4, 8, 16, 16), 24, 3, 1, (1, 1, 1, 1), 1, True),
                ((3, 8, 19, 17), 16, 3, 2, (1, 0, 2, 1), 1, False),
                ((2, 6, 20, 18), 12, 3, 1, (2, 2, 2, 2), 2, True),
                ((2, 5, 19, 21), 7, (3, 5), (2, 1), (0, 2, 1, 0), (1, 2), True),
                ((3, 8, 7, 7), 16, 3, 1, (1, 1, 1, 1), 1, False),
                ((2, 8, 12, 12), 16, 3, 2, (1, 1, 1, 1), 2, True)):
            kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
            sh, sw = (stride, stride) if isinstance(stride, int) else stride
            dh, dw = (dil, dil) if isinstance(dil, int) else dil
            x, wt, bias = rand(*shape), rand(cout, shape[1], kh, kw), rand(cout)
            ins, names = ([x, wt, bias], "%a0, %a1, %a2") if with_bias else ([x, wt], "%a0, %a1")
            r.check(f"conv2d {shape} {kh}x{kw}/{stride} pads {pads} dil {dil} bias {with_bias}", ins,
                    f"anvil.conv2d {names} {{strides = {arr(sh, sw)}, pads = {arr(*pads)}, "
                    f"dilations = {arr(dh, dw)}}} : " + ", ".join(ttype(v) for v in ins),
                    F.conv2d(F.pad(t(x), (pads[1], pads[3], pads[0], pads[2])), t(wt),
                             t(bias) if with_bias else None, (sh, sw), 0, (dh, dw)),
                    rtol=1e-4, atol=1e-4)

        r.run()
        for f in r.failures:
            print("FAIL " + f)
        print(f"{args.mode}: {len(r.cases) - len(r.failures)} of {len(r.cases)} op cases match PyTorch")
        return 1 if r.failures else 0


if __name__ == "__main__":
    sys.exit(main())
