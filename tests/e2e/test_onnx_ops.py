#!/usr/bin/python3
"""The ONNX ops the importer composes from anvil ops, against PyTorch.

Each case is a small torch module using one op (HardSigmoid, HardSwish, Pad
in its three modes, Split, Expand, Tile, ConvTranspose, 3-D Conv, MaxPool,
AveragePool and ConvTranspose, Resize/Upsample (nearest, linear, cubic),
Einsum, GELU written with Erf), exported to ONNX by torch.onnx and run
through `anvilc run` (compiled); its output must equal PyTorch's. Where the
op is differentiable, the imported graph is also differentiated: the module
then returns sum(f(x) * w), anvil-opt's anvil-autodiff builds
@forward_grad, and `anvilc run --reference` of it must give the gradient
torch.autograd gives for x. The erf-based GELU must import as one
anvil.gelu. What the compositions do not cover is refused by `anvilc check`
with one message per node, all listed at once (diagnostics()). Exits
non-zero on any mismatch.
"""
import argparse
import copy
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


class Fn(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


class Weighted(torch.nn.Module):
    """sum(f(x) * w): a scalar whose gradient for x is f's vector-Jacobian
    product with w."""

    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x, w):
        return (self.f(x) * w).sum()


def cases():
    """(name, module, input shapes, opset, differentiable)."""
    g = torch.Generator().manual_seed(0)
    conv_t = torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1,
                                      output_padding=1, groups=2, dilation=2)
    conv_t1 = torch.nn.ConvTranspose1d(3, 5, 4, stride=3, padding=2)
    conv_t_plain = torch.nn.ConvTranspose2d(3, 2, (2, 3), bias=False)
    conv3 = torch.nn.Conv3d(4, 6, (3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 2),
                            dilation=(2, 1, 1), groups=2)
    conv3_plain = torch.nn.Conv3d(2, 3, 2, bias=False)
    conv_t3 = torch.nn.ConvTranspose3d(4, 2, (3, 2, 2), stride=(2, 1, 3), padding=(1, 0, 1),
                                       output_padding=(1, 0, 2), groups=2, dilation=(2, 1, 1))
    for m in (conv_t, conv_t1, conv_t_plain, conv3, conv3_plain, conv_t3):
        for p in m.parameters():
            p.data = torch.randn(p.shape, generator=g)
    weight = torch.randn(7, 5, generator=g)
    return [
        ("HardSigmoid", Fn(F.hardsigmoid), [(2, 3, 5, 4)], 13, True),
        ("HardSigmoid (alpha, beta)", Fn(lambda x: torch.clamp(x * 0.3 + 0.4, 0, 1)),
         [(3, 8)], 13, True),
        ("HardSwish", Fn(F.hardswish), [(2, 3, 5, 4)], 14, True),
        ("Pad constant", Fn(lambda x: F.pad(x, (1, 2, 0, 3), value=1.5)),
         [(2, 3, 4, 5)], 13, True),
        ("Pad constant, negative", Fn(lambda x: F.pad(x, (-1, 2, 1, -2))),
         [(1, 2, 5, 6)], 13, True),
        ("Pad reflect", Fn(lambda x: F.pad(x, (2, 1, 3, 0), mode="reflect")),
         [(2, 3, 4, 5)], 13, True),
        ("Pad edge", Fn(lambda x: F.pad(x, (0, 3, 2, 1), mode="replicate")),
         [(2, 3, 4, 5)], 13, True),
        ("Split", Fn(lambda x: torch.cat([t * (i + 1) for i, t in
                                          enumerate(torch.split(x, [2, 3, 1], 1))], 1)),
         [(2, 6, 4)], 13, True),
        ("Split equal", Fn(lambda x: torch.chunk(x, 3, -1)[2] - torch.chunk(x, 3, -1)[0]),
         [(4, 9)], 13, True),
        ("Expand", Fn(lambda x: x.expand(3, 4, 5) * 2), [(4, 1)], 13, True),
        ("Tile", Fn(lambda x: x.repeat(2, 1, 3)), [(2, 3, 4)], 13, True),
        ("ConvTranspose 2-D (stride, pads, output_padding, groups, dilation)",
         conv_t, [(2, 4, 5, 6)], 13, True),
        ("ConvTranspose 2-D (no bias)", conv_t_plain, [(1, 3, 4, 4)], 13, True),
        ("ConvTranspose 1-D", conv_t1, [(2, 3, 7)], 13, True),
        ("Conv 3-D (stride, pads, dilation, groups)", conv3, [(2, 4, 7, 5, 8)], 13, True),
        ("Conv 3-D (no bias)", conv3_plain, [(1, 2, 3, 4, 5)], 13, True),
        ("MaxPool 3-D (stride, pads, dilation)",
         Fn(lambda x: F.max_pool3d(x, (3, 2, 3), stride=(2, 1, 2), padding=(1, 1, 0),
                                   dilation=(2, 1, 1))), [(2, 3, 9, 5, 7)], 13, True),
        ("MaxPool 3-D (ceil_mode)",
         Fn(lambda x: F.max_pool3d(x, 2, stride=2, ceil_mode=True)), [(1, 2, 5, 7, 6)], 13, True),
        ("AveragePool 3-D (pads counted)",
         Fn(lambda x: F.avg_pool3d(x, (3, 3, 2), stride=(2, 2, 1), padding=(1, 1, 1))),
         [(2, 3, 6, 5, 4)], 13, True),
        ("AveragePool 3-D (pads not counted)",
         Fn(lambda x: F.avg_pool3d(x, (3, 2, 3), stride=2, padding=(1, 1, 1),
                                   count_include_pad=False)), [(1, 2, 7, 6, 5)], 13, True),
        ("AveragePool 3-D (ceil_mode, pads not counted)",
         Fn(lambda x: F.avg_pool3d(x, 3, stride=2, padding=1, ceil_mode=True,
                                   count_include_pad=False)), [(1, 2, 6, 8, 5)], 13, True),
        ("ConvTranspose 3-D (stride, pads, output_padding, groups, dilation)",
         conv_t3, [(2, 4, 3, 4, 3)], 13, True),
        ("Resize nearest x2", Fn(lambda x: F.interpolate(x, scale_factor=2, mode="nearest")),
         [(1, 3, 4, 5)], 13, True),
        ("Resize nearest to size", Fn(lambda x: F.interpolate(x, size=(7, 3), mode="nearest")),
         [(2, 2, 5, 6)], 13, True),
        ("Resize bilinear", Fn(lambda x: F.interpolate(x, scale_factor=2, mode="bilinear")),
         [(1, 3, 4, 5)], 13, True),
        ("Resize bilinear, align_corners",
         Fn(lambda x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True)),
         [(2, 2, 4, 5)], 13, True),
        ("Resize bilinear down", Fn(lambda x: F.interpolate(x, size=(3, 2), mode="bilinear")),
         [(1, 2, 7, 5)], 13, True),
        ("Resize bicubic", Fn(lambda x: F.interpolate(x, size=(9, 4), mode="bicubic")),
         [(1, 2, 5, 6)], 13, True),
        ("Einsum bhid,bhjd->bhij",
         Fn(lambda x: torch.einsum("bhid,bhjd->bhij", x, x * 0.5 + 1)), [(2, 3, 5, 4)], 13, True),
        ("Einsum bhij,bhjd->bhid",
         Fn(lambda x: torch.einsum("bhij,bhjd->bhid", x, x.transpose(2, 3)[..., :3])),
         [(2, 3, 4, 4)], 13, True),
        ("Einsum bid,jd->bij", Fn(lambda x: torch.einsum("bid,jd->bij", x, weight.to(x.dtype))),
         [(2, 3, 5)], 13, True),
        ("Einsum ...ij->...j", Fn(lambda x: torch.einsum("...ij->...j", x)),
         [(2, 3, 4)], 13, True),
        ("Einsum three operands", Fn(lambda x: torch.einsum("ij,jk,kl->il", x, x.t(), x)),
         [(3, 4)], 13, True),
        ("GELU (erf)", Fn(F.gelu), [(3, 16)], 13, True),
        ("GELU (erf, written out)",
         Fn(lambda x: 0.5 * x * (1 + torch.erf(x * 0.7071067811865476))), [(3, 16)], 13, True),
    ]


def diagnostics():
    """(name, nodes, inputs as (name, shape), initializers as (name, ints),
    needles every one of which anvilc check must print)."""
    f32 = TensorProto.FLOAT
    return [
        ("Pad wrap, reflect past the size, runtime pads",
         [helper.make_node("Pad", ["x", "p1"], ["a"], mode="wrap", name="wrap"),
          helper.make_node("Pad", ["x", "p2"], ["b"], mode="reflect", name="far"),
          helper.make_node("Pad", ["x", "n"], ["c"], name="runtime")],
         [("x", [2, 3], f32), ("n", [4], TensorProto.INT64)],
         [("p1", [0, 1, 0, 1]), ("p2", [0, 3, 0, 0])],
         ["Pad: mode 'wrap' is not supported (constant, reflect and edge are) (1x: 'wrap')",
          "Pad: reflect pads must be smaller than the axis they pad (axis 1 has size 3) (1x: 'far')",
          "Pad: pads, constant_value and axes must be known at compile time (1x: 'runtime')"]),
        ("Split, Tile and Expand that do not fit",
         [helper.make_node("Split", ["x", "s"], ["a", "b"], axis=1, name="split"),
          helper.make_node("Tile", ["x", "r"], ["c"], name="tile"),
          helper.make_node("Expand", ["x", "e"], ["d"], name="expand")],
         [("x", [2, 3], f32)], [("s", [1, 1]), ("r", [1, 0]), ("e", [4, 3, 5])],
         ["Split: split sizes [1, 1] do not cover the axis of size 3 (1x: 'split')",
          "Tile: repeats must be >= 1, got [1, 0] (1x: 'tile')",
          "Expand: shape [2, 3] does not broadcast to [4, 3, 5] (1x: 'expand')"]),
        ("Resize tf_crop_and_resize, Einsum diagonal, 4-D ConvTranspose and pooling, "
         "a 3-D kernel deeper than its input",
         [helper.make_node("Resize", ["x4", "", "sc"], ["a"], name="crop",
                           coordinate_transformation_mode="tf_crop_and_resize"),
          helper.make_node("Einsum", ["x", "x"], ["b"], equation="ii,ij->j", name="diag"),
          helper.make_node("ConvTranspose", ["x6", "w6"], ["c"], name="deconv4d"),
          helper.make_node("MaxPool", ["x6"], ["d"], kernel_shape=[1, 1, 1, 1], name="pool4d"),
          helper.make_node("Conv", ["x5", "w5"], ["e"], name="deep"),
          helper.make_node("AveragePool", ["x5"], ["f"], kernel_shape=[4, 1, 1],
                           name="deeppool")],
         [("x", [3, 3], f32), ("x4", [1, 1, 2, 2], f32), ("x5", [1, 1, 2, 2, 2], f32),
          ("w5", [1, 1, 3, 2, 2], f32), ("x6", [1, 1, 2, 2, 2, 2], f32),
          ("w6", [1, 1, 2, 2, 2, 2], f32)], [],
         ["Resize: coordinate_transformation_mode 'tf_crop_and_resize' is not supported "
          "(1x: 'crop')",
          "Einsum: label 'i' repeats within one operand (a diagonal), which is not "
          "supported (1x: 'diag')",
          "ConvTranspose: 4-D ConvTranspose is not supported (1-D, 2-D and 3-D are) "
          "(1x: 'deconv4d')",
          "MaxPool: 4-D pooling is not supported (1-D, 2-D and 3-D are) (1x: 'pool4d')",
          "Conv: the kernel's depth 3 (dilation 1) is larger than the padded input's "
          "depth 2 (1x: 'deep')",
          "AveragePool: the kernel's depth 4 is larger than the padded input's depth 2 "
          "(1x: 'deeppool')"]),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-opt", required=True)
    ap.add_argument("--filter", help="only cases whose name contains this")
    args = ap.parse_args()
    failures = []

    def check(ok, what, detail=""):
        print(("ok   " if ok else "FAIL ") + what + ("" if ok else ": " + detail))
        if not ok:
            failures.append(what)

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, module, shapes, opset, differentiable) in enumerate(cases()):
            if args.filter and args.filter not in name:
                continue
            xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
            path = os.path.join(tmp, f"m{k}.onnx")
            with torch.no_grad():
                torch.onnx.export(module, tuple(torch.from_numpy(x) for x in xs), path,
                                  opset_version=opset)
                want = module(*[torch.from_numpy(x) for x in xs]).numpy()
            cmd = [args.anvilc, "run", path]
            for i, x in enumerate(xs):
                np.save(os.path.join(tmp, f"m{k}-x{i}.npy"), x)
                cmd += ["--input", os.path.join(tmp, f"m{k}-x{i}.npy")]
            out = os.path.join(tmp, f"m{k}-y.npy")
            r = run(cmd + ["--output", out])
            if r.returncode != 0:
                check(False, f"{name}: compiled equals PyTorch", r.stderr.strip())
                continue
            got = np.load(out)
            ok = got.shape == want.shape and np.allclose(got, want, rtol=1e-4, atol=1e-5)
            err = float(np.abs(got - want).max()) if got.shape == want.shape else got.shape
            check(ok, f"{name}: compiled equals PyTorch (max abs error {err})")

            if name.startswith("GELU"):
                mlir = os.path.join(tmp, f"m{k}.mlir")
                r = run([args.anvilc, path, "--compile-to=graph", "-o", mlir])
                text = open(mlir).read() if r.returncode == 0 else r.stderr
                check("anvil.gelu" in text and "anvil.erf" not in text,
                      f"{name}: imported as one anvil.gelu", text)
            if not differentiable:
                continue

            # The gradient of sum(f(x) * w) for x, through anvil-autodiff.
            w = rng.standard_normal(want.shape).astype(np.float32)
            x = torch.from_numpy(xs[0]).double().requires_grad_()
            # (torch.autograd in f64: a module's parameters too, in a copy.)
            Weighted(copy.deepcopy(module).double())(x, torch.from_numpy(w).double()).backward()
            gpath = os.path.join(tmp, f"g{k}.onnx")
            torch.onnx.export(Weighted(module), (torch.from_numpy(xs[0]), torch.from_numpy(w)),
                              gpath, opset_version=opset)
            mlir, graded = (os.path.join(tmp, f"g{k}{s}.mlir") for s in ("", "-grad"))
            wpath = os.path.join(tmp, f"g{k}-w.npy")
            np.save(wpath, w)
            dx = os.path.join(tmp, f"g{k}-dx.npy")
            steps = [
                [args.anvilc, gpath, "--compile-to=import", "-o", mlir],
                [args.anvil_opt, mlir, "--pass-pipeline=builtin.module("
                 "anvil-autodiff{function=forward args=1})", "-o", graded],
                [args.anvilc, "run", "--reference", graded, "--function", "forward_grad",
                 "--input", os.path.join(tmp, f"m{k}-x0.npy"), "--input", wpath,
                 "--output", os.path.join(tmp, f"g{k}-l.npy"), "--output", dx,
                 "--output", os.path.join(tmp, f"g{k}-dw.npy")]
                # (and one gradient per parameter of the module)
                + sum((["--output", os.path.join(tmp, f"g{k}-dp{j}.npy")]
                       for j, _ in enumerate(module.parameters())), []),
            ]
            for step in steps:
                r = run(step)
                if r.returncode != 0:
                    break
            if r.returncode != 0:
                check(False, f"{name}: gradient equals torch.autograd's", r.stderr.strip())
                continue
            got, want_dx = np.load(dx), x.grad.numpy()
            err = float(np.abs(got - want_dx).max())
            check(np.allclose(got, want_dx, rtol=1e-4, atol=1e-4),
                  f"{name}: gradient equals torch.autograd's (max abs error {err})")
        for k, (name, nodes, inputs, inits, needles) in enumerate(diagnostics()):
            if args.filter and args.filter not in name:
                continue
            tensors = [helper.make_tensor(n, TensorProto.INT64, [len(v)], v)
                       for n, v in inits]
            if name.startswith("Resize"):
                tensors.append(helper.make_tensor("sc", TensorProto.FLOAT, [4], [1, 1, 2, 2]))
            graph = helper.make_graph(
                nodes, "g", [helper.make_tensor_value_info(n, t, s) for n, s, t in inputs],
                [helper.make_tensor_value_info(o, TensorProto.FLOAT, [])
                 for n in nodes for o in n.output], tensors)
            path = os.path.join(tmp, f"bad{k}.onnx")
            onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
                      path)
            r = run([args.anvilc, "check", path])
            missing = [n for n in needles if n not in r.stderr]
            check(r.returncode == 1 and not missing and "Stack dump" not in r.stderr,
                  f"{name}: refused, every node named",
                  f"rc={r.returncode}, missing {missing} in: {r.stderr.strip()}")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
