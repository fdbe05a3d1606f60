"""Writes the ONNX models of onnx-folding.test into the directory argv[1]:
constant subgraphs the importer folds with the dialect's folders."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]


def ints(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def save(nodes, inputs, outputs, inits, name):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, os.path.join(out, name + ".onnx"))


# The chain exporters write for x.view(x.size(0), -1): Shape -> Gather ->
# Unsqueeze -> Concat -> Reshape. Beside it, the chain PyTorch writes for an
# Expand's shape (ConstantOfShape, Mul, Equal, Where), a Slice, a Cast, a
# Sub, a Div and a Transpose of shape arithmetic: all fold, and the graph
# keeps one reshape and one expand (anvil.broadcast_to or its equivalent).
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])
save([helper.make_node("Shape", ["x"], ["s"], name="shape"),
      helper.make_node("Gather", ["s", "zero"], ["n"], axis=0, name="batch"),
      helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"], name="unsq"),
      helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0,
                       name="concat"),
      helper.make_node("Reshape", ["x", "target"], ["y"], name="flat"),
      # [2, 3, 4] -> Slice [1:] -> [3, 4]; Cast to i32 and back; minus one,
      # times two, divided by two: [2, 3].
      helper.make_node("Slice", ["s", "one", "big"], ["hw"], name="hw"),
      helper.make_node("Cast", ["hw"], ["hw32"], to=TensorProto.INT32,
                       name="to32"),
      helper.make_node("Cast", ["hw32"], ["hw64"], to=TensorProto.INT64,
                       name="to64"),
      helper.make_node("Sub", ["hw64", "one"], ["hm"], name="minus"),
      helper.make_node("Mul", ["hm", "two"], ["hm2"], name="times"),
      helper.make_node("Div", ["hm2", "two"], ["hm3"], name="halve"),
      helper.make_node("Transpose", ["hm3"], ["hmt"], perm=[0], name="perm"),
      # Expand's shape as PyTorch writes it: where(shape == -1, ones, shape).
      helper.make_node("ConstantOfShape", ["two1"], ["ones0"], name="fill",
                       value=numpy_helper.from_array(np.array([1], np.int64))),
      helper.make_node("Mul", ["ones0", "minus1"], ["neg"], name="negate"),
      helper.make_node("Equal", ["want", "neg"], ["isneg"], name="equal"),
      helper.make_node("Where", ["isneg", "ones0", "want"], ["eshape"],
                       name="where"),
      helper.make_node("Concat", ["hmt", "eshape"], ["full"], axis=0,
                       name="full"),
      helper.make_node("Slice", ["full", "two", "big"], ["tail"], name="tail"),
      helper.make_node("Expand", ["b", "tail"], ["z"], name="expand")],
     [x, helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 4])],
     [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 12]),
      helper.make_tensor_value_info("z", TensorProto.FLOAT, [3, 4])],
     [ints("zero", 0), ints("axes0", [0]), ints("minus1", [-1]),
      ints("one", [1]), ints("two", [2]), ints("big", [1 << 62]),
      ints("two1", [2]), ints("want", [3, -1])],
     "shape_chain")
np.save(os.path.join(out, "x.npy"),
        np.arange(24, dtype=np.float32).reshape(2, 3, 4))
np.save(os.path.join(out, "b.npy"), np.array([[1, 2, 3, 4]], np.float32))

# Errors in folded shape arithmetic are the model's, named by node.
save([helper.make_node("Div", ["seven", "zeros"], ["q"], name="div0"),
      helper.make_node("Reshape", ["x", "q"], ["y"], name="r")],
     [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [24])],
     [ints("seven", [7]), ints("zeros", [0])], "divide_by_zero")
save([helper.make_node("Shape", ["x"], ["s"], name="shape"),
      helper.make_node("Gather", ["s", "five"], ["n"], axis=0, name="pick"),
      helper.make_node("Reshape", ["x", "n"], ["y"], name="r")],
     [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [24])],
     [ints("five", [5])], "gather_out_of_range")
