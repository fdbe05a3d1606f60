#!/usr/bin/python3
"""The matmul schedule's packed and peeled register tiles against NumPy.

anvil-tile-and-vectorize copies B's 32-column slivers into contiguous buffers
per cache block and k block (its `pack` option, anvilc --no-pack-matmul to
turn it off). Each function below is one product whose shape takes a
different path through that schedule: a convolution-like width with a 4-column
tail panel (196), a width of 49 (one panel and a 17-column tail: a 16-lane
tile and a peeled 1-lane one), 784 in blocks of 196, 3136 in one serial
block of 98 panels, M that 8 does not divide (register tiles of 6 and 5
rows), K in several k blocks and a prime K (one k block), a batched product
(a loop of matmuls) with a 1-column tail, a product whose bias and relu run
as its epilogue on the packed blocks, and a small one that is not packed.
Convolutions with a bias start their product's accumulator from its
broadcast: with one k block (K <= 256), in each packed row tile's registers
(the schedule's start-in-registers), with several, per cache block; the
1x1 one (K = 64, 3136 pixels) and the 3x3 one on 7 channels (K = 63, a 4-
column tail) take the first path, the 3x3 one on 40 channels (K = 360) the
second.
The 3x3 one on 64 channels at 28x28 (K = 576, three k blocks, parallel
blocks) runs its first k block before the k-block loop with the bias in
registers (peel-first-k-block), as do the parallel products with several k
blocks above, whose accumulators start at zero.
Every function is compiled with packing and with --no-pack-matmul, and both
must match float64 NumPy within 1e-5 of the output's largest magnitude; a
third build with --no-peel-first-k-block (every k block in the loop, the
start written to the block first) must equal the default bit for bit: the
same sums in the same order. So must builds whose register tiles are sized
for AVX-512 and for AVX2 (--matmul-vector-bits=512 and 256: 8 x 32 and up
to 6 x 16 tiles; the default is the target's): each element's sum runs
over k in the same order whatever the tile. So must builds that pack
slivers across rows with masked reads (--no-im2col-blend), whose k
blocks are not whole filter windows (--no-window-k-blocks) and whose row
tiles are M's largest divisor up to the registers' height
(--no-full-height-tiles: on AVX2, 4-row tiles for M = 256 and 512, where
the default runs 6-row tiles and the last 8 rows of each 128-row block as
two 4-row tiles, the epilogue in them for K = 128).
"""
import argparse
import os
import sys
import tempfile

import numpy as np

from checks import must

# name: (M, N, K, batch or 0, epilogue)
CASES = {
    "n196_m36_k600": (36, 196, 600, 0, False),
    "n49_m20_kprime": (20, 49, 577, 0, False),
    "n49_m128_k1200": (128, 49, 1200, 0, False),
    "n784_m24_k300": (24, 784, 300, 0, False),
    "n3136_m16_k64": (16, 3136, 64, 0, False),
    "n100_m8_unpacked": (8, 100, 64, 0, False),
    "batched_n33": (40, 33, 70, 2, False),
    "epilogue_n200": (48, 200, 512, 0, True),
    "n196_m256_k512": (256, 196, 512, 0, False),
    "epilogue_m512_k128": (512, 64, 128, 0, True),
}

# name: (output channels, input channels, image side, kernel side); stride 1,
# padding kernel // 2, with a bias.
CONVS = {
    "conv1x1_bias_k64": (48, 64, 56, 1),
    "conv3x3_bias_k63": (40, 7, 14, 3),
    "conv3x3_bias_k360": (24, 40, 14, 3),
    "conv3x3_bias_k576_blocks": (64, 64, 28, 3),
}

# Convolutions whose packed B slivers are gathered straight from the images
# (the schedule's pack-im2col; --no-pack-matmul turns it off with all
# packing): name: (batch, out, in, (H, W), (kh, kw), strides, pads
# [top, left, bottom, right], dilations). Output rows of 28, 22, 18 and 16
# pixels put a 32-column sliver on up to 3 rows (segments), 56 on 2; stride
# 2 reads each row twice as wide and keeps the even lanes (the 7x7 stem, a
# 1x1 downsample, a 3x3 one on a 35x35 padded image whose last tap's last
# pixel is the image's last element), stride 3 takes the gather path;
# dilation, uneven pads and a non-square kernel move the taps; batch 2 of
# 28x28 runs one image per iteration. Rows shorter than 16 pixels keep the im2col copy: a
# 3x3 stride-2 convolution to 15x15, and batch 3 of 7x7 outputs (one
# product over all images). With 16-column slivers (AVX2), rows of 13
# pixels (SqueezeNet's last layers; K = 576, k blocks of whole windows)
# put a sliver on up to 3 rows, and batch 2 of 7x8 outputs (one product)
# puts slivers across images: their plain reads are blended (the
# schedule's im2col-blend), except near the buffer's end, where they stay
# masked.
IMAGE_CONVS = {
    "im2col_n2_28x28": (2, 40, 16, (28, 28), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),
    "im2col_56x56_k1": (1, 16, 1, (56, 56), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),
    "im2col_stem_stride2": (1, 16, 3, (32, 32), (7, 7), (2, 2), (3, 3, 3, 3), (1, 1)),
    "im2col_1x1_stride2": (1, 32, 24, (36, 36), (1, 1), (2, 2), (0, 0, 0, 0), (1, 1)),
    "im2col_3x3_stride2_odd": (1, 24, 8, (29, 29), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1)),
    "im2col_3x3_stride2_end": (1, 16, 8, (33, 33), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1)),
    "im2col_3x3_stride3": (1, 16, 8, (50, 50), (3, 3), (3, 3), (1, 1, 1, 1), (1, 1)),
    "im2col_dilated_uneven": (1, 24, 8, (20, 22), (3, 5), (1, 1), (2, 1, 0, 3), (2, 1)),
    "im2col_batched_7x7": (3, 48, 32, (7, 7), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),
    "im2col_13x13_k576": (1, 24, 64, (13, 13), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),
    "im2col_batched_7x8": (2, 16, 8, (7, 8), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),
}

# Builds that must equal the default one bit for bit (the same sums in the
# same order): name: anvilc options.
SAME_SUMS = {
    "unpeeled": ["--no-peel-first-k-block"],
    "bits512": ["--matmul-vector-bits=512"],
    "bits256": ["--matmul-vector-bits=256"],
    "masked": ["--no-im2col-blend"],
    "divided": ["--no-window-k-blocks"],
    "divisor_rows": ["--no-full-height-tiles"],
}


def conv_function(name, o, c, hw, kk):
    return image_conv_function(name, 1, o, c, (hw, hw), (kk, kk), (1, 1), (kk // 2,) * 4, (1, 1))


def out_size(size, k, stride, pad, dilation):
    return (size + pad - dilation * (k - 1) - 1) // stride + 1


def image_conv_function(name, n, o, c, hw, kk, strides, pads, dilations):
    oh = out_size(hw[0], kk[0], strides[0], pads[0] + pads[2], dilations[0])
    ow = out_size(hw[1], kk[1], strides[1], pads[1] + pads[3], dilations[1])
    x, w = f"tensor<{n}x{c}x{hw[0]}x{hw[1]}xf32>", f"tensor<{o}x{c}x{kk[0]}x{kk[1]}xf32>"
    y = f"tensor<{n}x{o}x{oh}x{ow}xf32>"
    attrs = (f"pads = array<i64: {', '.join(map(str, pads))}>, "
             f"strides = array<i64: {strides[0]}, {strides[1]}>, "
             f"dilations = array<i64: {dilations[0]}, {dilations[1]}>")
    return (f"  func.func @{name}(%x: {x}, %w: {w}, %b: tensor<{o}xf32>) -> {y} {{\n"
            f"    %y = anvil.conv2d %x, %w, %b {{{attrs}}} : {x}, {w}, tensor<{o}xf32>\n"
            f"    return %y : {y}\n  }}\n")


def conv_reference(x, w, b, strides=(1, 1), pads=None, dilations=(1, 1)):
    """In float64: a sum over the kernel's offsets."""
    o, c, kh, kw = w.shape
    if pads is None:
        pads = (kh // 2, kw // 2, kh // 2, kw // 2)
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = out_size(x.shape[2], kh, strides[0], pads[0] + pads[2], dilations[0])
    ow = out_size(x.shape[3], kw, strides[1], pads[1] + pads[3], dilations[1])
    y = np.zeros((x.shape[0], o, oh, ow)) + b.astype(np.float64)[None, :, None, None]
    for i in range(kh):
        for j in range(kw):
            y0, x0 = i * dilations[0], j * dilations[1]
            window = padded[:, :, y0:y0 + strides[0] * (oh - 1) + 1:strides[0],
                            x0:x0 + strides[1] * (ow - 1) + 1:strides[1]]
            y += np.einsum("oc,ncyx->noyx", w[:, :, i, j].astype(np.float64), window)
    return y


def function(name, m, n, k, batch, epilogue):
    pre = f"{batch}x" if batch else ""
    a, b, c = f"tensor<{pre}{m}x{k}xf32>", f"tensor<{pre}{k}x{n}xf32>", f"tensor<{pre}{m}x{n}xf32>"
    if epilogue:
        return (f"  func.func @{name}(%a: {a}, %b: {b}, %bias: tensor<{n}xf32>) -> {c} {{\n"
                f"    %p = anvil.matmul %a, %b : {a}, {b}\n"
                f"    %s = anvil.add %p, %bias : {c}, tensor<{n}xf32>\n"
                f"    %r = anvil.relu %s : {c}\n"
                f"    return %r : {c}\n  }}\n")
    return (f"  func.func @{name}(%a: {a}, %b: {b}) -> {c} {{\n"
            f"    %p = anvil.matmul %a, %b : {a}, {b}\n"
            f"    return %p : {c}\n  }}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "packing.mlir")
        with open(model, "w") as f:
            f.write("module {\n" + "".join(function(name, *case) for name, case in CASES.items())
                    + "".join(conv_function(name, *case) for name, case in CONVS.items())
                    + "".join(image_conv_function(name, *case)
                              for name, case in IMAGE_CONVS.items())
                    + "}\n")
        packed, unpacked = os.path.join(tmp, "packed"), os.path.join(tmp, "unpacked")
        must([args.anvilc, model, "-o", packed])
        must([args.anvilc, model, "--no-pack-matmul", "-o", unpacked])
        same = {name: os.path.join(tmp, name) for name in SAME_SUMS}
        for name, exe in same.items():
            must([args.anvilc, model] + SAME_SUMS[name] + ["-o", exe])
        def product(m, n, k, batch, epilogue):
            pre = (batch,) if batch else ()
            inputs = [rng.uniform(-1.0, 1.0, pre + (m, k)).astype(np.float32),
                      rng.uniform(-1.0, 1.0, pre + (k, n)).astype(np.float32)]
            if epilogue:
                inputs.append(rng.uniform(-1.0, 1.0, (n,)).astype(np.float32))
            expected = inputs[0].astype(np.float64) @ inputs[1].astype(np.float64)
            if epilogue:
                expected = np.maximum(expected + inputs[2], 0.0)
            return inputs, expected

        def conv(o, c, hw, kk):
            inputs = [rng.uniform(-1.0, 1.0, shape).astype(np.float32)
                      for shape in ((1, c, hw, hw), (o, c, kk, kk), (o,))]
            return inputs, conv_reference(*inputs)

        def image_conv(n, o, c, hw, kk, strides, pads, dilations):
            inputs = [rng.uniform(-1.0, 1.0, shape).astype(np.float32)
                      for shape in ((n, c) + hw, (o, c) + kk, (o,))]
            return inputs, conv_reference(*inputs, strides, pads, dilations)

        cases = [(name, product(*case)) for name, case in CASES.items()]
        cases += [(name, conv(*case)) for name, case in CONVS.items()]
        cases += [(name, image_conv(*case)) for name, case in IMAGE_CONVS.items()]
        for name, (inputs, expected) in cases:
            cmd_inputs = []
            for i, x in enumerate(inputs):
                path = os.path.join(tmp, f"{name}.in{i}.npy")
                np.save(path, x)
                cmd_inputs += ["--input", path]
            for exe in (packed, unpacked):
                out = os.path.join(tmp, f"{name}.{os.path.basename(exe)}.npy")
                must([exe, "--function", name] + cmd_inputs + ["--output", out])
                got = np.load(out)
                if got.shape != expected.shape:
                    failures.append(f"{name} ({os.path.basename(exe)}): shape {got.shape}, "
                                    f"expected {expected.shape}")
                    continue
                scale = max(float(np.abs(expected).max()), 1e-30)
                err = float(np.abs(got - expected).max()) / scale
                status = "ok" if err <= 1e-5 else "FAIL"
                print(f"{status} {name} {os.path.basename(exe)}: max relative difference "
                      f"{err:.2e}")
                if err > 1e-5:
                    failures.append(f"{name} ({os.path.basename(exe)}): {err:.2e} > 1e-5")
            for build, exe in same.items():
                out = os.path.join(tmp, f"{name}.{build}.npy")
                must([exe, "--function", name] + cmd_inputs + ["--output", out])
                if not np.array_equal(np.load(out),
                                      np.load(os.path.join(tmp, f"{name}.packed.npy"))):
                    failures.append(f"{name}: {' '.join(SAME_SUMS[build])} differs from the default")
                    print(f"FAIL {name} {build}: differs from the default build")
    if failures:
        sys.exit("\n".join(failures))
    print("every product and convolution matches NumPy, packed and not; the builds of "
          + ", ".join(" ".join(o) for o in SAME_SUMS.values()) + " equal the default")


if __name__ == "__main__":
    main()
