"""Writes the seed corpora of the fuzz harnesses into fuzz/corpus/<harness>/,
and fuzz/mlir.dict (every anvil op and attribute name, for fuzz-mlir).

A few small valid inputs per harness (and a few nearly valid ones), made from
the repository's own test inputs, ONNX's node tests (Debian's
libonnx-testdata) and numpy; run from anywhere with /usr/bin/python3. Files
other than the ones written here (regression seeds of fixed crashes) are kept.
"""
import gzip
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")
NODE_TESTS = "/usr/share/libonnx-testdata/data/node"


def write(harness, name, data):
    os.makedirs(os.path.join(CORPUS, harness), exist_ok=True)
    with open(os.path.join(CORPUS, harness, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def gz(data):
    # mtime 0: the same bytes on every run.
    return gzip.compress(data, mtime=0)


def onnx_seeds():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(
            ROOT, "tests/tools/Inputs/make_onnx.py"), tmp], check=True)
        for name in ["mlp.onnx", "bn.onnx", "unsupported.onnx"]:
            with open(os.path.join(tmp, name), "rb") as f:
                write("onnx", name, f.read())
    # One node test per op family Anvil imports.
    for test in ["gemm_default_matrix_bias", "conv_with_strides_padding",
                 "maxpool_2d_default", "averagepool_2d_default", "relu",
                 "reshape_reordered_all_dims", "slice", "gather_0",
                 "softmax_axis_1", "batchnorm_epsilon", "concat_2d_axis_0",
                 "transpose_default", "flatten_axis1",
                 "reduce_mean_keepdims_example", "sce_mean", "nllloss_NC",
                 "matmul_2d", "unsqueeze_axis_0", "clip", "where_example",
                 "cast_FLOAT_to_DOUBLE", "layer_normalization_2d_axis0",
                 "softmax_axis_1_expanded"]:
        with open(os.path.join(NODE_TESTS, "test_" + test, "model.onnx"),
                  "rb") as f:
            write("onnx", test + ".onnx", f.read())
    # An opset-6 model: goes through ONNX's version converter.
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "y"], ["s"], name="add"),
         helper.make_node("Relu", ["s"], ["r"], name="relu")], "old",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("r", TensorProto.FLOAT, [2, 3])])
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 6)])
    write("onnx", "opset6.onnx", model.SerializeToString())


def mlir_seeds():
    for path in ["examples/mlp.mlir", "examples/lenet.mlir",
                 "tests/tools/Inputs/small.mlir",
                 "tests/tools/Inputs/fixed-batch.mlir",
                 "tests/tools/Inputs/shape-mismatch.mlir"]:
        with open(os.path.join(ROOT, path)) as f:
            write("mlir", os.path.basename(path), f.read())
    # Every function of the round-trip test, and every case of the
    # verifier-error test, as a file of its own without the comments.
    with open(os.path.join(ROOT, "tests/dialect/ops.mlir")) as f:
        text = f.read()
    for i, func in enumerate(re.findall(r"^func\.func.*?^}\n", text,
                                        re.M | re.S)):
        body = "".join(l for l in func.splitlines(True)
                       if not l.strip().startswith("//"))
        write("mlir", f"ops-{i:02d}.mlir", body)
    with open(os.path.join(ROOT, "tests/dialect/invalid.mlir")) as f:
        cases = f.read().split("// -----")
    for i, case in enumerate(cases):
        body = "".join(l for l in case.splitlines(True)
                       if not l.strip().startswith("//"))
        write("mlir", f"invalid-{i:02d}.mlir", body.strip() + "\n")


def mlir_dict():
    """libFuzzer dictionary: the tokens of Anvil's IR, from the round trip
    test (which has every op) and the ODS attribute names."""
    with open(os.path.join(ROOT, "tests/dialect/ops.mlir")) as f:
        ops = sorted(set(re.findall(r"anvil\.[a-z_0-9]+", f.read())))
    with open(os.path.join(ROOT, "dialects/AnvilOps.td")) as f:
        attrs = sorted(set(re.findall(r":\$([a-zA-Z_0-9]+)", f.read())))
    tokens = ops + attrs + [
        "func.func", "return", "tensor<", "xf32>", "xf64>", "xi64>", "xi32>",
        "xi1>", "xi8>", "dense<", "init = ", "-> ", " : ", "{", "}", "(", ")",
        "%arg0", "// -----", "0x7FC00000", "-9223372036854775808"]
    with open(os.path.join(HERE, "mlir.dict"), "w") as f:
        f.write("# fuzz-mlir dictionary; written by make_corpus.py\n")
        for t in tokens:
            f.write('"%s"\n' % t.replace("\\", "\\\\").replace('"', '\\"'))


def npy_bytes(array, version=None):
    import io
    f = io.BytesIO()
    np.lib.format.write_array(f, array, version=version)
    return f.getvalue()


def npy_seeds():
    rng = np.random.default_rng(0)
    write("npy", "f32.npy", npy_bytes(rng.standard_normal((2, 3))
                                      .astype(np.float32)))
    write("npy", "f64-scalar.npy", npy_bytes(np.float64(1.5)))
    write("npy", "i64.npy", npy_bytes(np.arange(5, dtype=np.int64)))
    write("npy", "i32-empty.npy", npy_bytes(np.zeros((0, 3), np.int32)))
    write("npy", "i8.npy", npy_bytes(np.array([-1, 2], np.int8)))
    write("npy", "u8.npy", npy_bytes(np.arange(8, dtype=np.uint8)
                                     .reshape(2, 2, 2)))
    write("npy", "bool.npy", npy_bytes(np.array([True, False])))
    write("npy", "v2.npy", npy_bytes(np.ones(3, np.float32), (2, 0)))
    write("npy", "v3.npy", npy_bytes(np.ones(3, np.float32), (3, 0)))
    write("npy", "fortran.npy", npy_bytes(np.asfortranarray(
        np.ones((2, 3), np.float32))))
    write("npy", "big-endian.npy", npy_bytes(np.ones(2, ">f4")))


def weights_file(tensors):
    """The version-2 weights format of runtime/Weights.h."""
    codes = {np.float32: 0, np.float64: 1, np.int64: 2, np.int32: 3,
             np.int8: 4, np.uint8: 5, np.bool_: 6}
    out = b"ANVILWTS" + struct.pack("<II", 2, len(tensors))
    for name, array in tensors:
        out += struct.pack("<I", len(name)) + name.encode()
        out += struct.pack("<BB", codes[array.dtype.type], array.ndim)
        out += b"".join(struct.pack("<Q", d) for d in array.shape)
        out += np.ascontiguousarray(array).astype(
            array.dtype.newbyteorder("<")).tobytes()
    h = 0xcbf29ce484222325
    for b in out:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return out + struct.pack("<Q", h)


def weights_seeds():
    rng = np.random.default_rng(0)
    write("weights", "empty.weights", weights_file([]))
    write("weights", "model.weights", weights_file([
        ("fc1.weight", rng.standard_normal((4, 3)).astype(np.float32)),
        ("fc1.bias", np.zeros(3, np.float32))]))
    # What a trainer's checkpoint holds: parameters, optimizer state and
    # scalar metadata.
    write("weights", "checkpoint.ckpt", weights_file([
        ("w", rng.standard_normal((2, 2)).astype(np.float32)),
        ("w.momentum", np.zeros((2, 2), np.float32)),
        ("epoch", np.array(3, np.int64)), ("lr", np.array(0.05)),
        ("seed", np.array(1, np.int64))]))
    write("weights", "types.weights", weights_file([
        ("i32", np.arange(3, dtype=np.int32)), ("i8", np.array([-1], np.int8)),
        ("u8", np.array([[1, 2]], np.uint8)), ("b", np.array([True])),
        ("empty", np.zeros((0, 4), np.float64))]))
    write("weights", "version1.weights", b"ANVILWTS" + struct.pack("<II", 1, 0)
          + b"\0" * 8)


def idx(magic, array):
    dims = b"".join(struct.pack(">I", d) for d in array.shape)
    return struct.pack(">I", magic) + dims + array.astype(np.uint8).tobytes()


def idx_seeds():
    """fuzz-idx input: u32 LE N, N bytes of images file, the labels file."""
    def pair(images, labels):
        return struct.pack("<I", len(images)) + images + labels
    rng = np.random.default_rng(0)
    images = idx(0x803, rng.integers(0, 256, (3, 4, 4)))
    labels = idx(0x801, np.array([0, 9, 4]))
    write("idx", "plain.idx", pair(images, labels))
    write("idx", "gzipped.idx", pair(gz(images), gz(labels)))
    write("idx", "mixed.idx", pair(images, gz(labels)))
    write("idx", "mnist-like.idx", pair(
        idx(0x803, rng.integers(0, 256, (2, 28, 28))),
        idx(0x801, np.array([1, 2]))))
    write("idx", "count-mismatch.idx", pair(images, idx(0x801, np.array([1]))))


def csv_seeds():
    write("csv", "plain.csv", "3,0,128,255,7\n1,1,2,3,4\n0,9,9,9,9\n")
    write("csv", "header.csv", "label,a,b\n2,0.5,-1.25\n0,1e-3,2E2\n")
    write("csv", "crlf.csv", "1,2,3\r\n0,4,5\r\n")
    write("csv", "blank-lines.csv", "\n1,2,3\n\n0,4,5\n")
    write("csv", "gzipped.csv.gz", gz(b"label,x,y\n4,10,20\n5,30,40\n"))
    write("csv", "ragged.csv", "1,2,3\n0,4\n")


if __name__ == "__main__":
    onnx_seeds()
    mlir_seeds()
    mlir_dict()
    npy_seeds()
    weights_seeds()
    idx_seeds()
    csv_seeds()
