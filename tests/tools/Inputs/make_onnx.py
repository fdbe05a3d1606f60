"""Writes the small ONNX models the lit tests use into the directory argv[1]."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(0)


def save(model, name):
    onnx.save(model, os.path.join(out, name))


# A two-layer MLP with a symbolic batch: Gemm, Relu, Gemm.
w1 = numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32), "w1")
b1 = numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "b1")
w2 = numpy_helper.from_array(rng.standard_normal((3, 8)).astype(np.float32), "w2")
graph = helper.make_graph(
    [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1, name="fc1"),
     helper.make_node("Relu", ["h"], ["r"], name="relu"),
     helper.make_node("Gemm", ["r", "w2"], ["y"], transB=1, name="fc2")],
    "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
    [w1, b1, w2])
mlp = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
save(mlp, "mlp.onnx")
x = rng.standard_normal((2, 4)).astype(np.float32)
onnx.save_tensor(numpy_helper.from_array(x), os.path.join(out, "x.pb"))
y = np.maximum(x @ numpy_helper.to_array(w1).T + numpy_helper.to_array(b1), 0) \
    @ numpy_helper.to_array(w2).T
np.save(os.path.join(out, "expected.npy"), y)

# Several problems at once: two unsupported ops, one of them twice, an
# unsupported dtype, and an attribute value Anvil does not handle.
graph = helper.make_graph(
    [helper.make_node("TopK", ["x", "k"], ["v", "i"], name="topk"),
     helper.make_node("Hardmax", ["v"], ["h1"], name="hardmax1"),
     helper.make_node("Hardmax", ["h1"], ["h2"], name="hardmax2"),
     helper.make_node("Cast", ["h2"], ["c"], to=TensorProto.BFLOAT16,
                      name="to_bf16"),
     helper.make_node("Conv", ["x4", "w"], ["conv"], auto_pad="SAME_UPPER",
                      name="conv4d"),
     helper.make_node("Relu", ["u8"], ["u8r"], name="relu_u8")],
    "bad",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 5]),
     helper.make_tensor_value_info("x4", TensorProto.FLOAT, [1, 1, 4, 4, 4, 4]),
     helper.make_tensor_value_info("w", TensorProto.FLOAT, [1, 1, 2, 2, 2, 2]),
     helper.make_tensor_value_info("u8", TensorProto.UINT8, [3])],
    [helper.make_tensor_value_info("c", TensorProto.BFLOAT16, [2, 2]),
     helper.make_tensor_value_info("conv", TensorProto.FLOAT, [1, 1, 4, 4, 4, 4]),
     helper.make_tensor_value_info("u8r", TensorProto.UINT8, [3])],
    [numpy_helper.from_array(np.array([2], np.int64), "k")])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
     "unsupported.onnx")

# An opset newer than Anvil reads.
save(helper.make_model(mlp.graph, opset_imports=[helper.make_opsetid("", 22)]),
     "opset22.onnx")

# Mangled files: cut short, bytes flipped in the middle, not protobuf at all.
data = mlp.SerializeToString()
with open(os.path.join(out, "truncated.onnx"), "wb") as f:
    f.write(data[: len(data) // 2])
mangled = bytearray(data)
for i in range(2, 40):
    mangled[i] ^= 0xFF
with open(os.path.join(out, "mangled.onnx"), "wb") as f:
    f.write(bytes(mangled))
with open(os.path.join(out, "text.onnx"), "w") as f:
    f.write("this is not a model\n")
with open(os.path.join(out, "truncated.pb"), "wb") as f:
    f.write(numpy_helper.from_array(x).SerializeToString()[:20])

# Batch normalization: scale and bias train, the running statistics do not.
stats = [numpy_helper.from_array(rng.random(3).astype(np.float32), n)
         for n in ("scale", "bias", "mean", "var")]
graph = helper.make_graph(
    [helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean",
                                             "var"], ["y"], name="bn")],
    "bn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 4, 4])],
    stats)
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
     "bn.onnx")

# Named nodes for the location tests: a Reshape that does not keep the batch
# in front, so re-batching it is an error at that node.
graph = helper.make_graph(
    [helper.make_node("Reshape", ["x", "shape"], ["r"], name="/layer1/reshape"),
     helper.make_node("Relu", ["r"], ["y"], name="/layer1/relu")],
    "regroup", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])],
    [numpy_helper.from_array(np.array([3, 4], np.int64), "shape")])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
     "regroup.onnx")
