"""ONNX models at opsets 18 to 21, built with onnx.helper (torch 1.13 exports
up to opset 17 and Debian's libonnx-testdata stops there too).

  make_onnx_opsets.py DIR          writes NAME.onnx, NAME.x.pb (the input)
                                   and NAME.expected.npy (numpy's answer)
  make_onnx_opsets.py compare DIR NAME OUTDIR
                                   prints 'NAME match' when OUTDIR's
                                   output_0.pb equals NAME.expected.npy
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# The IR version each opset came with (onnx/helper.py's VERSION_TABLE).
IR_VERSION = {18: 8, 19: 9, 20: 9, 21: 10}


def ints(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def model(nodes, opset, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, ir_version=IR_VERSION[opset],
                             opset_imports=[helper.make_opsetid("", opset)])


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def write(out):
    rng = np.random.default_rng(0)

    def save(name, m, x, expected):
        onnx.save(m, os.path.join(out, name + ".onnx"))
        onnx.save_tensor(numpy_helper.from_array(x),
                         os.path.join(out, name + ".x.pb"))
        np.save(os.path.join(out, name + ".expected.npy"), expected)

    # Opset 18: the axes of ReduceMean and ReduceMax are an input; an empty
    # one with noop_with_empty_axes passes the data through.
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    m = model(
        [helper.make_node("ReduceMean", ["x", "axes1"], ["mean"],
                          name="/reduce/mean"),
         helper.make_node("ReduceMax", ["mean", "axes_last"], ["max"],
                          keepdims=0, name="/reduce/max"),
         helper.make_node("ReduceMean", ["max", "none"], ["same"],
                          noop_with_empty_axes=1, name="/reduce/noop"),
         helper.make_node("ReduceSum", ["same", "axes0"], ["y"], keepdims=0,
                          name="/reduce/sum")],
        18, [f32("x", [2, 3, 4])], [f32("y", [1])],
        [ints("axes1", [1]), ints("axes_last", [-1]), ints("none", []),
         ints("axes0", [0])])
    expected = x.mean(axis=1, keepdims=True).max(axis=-1).sum(axis=0)
    save("reduce18", m, x, expected)

    # Opset 19: AveragePool with its new dilations attribute (all 1), Cast
    # with its new saturate attribute, Reshape (a new version).
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    m = model(
        [helper.make_node("AveragePool", ["x"], ["p"], kernel_shape=[2, 2],
                          strides=[2, 2], dilations=[1, 1], name="/pool"),
         helper.make_node("Cast", ["p"], ["c"], to=TensorProto.FLOAT,
                          saturate=1, name="/cast"),
         helper.make_node("Reshape", ["c", "flat"], ["r"], name="/flatten"),
         helper.make_node("Relu", ["r"], ["y"], name="/relu")],
        19, [f32("x", [1, 2, 4, 4])], [f32("y", [1, 8])],
        [ints("flat", [1, -1])])
    pooled = x.reshape(1, 2, 2, 2, 2, 2).mean(axis=(3, 5))
    save("pool19", m, x, np.maximum(pooled.reshape(1, 8), 0))

    # Opset 21: the shape ops' newest versions (Squeeze and Unsqueeze with
    # axes inputs, Transpose, Flatten, Identity, ConstantOfShape).
    x = rng.standard_normal((2, 1, 3)).astype(np.float32)
    m = model(
        [helper.make_node("Squeeze", ["x", "axes1"], ["s"], name="/squeeze"),
         helper.make_node("Transpose", ["s"], ["t"], perm=[1, 0],
                          name="/transpose"),
         helper.make_node("Unsqueeze", ["t", "axes0"], ["u"],
                          name="/unsqueeze"),
         helper.make_node("Flatten", ["u"], ["f"], axis=1, name="/flatten"),
         helper.make_node("ConstantOfShape", ["shape"], ["ones"],
                          value=numpy_helper.from_array(
                              np.array([1], np.float32)), name="/ones"),
         helper.make_node("Add", ["f", "ones"], ["a"], name="/add"),
         helper.make_node("Identity", ["a"], ["y"], name="/identity")],
        21, [f32("x", [2, 1, 3])], [f32("y", [1, 6])],
        [ints("axes1", [1]), ints("axes0", [0]), ints("shape", [1, 6])])
    expected = x.reshape(2, 3).T.reshape(1, 6) + 1
    save("shape21", m, x, expected)

    # Opset 20 ops newer than libonnx (Gelu) and an axes input that is not
    # known at compile time: each a problem in the list, not a checker error.
    m = model(
        [helper.make_node("Gelu", ["x"], ["g"], name="/act/gelu"),
         helper.make_node("ReduceMean", ["x", "axes"], ["m"],
                          name="/reduce/runtime_axes"),
         helper.make_node("Add", ["g", "m"], ["y"], name="/add")],
        20, [f32("x", [2, 3]), helper.make_tensor_value_info(
            "axes", TensorProto.INT64, [1])], [f32("y", [2, 3])])
    onnx.save(m, os.path.join(out, "problems20.onnx"))


def compare(out, name, outdir):
    t = onnx.TensorProto()
    with open(os.path.join(outdir, "output_0.pb"), "rb") as f:
        t.ParseFromString(f.read())
    got = numpy_helper.to_array(t)
    expected = np.load(os.path.join(out, name + ".expected.npy"))
    assert got.dtype == expected.dtype and got.shape == expected.shape, \
        (got.dtype, got.shape, expected.dtype, expected.shape)
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-6), (got, expected)
    print(name, "match")


if __name__ == "__main__":
    if sys.argv[1] == "compare":
        compare(*sys.argv[2:5])
    else:
        write(sys.argv[1])
