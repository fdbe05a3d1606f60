// Every error the anvil dialect's verifiers and shape inference report, one
// case per split, so that the messages stay clear and stable.
// RUN: anvil-opt %s -split-input-file -verify-diagnostics

func.func @dynamic_shape(%a: tensor<?x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{lhs must be a tensor with a static shape, got 'tensor<?x3xf32>'}}
  %0 = anvil.add %a, %b : tensor<?x3xf32>, tensor<3xf32>
  return
}

// -----

func.func @mixed_element_types(%a: tensor<3xf32>, %b: tensor<3xf64>) {
  // expected-error @+1 {{lhs and rhs must have the same element type, got 'f32' and 'f64'}}
  %0 = anvil.add %a, %b : tensor<3xf32>, tensor<3xf64>
  return
}

// -----

func.func @no_broadcast(%a: tensor<4x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{shapes [4, 3] and [4] do not broadcast}}
  %0 = anvil.mul %a, %b : tensor<4x3xf32>, tensor<4xf32>
  return
}

// -----

func.func @integer_exp(%a: tensor<3xi64>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 32-bit float or 64-bit float values}}
  %0 = anvil.exp %a : tensor<3xi64>
  return
}

// -----

func.func @unknown_init() {
  // expected-error @+1 {{'anvil.param' op attribute 'init' failed to satisfy constraint: parameter initializer: one of "zeros", "ones", "uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "dense"}}
  %0 = anvil.param "w" init = "glorot" : tensor<3xf32>
  return
}

// -----

func.func @empty_param_name() {
  // expected-error @+1 {{needs a non-empty name}}
  %0 = anvil.param "" init = "zeros" : tensor<3xf32>
  return
}

// -----

func.func @dense_without_value() {
  // expected-error @+1 {{with init "dense" needs a `value` attribute}}
  %0 = anvil.param "w" init = "dense" : tensor<3xf32>
  return
}

// -----

func.func @dense_wrong_type() {
  // expected-error @+1 {{value has type 'tensor<2xf32>' but the result is 'tensor<3xf32>'}}
  %0 = anvil.param "w" init = "dense" {value = dense<1.0> : tensor<2xf32>} : tensor<3xf32>
  return
}

// -----

func.func @value_without_dense() {
  // expected-error @+1 {{a `value` is only allowed with init "dense"}}
  %0 = anvil.param "w" init = "zeros" {value = dense<1.0> : tensor<3xf32>} : tensor<3xf32>
  return
}

// -----

func.func @uniform_bounds() {
  // expected-error @+1 {{uniform bounds need low < high}}
  %0 = anvil.param "w" init = "uniform" {low = 1.0 : f64, high = 1.0 : f64} : tensor<3xf32>
  return
}

// -----

func.func @negative_std() {
  // expected-error @+1 {{std must be positive}}
  %0 = anvil.param "w" init = "normal" {std = -1.0 : f64} : tensor<3xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<3xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+1 {{operands need rank >= 2, got 1 and 2}}
  %0 = anvil.matmul %a, %b : tensor<3xf32>, tensor<3x4xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{contraction dimensions differ: lhs has K=3, rhs has K=4}}
  %0 = anvil.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x2x3xf32>, %b: tensor<3x3x4xf32>) {
  // expected-error @+1 {{batch dimensions [2] and [3] do not broadcast}}
  %0 = anvil.matmul %a, %b : tensor<2x2x3xf32>, tensor<3x3x4xf32>
  return
}

// -----

func.func @clip_bounds(%a: tensor<3xf32>) {
  // expected-error @+1 {{min 2.000000e+00 exceeds max 1.000000e+00}}
  %0 = anvil.clip %a {min = 2.0 : f64, max = 1.0 : f64} : tensor<3xf32>
  return
}

// -----

func.func @gather_elements_rank(%x: tensor<4x10xf32>, %l: tensor<4xi64>) {
  // expected-error @+1 {{indices have rank 1, the input 2; they must be equal}}
  %0 = anvil.gather_elements %x, %l {axis = 1 : i64} : tensor<4x10xf32>, tensor<4xi64>
  return
}

// -----

func.func @gather_elements_size(%x: tensor<4x10xf32>, %l: tensor<5x1xi64>) {
  // expected-error @+1 {{indices [5, 1] exceed the input [4, 10] in dimension 0}}
  %0 = anvil.gather_elements %x, %l {axis = 1 : i64} : tensor<4x10xf32>, tensor<5x1xi64>
  return
}

// -----

func.func @compare_predicate(%l: tensor<4xi64>) {
  // expected-error @+1 {{'anvil.compare' op attribute 'predicate' failed to satisfy constraint: comparison predicate: one of "eq", "ne", "lt", "le", "gt", "ge"}}
  %0 = anvil.compare "lg" %l, %l : tensor<4xi64>, tensor<4xi64>
  return
}

// -----

// The spelling is the case's name, not its number.
func.func @compare_predicate_number(%l: tensor<4xi64>) {
  // expected-error @+1 {{attribute 'predicate' failed to satisfy constraint: comparison predicate}}
  %0 = "anvil.compare"(%l, %l) {predicate = 0 : i32} : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  return
}

// -----

func.func @select_shapes(%m: tensor<3xi1>, %x: tensor<4xf32>) {
  // expected-error @+1 {{the condition's shape [3] does not broadcast with [4]}}
  %0 = anvil.select %m, %x, %x : tensor<3xi1>, tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @one_hot_classes(%l: tensor<4xi64>) {
  // expected-error @+1 {{classes must be positive, got 0}}
  %0 = anvil.one_hot %l {classes = 0 : i64} : tensor<4xi64>
  return
}

// -----

func.func @one_hot_no_classes(%l: tensor<4xi64>) {
  // expected-error @+1 {{'anvil.one_hot' op requires attribute 'classes'}}
  %0 = anvil.one_hot %l : tensor<4xi64>
  return
}

// -----

func.func @relu_grad_types(%x: tensor<4xf32>, %g: tensor<5xf32>) {
  // expected-error @+1 {{input and grad must have the same type, got 'tensor<4xf32>' and 'tensor<5xf32>'}}
  %0 = anvil.relu_grad %x, %g : tensor<4xf32>, tensor<5xf32>
  return
}

// -----

func.func @softmax_axis(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = anvil.softmax %a {axis = 2 : i64} : tensor<2x3xf32>
  return
}

// -----

func.func @reduce_no_axes(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'anvil.reduce_sum' op requires attribute 'axes'}}
  %0 = anvil.reduce_sum %a : tensor<2x3xf32>
  return
}

// -----

func.func @reduce_empty_axes(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{axes must not be empty}}
  %0 = anvil.reduce_sum %a {axes = array<i64>} : tensor<2x3xf32>
  return
}

// -----

func.func @slice_no_steps(%a: tensor<4x6xf32>) {
  // expected-error @+1 {{'anvil.slice' op requires attribute 'steps'}}
  %0 = anvil.slice %a {starts = array<i64: 0, 0>, ends = array<i64: 4, 6>} : tensor<4x6xf32>
  return
}

// -----

func.func @reduce_axis_range(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{axis -3 is out of range for rank 2}}
  %0 = anvil.reduce_mean %a {axes = array<i64: -3>} : tensor<2x3xf32>
  return
}

// -----

func.func @reduce_axis_twice(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{axis -1 is listed twice}}
  %0 = anvil.reduce_max %a {axes = array<i64: 1, -1>} : tensor<2x3xf32>
  return
}

// -----

func.func @argmax_axis_range(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = anvil.argmax %a {axis = 2 : i64} : tensor<2x3xf32>
  return
}

// -----

func.func @reshape_no_shape(%a: tensor<6xf32>) {
  // expected-error @+1 {{'anvil.reshape' op requires attribute 'shape'}}
  %0 = anvil.reshape %a : tensor<6xf32>
  return
}

// -----

func.func @reshape_negative(%a: tensor<6xf32>) {
  // expected-error @+1 {{shape [-1, 6] has a negative dimension}}
  %0 = anvil.reshape %a {shape = array<i64: -1, 6>} : tensor<6xf32>
  return
}

// -----

func.func @reshape_count(%a: tensor<6xf32>) {
  // expected-error @+1 {{shape [4, 2] holds 8 elements but the input [6] holds 6}}
  %0 = anvil.reshape %a {shape = array<i64: 4, 2>} : tensor<6xf32>
  return
}

// -----

func.func @transpose_no_perm(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'anvil.transpose' op requires attribute 'perm'}}
  %0 = anvil.transpose %a : tensor<2x3xf32>
  return
}

// -----

func.func @transpose_perm(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{perm [0, 0] is not a permutation of the 2 dimensions}}
  %0 = anvil.transpose %a {perm = array<i64: 0, 0>} : tensor<2x3xf32>
  return
}

// -----

func.func @flatten_axis(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{axis 3 is out of range for rank 2}}
  %0 = anvil.flatten %a {axis = 3 : i64} : tensor<2x3xf32>
  return
}

// -----

func.func @concat_nothing() {
  // expected-error @+2 {{needs at least one input}}
  // expected-error @+1 {{'anvil.concat' op failed to infer returned types}}
  %0 = "anvil.concat"() {axis = 0 : i64} : () -> tensor<0xf32>
  return
}

// -----

func.func @concat_no_axis(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'anvil.concat' op requires attribute 'axis'}}
  %0 = anvil.concat %a, %a : tensor<2x3xf32>, tensor<2x3xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = anvil.concat %a, %a {axis = 2 : i64} : tensor<2x3xf32>, tensor<2x3xf32>
  return
}

// -----

func.func @concat_element_type(%a: tensor<2x3xf32>, %b: tensor<2x3xi64>) {
  // expected-error @+1 {{input 0 and input 1 must have the same element type, got 'f32' and 'i64'}}
  %0 = anvil.concat %a, %b {axis = 0 : i64} : tensor<2x3xf32>, tensor<2x3xi64>
  return
}

// -----

func.func @concat_rank(%a: tensor<2x3xf32>, %b: tensor<2x3x1xf32>) {
  // expected-error @+1 {{input 1 has rank 3, input 0 has rank 2}}
  %0 = anvil.concat %a, %b {axis = 0 : i64} : tensor<2x3xf32>, tensor<2x3x1xf32>
  return
}

// -----

func.func @concat_shape(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+1 {{input 1 has shape [2, 4], which differs from input 0's [2, 3] outside axis 0}}
  %0 = anvil.concat %a, %b {axis = 0 : i64} : tensor<2x3xf32>, tensor<2x4xf32>
  return
}

// -----

func.func @slice_entries(%a: tensor<4x6xf32>) {
  // expected-error @+1 {{starts, ends and steps need one entry per dimension (2), got 1, 2 and 2}}
  %0 = anvil.slice %a {starts = array<i64: 0>, ends = array<i64: 1, 1>, steps = array<i64: 1, 1>} : tensor<4x6xf32>
  return
}

// -----

func.func @slice_bounds(%a: tensor<4x6xf32>) {
  // expected-error @+1 {{dimension 1 of size 6 cannot be sliced with start 0, end 7, step 1}}
  %0 = anvil.slice %a {starts = array<i64: 0, 0>, ends = array<i64: 4, 7>, steps = array<i64: 1, 1>} : tensor<4x6xf32>
  return
}

// -----

func.func @slice_zero_step(%a: tensor<4x6xf32>) {
  // expected-error @+1 {{dimension 0 of size 4 cannot be sliced with start 0, end 4, step 0}}
  %0 = anvil.slice %a {starts = array<i64: 0, 0>, ends = array<i64: 4, 6>, steps = array<i64: 0, 1>} : tensor<4x6xf32>
  return
}

// -----

func.func @gather_axis(%a: tensor<4x6xf32>, %i: tensor<2xi64>) {
  // expected-error @+1 {{axis -3 is out of range for rank 2}}
  %0 = anvil.gather %a, %i {axis = -3 : i64} : tensor<4x6xf32>, tensor<2xi64>
  return
}

// -----

func.func @slice_grad_no_shape(%g: tensor<2x3xf32>) {
  // expected-error @+1 {{'anvil.slice_grad' op requires attribute 'input_shape'}}
  %0 = anvil.slice_grad %g {starts = array<i64: 0, 0>, ends = array<i64: 2, 3>, steps = array<i64: 1, 1>} : tensor<2x3xf32>
  return
}

// -----

func.func @slice_grad_bounds(%g: tensor<2x3xf32>) {
  // expected-error @+1 {{dimension 1 of size 6 cannot be sliced with start 0, end 7, step 1}}
  %0 = anvil.slice_grad %g {input_shape = array<i64: 4, 6>, starts = array<i64: 0, 0>, ends = array<i64: 2, 7>, steps = array<i64: 1, 1>} : tensor<2x3xf32>
  return
}

// -----

func.func @slice_grad_shape(%g: tensor<2x3xf32>) {
  // expected-error @+1 {{grad has shape [2, 3], but the slice of [4, 6] has [2, 6]}}
  %0 = anvil.slice_grad %g {input_shape = array<i64: 4, 6>, starts = array<i64: 0, 0>, ends = array<i64: 4, 6>, steps = array<i64: 2, 1>} : tensor<2x3xf32>
  return
}

// -----

func.func @slice_grad_negative_shape(%g: tensor<2x3xf32>) {
  // expected-error @+1 {{input_shape [-4, 6] has a negative dimension}}
  %0 = anvil.slice_grad %g {input_shape = array<i64: -4, 6>, starts = array<i64: 0, 0>, ends = array<i64: 2, 3>, steps = array<i64: 1, 1>} : tensor<2x3xf32>
  return
}

// -----

func.func @gather_grad_no_size(%g: tensor<2x6xf32>, %i: tensor<2xi64>) {
  // expected-error @+1 {{'anvil.gather_grad' op requires attribute 'axis_size'}}
  %0 = anvil.gather_grad %g, %i {axis = 0 : i64} : tensor<2x6xf32>, tensor<2xi64>
  return
}

// -----

func.func @gather_grad_axis(%g: tensor<2x6xf32>, %i: tensor<2xi64>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = anvil.gather_grad %g, %i {axis = 2 : i64, axis_size = 4 : i64} : tensor<2x6xf32>, tensor<2xi64>
  return
}

// -----

func.func @gather_grad_size(%g: tensor<2x6xf32>, %i: tensor<2xi64>) {
  // expected-error @+1 {{axis_size must be positive, got 0}}
  %0 = anvil.gather_grad %g, %i {axis = 0 : i64, axis_size = 0 : i64} : tensor<2x6xf32>, tensor<2xi64>
  return
}

// -----

func.func @gather_grad_indices_shape(%g: tensor<2x6xf32>, %i: tensor<3xi64>) {
  // expected-error @+1 {{grad [2, 6] must hold the indices' shape [3] at dimension 1}}
  %0 = anvil.gather_grad %g, %i {axis = 1 : i64, axis_size = 4 : i64} : tensor<2x6xf32>, tensor<3xi64>
  return
}

// -----

func.func @gather_grad_rank(%g: tensor<2xf32>, %i: tensor<2x2xi64>) {
  // expected-error @+1 {{grad of rank 1 cannot hold indices of rank 2}}
  %0 = anvil.gather_grad %g, %i {axis = 0 : i64, axis_size = 4 : i64} : tensor<2xf32>, tensor<2x2xi64>
  return
}

// -----

func.func @conv_rank(%x: tensor<1x3x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{input and weight must have rank 4 (NCHW, OIHW), got 3 and 4}}
  %0 = anvil.conv2d %x, %w : tensor<1x3x8xf32>, tensor<4x3x3x3xf32>
  return
}

// -----

func.func @conv_strides(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{strides needs 2 entries, got 1}}
  %0 = anvil.conv2d %x, %w {strides = array<i64: 2>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  return
}

// -----

func.func @conv_negative_pad(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{pads entries must be >= 0, got [0, -1, 0, 0]}}
  %0 = anvil.conv2d %x, %w {pads = array<i64: 0, -1, 0, 0>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
  return
}

// -----

func.func @conv_groups(%x: tensor<1x3x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error @+1 {{groups 2 must divide both the 3 input channels and the 4 output channels}}
  %0 = anvil.conv2d %x, %w {groups = 2 : i64} : tensor<1x3x8x8xf32>, tensor<4x1x3x3xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{weight has 2 input channels per group, but the input has 3 channels in 1 group(s)}}
  %0 = anvil.conv2d %x, %w : tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>
  return
}

// -----

func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{bias must have shape [4], got [3]}}
  %0 = anvil.conv2d %x, %w, %b : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>
  return
}

// -----

func.func @conv_kernel_too_large(%x: tensor<1x3x4x4xf32>, %w: tensor<4x3x5x5xf32>) {
  // expected-error @+1 {{the (dilated) kernel is larger than the padded input on spatial axis 0}}
  %0 = anvil.conv2d %x, %w : tensor<1x3x4x4xf32>, tensor<4x3x5x5xf32>
  return
}

// -----

func.func @conv_grad_input_no_size(%dy: tensor<1x4x4x4xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'anvil.conv2d_grad_input' op requires attribute 'input_size'}}
  %0 = anvil.conv2d_grad_input %dy, %w : tensor<1x4x4x4xf32>, tensor<4x3x3x3xf32>
  return
}

// -----

func.func @conv_grad_input_rank(%dy: tensor<4x4x4xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{needs a rank-4 grad and weight and a 2-entry input_size}}
  %0 = anvil.conv2d_grad_input %dy, %w {input_size = array<i64: 6, 6>} : tensor<4x4x4xf32>, tensor<4x3x3x3xf32>
  return
}

// -----

func.func @conv_grad_filter_no_kernel(%x: tensor<1x3x6x6xf32>, %dy: tensor<1x4x4x4xf32>) {
  // expected-error @+1 {{'anvil.conv2d_grad_filter' op requires attribute 'kernel'}}
  %0 = anvil.conv2d_grad_filter %x, %dy : tensor<1x3x6x6xf32>, tensor<1x4x4x4xf32>
  return
}

// -----

func.func @conv_grad_filter_rank(%x: tensor<1x3x6x6xf32>, %dy: tensor<1x4x4x4xf32>) {
  // expected-error @+1 {{needs a rank-4 input and grad and a 2-entry kernel}}
  %0 = anvil.conv2d_grad_filter %x, %dy {kernel = array<i64: 3>} : tensor<1x3x6x6xf32>, tensor<1x4x4x4xf32>
  return
}

// -----

func.func @pool_no_kernel(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'anvil.max_pool2d' op requires attribute 'kernel'}}
  %0 = anvil.max_pool2d %x : tensor<1x3x8x8xf32>
  return
}

// -----

func.func @pool_rank(%x: tensor<3x8x8xf32>) {
  // expected-error @+1 {{input must have rank 4 (NCHW), got 3}}
  %0 = anvil.avg_pool2d %x {kernel = array<i64: 2, 2>} : tensor<3x8x8xf32>
  return
}

// -----

func.func @pool_kernel_zero(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{kernel entries must be >= 1, got [0, 2]}}
  %0 = anvil.max_pool2d %x {kernel = array<i64: 0, 2>} : tensor<1x3x8x8xf32>
  return
}

// -----

func.func @pool_padding(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{padding [2, 0, 0, 0] must be smaller than the kernel [2, 2]}}
  %0 = anvil.max_pool2d %x {kernel = array<i64: 2, 2>, pads = array<i64: 2, 0, 0, 0>} : tensor<1x3x8x8xf32>
  return
}

// -----

func.func @pool_window_too_large(%x: tensor<1x3x2x8xf32>) {
  // expected-error @+1 {{the window is larger than the padded input on spatial axis 0}}
  %0 = anvil.max_pool2d %x {kernel = array<i64: 3, 3>} : tensor<1x3x2x8xf32>
  return
}

// -----

func.func @avg_pool_grad_no_size(%g: tensor<1x3x4x4xf32>) {
  // expected-error @+1 {{'anvil.avg_pool2d_grad' op requires attribute 'input_size'}}
  %0 = anvil.avg_pool2d_grad %g {kernel = array<i64: 2, 2>} : tensor<1x3x4x4xf32>
  return
}

// -----

func.func @avg_pool_grad_rank(%g: tensor<3x4x4xf32>) {
  // expected-error @+1 {{grad must have rank 4 (NCHW), got 3}}
  %0 = anvil.avg_pool2d_grad %g {input_size = array<i64: 8, 8>, kernel = array<i64: 2, 2>} : tensor<3x4x4xf32>
  return
}

// -----

func.func @avg_pool_grad_input_size(%g: tensor<1x3x4x4xf32>) {
  // expected-error @+1 {{input_size needs 2 entries, got 1}}
  %0 = anvil.avg_pool2d_grad %g {input_size = array<i64: 8>, kernel = array<i64: 2, 2>} : tensor<1x3x4x4xf32>
  return
}

// -----

func.func @avg_pool_grad_mismatch(%g: tensor<1x3x4x4xf32>) {
  // expected-error @+1 {{grad has spatial size [4, 4], but pooling an input of [8, 9] gives [4, 5]}}
  %0 = anvil.avg_pool2d_grad %g {input_size = array<i64: 8, 9>, kernel = array<i64: 2, 2>, ceil_mode} : tensor<1x3x4x4xf32>
  return
}

// -----

func.func @avg_pool_grad_padding(%g: tensor<1x3x4x4xf32>) {
  // expected-error @+1 {{padding [2, 0, 0, 0] must be smaller than the kernel [2, 2]}}
  %0 = anvil.avg_pool2d_grad %g {input_size = array<i64: 8, 8>, kernel = array<i64: 2, 2>, pads = array<i64: 2, 0, 0, 0>} : tensor<1x3x4x4xf32>
  return
}

// -----

func.func @global_pool_rank(%x: tensor<3x8xf32>) {
  // expected-error @+1 {{input needs rank >= 3 ([N, C, spatial...]), got 2}}
  %0 = anvil.global_avg_pool %x : tensor<3x8xf32>
  return
}

// -----

func.func @batch_norm_rank(%x: tensor<8xf32>, %c: tensor<8xf32>) {
  // expected-error @+1 {{input needs rank >= 2 ([N, C, ...]), got 1}}
  %0 = anvil.batch_norm %x, %c, %c, %c, %c : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
  return
}

// -----

func.func @batch_norm_channels(%x: tensor<2x8x4x4xf32>, %c: tensor<8xf32>, %v: tensor<4xf32>) {
  // expected-error @+1 {{var must have shape [8] (the channels), got [4]}}
  %0 = anvil.batch_norm %x, %c, %c, %c, %v : tensor<2x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4xf32>
  return
}

// -----

func.func @batch_norm_train_channels(%x: tensor<2x8x4x4xf32>, %c: tensor<8xf64>) {
  // expected-error @+1 {{input and scale must have the same element type, got 'f32' and 'f64'}}
  %0:3 = anvil.batch_norm_train %x, %c, %c : tensor<2x8x4x4xf32>, tensor<8xf64>, tensor<8xf64>
  return
}

// -----

func.func @layer_norm_axis(%x: tensor<2x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = anvil.layer_norm %x, %g, %g {axis = 2 : i64} : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>
  return
}

// -----

func.func @layer_norm_scale(%x: tensor<2x8xf32>, %g: tensor<2x8xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{scale must have shape [8] (the normalized dimensions), got [2, 8]}}
  %0 = anvil.layer_norm %x, %g, %b : tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @dropout_ratio(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{ratio must be in [0, 1), got 1}}
  %0:2 = anvil.dropout %x {ratio = 1.0 : f64} : tensor<2x8xf32>
  return
}

// -----

func.func @loss_reduction(%x: tensor<4x10xf32>, %l: tensor<4xi64>) {
  // expected-error @+1 {{'anvil.softmax_cross_entropy' op attribute 'reduction' failed to satisfy constraint: loss reduction: one of "mean", "sum", "none"}}
  %0 = anvil.softmax_cross_entropy %x, %l {reduction = "avg"} : tensor<4x10xf32>, tensor<4xi64>
  return
}

// -----

func.func @mse_loss_reduction(%x: tensor<4x1xf32>) {
  // expected-error @+1 {{'anvil.mse_loss' op attribute 'reduction' failed to satisfy constraint: loss reduction: one of "mean", "sum", "none"}}
  %0 = anvil.mse_loss %x, %x {reduction = "Mean"} : tensor<4x1xf32>, tensor<4x1xf32>
  return
}

// -----

func.func @loss_input_rank(%x: tensor<4x10x2xf32>, %l: tensor<4xi64>) {
  // expected-error @+1 {{input must be [N, C], got [4, 10, 2]}}
  %0 = anvil.nll_loss %x, %l : tensor<4x10x2xf32>, tensor<4xi64>
  return
}

// -----

func.func @loss_labels(%x: tensor<4x10xf32>, %l: tensor<5xi64>) {
  // expected-error @+1 {{target must be [4] (one label per row of the input), got [5]}}
  %0 = anvil.softmax_cross_entropy %x, %l : tensor<4x10xf32>, tensor<5xi64>
  return
}

// -----

func.func @loss_float_labels(%x: tensor<4x10xf32>, %l: tensor<4xf32>) {
  // expected-error @+1 {{operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = anvil.softmax_cross_entropy %x, %l : tensor<4x10xf32>, tensor<4xf32>
  return
}

// -----

func.func @mse_shapes(%x: tensor<4x1xf32>, %t: tensor<4xf32>) {
  // expected-error @+1 {{input [4, 1] and target [4] must have the same shape}}
  %0 = anvil.mse_loss %x, %t : tensor<4x1xf32>, tensor<4xf32>
  return
}

// -----

func.func @inferred_type_mismatch(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+2 {{'anvil.matmul' op inferred type(s) 'tensor<2x4xf32>' are incompatible with return type(s) of operation 'tensor<2x5xf32>'}}
  // expected-error @+1 {{'anvil.matmul' op failed to infer returned types}}
  %0 = "anvil.matmul"(%a, %b) : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @duplicate_param_name() -> tensor<3xf32> {
  // expected-note @+1 {{the first read}}
  %0 = anvil.param "w" init = "zeros" : tensor<3xf32>
  // expected-error @+1 {{'anvil.param' op parameter 'w' is read a second time in this function; a name names one parameter: rename one of them, or reuse the first one's value}}
  %1 = anvil.param "w" init = "zeros" : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @first() -> tensor<3xf32> {
  // expected-note @+1 {{the other declaration}}
  %0 = anvil.param "w" init = "zeros" : tensor<3xf32>
  return %0 : tensor<3xf32>
}
func.func @second() -> tensor<3xf32> {
  // expected-error @+1 {{'anvil.param' op parameter 'w' differs from the parameter of that name in an earlier function (type or initializer); declare both alike, or rename one}}
  %0 = anvil.param "w" init = "ones" : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @too_many_elements(%x: tensor<4294967296x4294967296xf32>) {
  // expected-error @+1 {{'anvil.relu' op operand #0: tensor<4294967296x4294967296xf32> has more elements than a 64-bit count holds}}
  %0 = anvil.relu %x : tensor<4294967296x4294967296xf32>
  return
}

// -----

func.func @too_many_bytes() {
  // expected-error @+1 {{'anvil.param' op result #0: tensor<1000000x1000000xf32> holds 1000000000000 elements (4000000000000 bytes), more than the 2^40 bytes (1 TiB) a tensor may take}}
  %0 = anvil.param "w" init = "zeros" : tensor<1000000x1000000xf32>
  return
}

// -----

// Shape inference runs before the size check above, so it checks sizes
// itself (fuzz/corpus/mlir/regression-*-size-overflow.mlir).
func.func @reshape_input_too_many_elements(%x: tensor<4294967296x4294967296xf32>) {
  // expected-error @+1 {{input: tensor<4294967296x4294967296xf32> has more elements than a 64-bit count holds}}
  %0 = anvil.reshape %x {shape = array<i64: 4294967296, 4294967296>} : tensor<4294967296x4294967296xf32>
  return
}

// -----

func.func @reshape_shape_too_many_elements(%x: tensor<0xf32>) {
  // expected-error @+1 {{shape [4294967296, 4294967296] has more elements than a 64-bit count holds}}
  %0 = anvil.reshape %x {shape = array<i64: 4294967296, 4294967296>} : tensor<0xf32>
  return
}

// -----

func.func @flatten_input_too_many_elements(%x: tensor<2x4294967296x4294967296xf32>) {
  // expected-error @+1 {{input: tensor<2x4294967296x4294967296xf32> has more elements than a 64-bit count holds}}
  %0 = anvil.flatten %x : tensor<2x4294967296x4294967296xf32>
  return
}

// -----

func.func @flatten_inner_too_large(%x: tensor<0x4294967296x4294967296xf32>) {
  // expected-error @+1 {{flattening [0, 4294967296, 4294967296] at axis 1 gives a size beyond what 64 bits can count}}
  %0 = anvil.flatten %x : tensor<0x4294967296x4294967296xf32>
  return
}

// -----

func.func @concat_input_too_many_elements(%x: tensor<2x9223372036854775807x4xf32>) {
  // expected-error @+1 {{input: tensor<2x9223372036854775807x4xf32> has more elements than a 64-bit count holds}}
  %0 = anvil.concat %x, %x {axis = 1 : i64} : tensor<2x9223372036854775807x4xf32>, tensor<2x9223372036854775807x4xf32>
  return
}

// -----

func.func @concat_axis_too_large(%x: tensor<0x9223372036854775807xf32>) {
  // expected-error @+1 {{the inputs' sizes along axis 1 add up to more than 64 bits can count}}
  %0 = anvil.concat %x, %x {axis = 1 : i64} : tensor<0x9223372036854775807xf32>, tensor<0x9223372036854775807xf32>
  return
}

// -----

func.func @constant_index_out_of_range(%x: tensor<3x2xf32>) {
  %i = anvil.constant dense<[5]> : tensor<1xi64>
  // expected-error @+1 {{'anvil.gather' op indices (operand #1) position 0 holds 5, outside [-2, 2)}}
  %0 = anvil.gather %x, %i {axis = 1 : i64} : tensor<3x2xf32>, tensor<1xi64>
  return
}

// -----

func.func @constant_label_out_of_range(%x: tensor<2x3xf32>) {
  %t = anvil.constant dense<[0, 3]> : tensor<2xi64>
  // expected-error @+1 {{'anvil.nll_loss' op labels (operand #1) position 1 holds 3, outside [0, 3)}}
  %0 = anvil.nll_loss %x, %t : tensor<2x3xf32>, tensor<2xi64>
  return
}

// -----

// The parser infers result types before it verifies the op: each attribute
// the inference reads is checked (present, of its declared kind) first, for
// every op (Anvil_InferTypeOpAdaptor). A type where an integer belongs was
// read as an IntegerAttr before (fuzz/corpus/mlir/regression-concat-axis-type-attr.mlir).
func.func @concat_axis_is_a_type(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'anvil.concat' op attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = anvil.concat %a, %a {axis = i64} : tensor<2x3xf32>, tensor<2x3xf32>
  return
}

// -----

func.func @concat_axis_is_a_string(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'anvil.concat' op attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = anvil.concat %a, %a {axis = "0"} : tensor<2x3xf32>, tensor<2x3xf32>
  return
}

// -----

func.func @argmax_axis_is_a_float(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{'anvil.argmax' op attribute 'axis' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = anvil.argmax %a {axis = 1.0 : f32} : tensor<2x3xf32>
  return
}

// -----

func.func @reshape_shape_is_a_dense_tensor(%a: tensor<6xf32>) {
  // expected-error @+1 {{'anvil.reshape' op attribute 'shape' failed to satisfy constraint: i64 dense array attribute}}
  %0 = anvil.reshape %a {shape = dense<[2, 3]> : tensor<2xi64>} : tensor<6xf32>
  return
}

// -----

func.func @cast_to_is_an_integer(%a: tensor<6xf32>) {
  // expected-error @+1 {{'anvil.cast' op attribute 'to' failed to satisfy constraint: any type attribute}}
  %0 = "anvil.cast"(%a) {to = 3 : i64} : (tensor<6xf32>) -> tensor<6xf64>
  return
}

// -----

func.func @constant_value_is_a_type() {
  // expected-error @+1 {{'anvil.constant' op attribute 'value' failed to satisfy constraint}}
  %0 = "anvil.constant"() {value = f32} : () -> tensor<2xf32>
  return
}

// -----

func.func @quantize_f64(%x: tensor<3xf64>, %s: tensor<f32>, %z: tensor<ui8>) {
  // expected-error @+1 {{input must be f32, got 'f64'}}
  %0 = anvil.quantize %x, %s, %z : tensor<3xf64>, tensor<f32>, tensor<ui8>
  return
}

// -----

func.func @quantize_to_i32(%x: tensor<3xf32>, %s: tensor<f32>, %z: tensor<i32>) {
  // expected-error @+1 {{zero point must be i8 or ui8 (it sets the result's type), got 'i32'}}
  %0 = anvil.quantize %x, %s, %z : tensor<3xf32>, tensor<f32>, tensor<i32>
  return
}

// -----

func.func @quantize_f64_scale(%x: tensor<3xf32>, %s: tensor<f64>, %z: tensor<i8>) {
  // expected-error @+1 {{scale must be f32, got 'f64'}}
  %0 = anvil.quantize %x, %s, %z : tensor<3xf32>, tensor<f64>, tensor<i8>
  return
}

// -----

func.func @quantize_matrix_scale(%x: tensor<3x2xf32>, %s: tensor<3x2xf32>, %z: tensor<3x2xi8>) {
  // expected-error @+1 {{scale must have rank 0 (per tensor) or 1 (per channel), got shape [3, 2]}}
  %0 = anvil.quantize %x, %s, %z : tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xi8>
  return
}

// -----

func.func @quantize_zero_point_shape(%x: tensor<3x2xf32>, %s: tensor<2xf32>, %z: tensor<i8>) {
  // expected-error @+1 {{zero point must have the scale's shape [2], got []}}
  %0 = anvil.quantize %x, %s, %z : tensor<3x2xf32>, tensor<2xf32>, tensor<i8>
  return
}

// -----

func.func @quantize_channel_count(%x: tensor<3x2xf32>, %s: tensor<3xf32>, %z: tensor<3xi8>) {
  // expected-error @+1 {{per-channel scale has 3 entries, but the input's dimension 1 (axis) has 2}}
  %0 = anvil.quantize %x, %s, %z : tensor<3x2xf32>, tensor<3xf32>, tensor<3xi8>
  return
}

// -----

func.func @quantize_axis(%x: tensor<3x2xf32>, %s: tensor<3xf32>, %z: tensor<3xi8>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = anvil.quantize %x, %s, %z {axis = 2 : i64} : tensor<3x2xf32>, tensor<3xf32>, tensor<3xi8>
  return
}

// -----

func.func @dequantize_f32(%q: tensor<3xf32>, %s: tensor<f32>, %z: tensor<f32>) {
  // expected-error @+1 {{input must be i8, ui8 or i32, got 'f32'}}
  %0 = anvil.dequantize %q, %s, %z : tensor<3xf32>, tensor<f32>, tensor<f32>
  return
}

// -----

func.func @dequantize_mixed(%q: tensor<3xui8>, %s: tensor<f32>, %z: tensor<i8>) {
  // expected-error @+1 {{input and zero point must have the same element type, got 'ui8' and 'i8'}}
  %0 = anvil.dequantize %q, %s, %z : tensor<3xui8>, tensor<f32>, tensor<i8>
  return
}

// -----

func.func @dequantize_channel_count(%q: tensor<4x2xi8>, %s: tensor<2xf32>, %z: tensor<2xi8>) {
  // expected-error @+1 {{per-channel scale has 2 entries, but the input's dimension 0 (axis) has 4}}
  %0 = anvil.dequantize %q, %s, %z {axis = 0 : i64} : tensor<4x2xi8>, tensor<2xf32>, tensor<2xi8>
  return
}

// -----

func.func @qmatmul_f32(%a: tensor<2x3xf32>, %w: tensor<3x4xi8>, %z: tensor<i8>) {
  // expected-error @+1 {{lhs must be i8 or ui8, got 'f32'}}
  %0 = anvil.qmatmul %a, %w, %z, %z : tensor<2x3xf32>, tensor<3x4xi8>, tensor<i8>, tensor<i8>
  return
}

// -----

func.func @qmatmul_k(%a: tensor<2x3xui8>, %w: tensor<5x4xi8>, %za: tensor<ui8>, %z: tensor<i8>) {
  // expected-error @+1 {{contraction dimensions differ: lhs has K=3, rhs has K=5}}
  %0 = anvil.qmatmul %a, %w, %za, %z : tensor<2x3xui8>, tensor<5x4xi8>, tensor<ui8>, tensor<i8>
  return
}

// -----

func.func @qmatmul_batch(%a: tensor<2x2x3xui8>, %w: tensor<3x3x4xi8>, %za: tensor<ui8>, %z: tensor<i8>) {
  // expected-error @+1 {{rhs must be [K, N] or have the lhs's batch dimensions [2], got [3]}}
  %0 = anvil.qmatmul %a, %w, %za, %z : tensor<2x2x3xui8>, tensor<3x3x4xi8>, tensor<ui8>, tensor<i8>
  return
}

// -----

func.func @qmatmul_zero_point_type(%a: tensor<2x3xui8>, %w: tensor<3x4xi8>, %z: tensor<i8>) {
  // expected-error @+1 {{lhs and lhs zero point must have the same element type, got 'ui8' and 'i8'}}
  %0 = anvil.qmatmul %a, %w, %z, %z : tensor<2x3xui8>, tensor<3x4xi8>, tensor<i8>, tensor<i8>
  return
}

// -----

func.func @qmatmul_row_zero_points(%a: tensor<2x3xui8>, %w: tensor<3x4xi8>, %za: tensor<2xui8>, %z: tensor<i8>) {
  // expected-error @+1 {{lhs zero point must be one value, got [2]}}
  %0 = anvil.qmatmul %a, %w, %za, %z : tensor<2x3xui8>, tensor<3x4xi8>, tensor<2xui8>, tensor<i8>
  return
}

// -----

func.func @qmatmul_column_zero_points(%a: tensor<2x3xui8>, %w: tensor<3x4xi8>, %za: tensor<ui8>, %z: tensor<3xi8>) {
  // expected-error @+1 {{rhs zero point must be one value or one per column (4), got [3]}}
  %0 = anvil.qmatmul %a, %w, %za, %z : tensor<2x3xui8>, tensor<3x4xi8>, tensor<ui8>, tensor<3xi8>
  return
}

// -----

func.func @qconv2d_f32(%x: tensor<1x2x4x4xf32>, %w: tensor<3x2x3x3xi8>, %z: tensor<i8>) {
  // expected-error @+1 {{input must be i8 or ui8, got 'f32'}}
  %0 = anvil.qconv2d %x, %w, %z, %z : tensor<1x2x4x4xf32>, tensor<3x2x3x3xi8>, tensor<i8>, tensor<i8>
  return
}

// -----

func.func @qconv2d_channels(%x: tensor<1x2x4x4xui8>, %w: tensor<3x4x3x3xi8>, %zx: tensor<ui8>, %z: tensor<i8>) {
  // expected-error @+1 {{weight has 4 input channels per group, but the input has 2 channels in 1 group(s)}}
  %0 = anvil.qconv2d %x, %w, %zx, %z : tensor<1x2x4x4xui8>, tensor<3x4x3x3xi8>, tensor<ui8>, tensor<i8>
  return
}

// -----

func.func @qconv2d_input_zero_points(%x: tensor<1x2x4x4xui8>, %w: tensor<3x2x3x3xi8>, %zx: tensor<2xui8>, %z: tensor<i8>) {
  // expected-error @+1 {{input zero point must be one value, got [2]}}
  %0 = anvil.qconv2d %x, %w, %zx, %z : tensor<1x2x4x4xui8>, tensor<3x2x3x3xi8>, tensor<2xui8>, tensor<i8>
  return
}

// -----

func.func @qconv2d_weight_zero_points(%x: tensor<1x2x4x4xui8>, %w: tensor<3x2x3x3xi8>, %zx: tensor<ui8>, %z: tensor<2xi8>) {
  // expected-error @+1 {{weight zero point must be one value or one per output channel (3), got [2]}}
  %0 = anvil.qconv2d %x, %w, %zx, %z : tensor<1x2x4x4xui8>, tensor<3x2x3x3xi8>, tensor<ui8>, tensor<2xi8>
  return
}

// -----

func.func @qconv2d_zero_point_type(%x: tensor<1x2x4x4xui8>, %w: tensor<3x2x3x3xi8>, %z: tensor<i8>) {
  // expected-error @+1 {{input and input zero point must have the same element type, got 'ui8' and 'i8'}}
  %0 = anvil.qconv2d %x, %w, %z, %z : tensor<1x2x4x4xui8>, tensor<3x2x3x3xi8>, tensor<i8>, tensor<i8>
  return
}

// -----

func.func @fake_quantize_range(%x: tensor<4xf32>, %r: tensor<3xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{range must be tensor<2xf32> ([lo, hi]), got 'tensor<3xf32>'}}
  %y = anvil.fake_quantize %x, %r : tensor<4xf32>, tensor<3xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @fake_quantize_weights_axis(%w: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %y = anvil.fake_quantize_weights %w {axis = 2 : i64} : tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}
