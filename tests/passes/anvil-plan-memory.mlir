// RUN: anvil-opt %s -split-input-file -anvil-plan-memory | FileCheck %s

// Buffers whose lifetimes do not overlap share the arena's space; a buffer
// alive at the same time gets its own, 64-byte aligned.
// CHECK: memref.global "private" @__anvil_arena_reuse : memref<448xi8> {alignment = 64 : i64}
// CHECK-LABEL: func @reuse
// CHECK-SAME: anvil.memory_plan = {arena_bytes = 448 : i64, buffers = [{bytes = 256 : i64, live = array<i64: 0, 2>, offset = 0 : i64, type = memref<64xf32>}, {bytes = 160 : i64, live = array<i64: 1, 5>, offset = 256 : i64, type = memref<40xf32>}, {bytes = 256 : i64, live = array<i64: 4, 6>, offset = 0 : i64, type = memref<64xf32>}]}
// CHECK: %[[ARENA:.*]] = memref.get_global @__anvil_arena_reuse
// CHECK: memref.view %[[ARENA]][%{{.*}}][] : memref<448xi8> to memref<64xf32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
func.func @reuse(%x: memref<64xf32>, %y: memref<40xf32>) {
  %a = memref.alloc() : memref<64xf32>
  %b = memref.alloc() : memref<40xf32>
  memref.copy %x, %a : memref<64xf32> to memref<64xf32>
  memref.copy %y, %b : memref<40xf32> to memref<40xf32>
  %c = memref.alloc() : memref<64xf32>
  memref.copy %b, %y : memref<40xf32> to memref<40xf32>
  memref.copy %c, %x : memref<64xf32> to memref<64xf32>
  memref.dealloc %a : memref<64xf32>
  return
}

// -----

// Views extend the lifetime of the buffer they view.
// CHECK-LABEL: func @views
// CHECK-SAME: buffers = [{bytes = 64 : i64, live = array<i64: 0, 3>
func.func @views(%x: memref<4x4xf32>) {
  %a = memref.alloc() : memref<16xf32>
  %v = memref.expand_shape %a [[0, 1]] output_shape [4, 4] : memref<16xf32> into memref<4x4xf32>
  %c0 = arith.constant 0 : index
  memref.copy %v, %x : memref<4x4xf32> to memref<4x4xf32>
  return
}

// -----

// A returned buffer escapes, a buffer inside a loop is not a top-level
// temporary: both keep their allocation.
// CHECK-LABEL: func @unplanned
// CHECK-NOT: anvil.memory_plan
// CHECK: memref.alloc() : memref<8xf32>
// CHECK: scf.for
// CHECK: memref.alloc() : memref<2xf32>
func.func @unplanned(%n: index) -> memref<8xf32> {
  %a = memref.alloc() : memref<8xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %t = memref.alloc() : memref<2xf32>
    memref.dealloc %t : memref<2xf32>
  }
  return %a : memref<8xf32>
}

// -----

// The temporaries of each iteration of a parallel loop (from 0 in steps of
// 1) get one slot per iteration: 4 slots of 256 bytes at 64-byte
// alignment, at the planned offset plus the induction variable times 256.
// CHECK-LABEL: func @forall_slots
// CHECK: anvil.memory_plan = {arena_bytes = 1024 : i64, buffers = [{bytes = 1024 : i64, live = array<i64: 1, 1>, offset = 0 : i64, slots = 4 : i64, type = memref<64xf32>}]}
// CHECK: %[[ARENA:.*]] = memref.get_global @__anvil_arena_forall_slots
// CHECK: scf.forall (%[[I:.*]]) in (4)
// CHECK:   %[[C0:.*]] = arith.constant 0 : index
// CHECK:   %[[C256:.*]] = arith.constant 256 : index
// CHECK:   %[[M:.*]] = arith.muli %[[I]], %[[C256]] : index
// CHECK:   %[[OFF:.*]] = arith.addi %[[C0]], %[[M]] : index
// CHECK:   memref.view %[[ARENA]][%[[OFF]]][] : memref<1024xi8> to memref<64xf32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
func.func @forall_slots(%out: memref<4x64xf32>) {
  %cst = arith.constant 1.0 : f32
  scf.forall (%i) in (4) {
    %t = memref.alloc() : memref<64xf32>
    linalg.fill ins(%cst : f32) outs(%t : memref<64xf32>)
    %s = memref.subview %out[%i, 0] [1, 64] [1, 1] : memref<4x64xf32> to memref<64xf32, strided<[1], offset: ?>>
    linalg.copy ins(%t : memref<64xf32>) outs(%s : memref<64xf32, strided<[1], offset: ?>>)
    memref.dealloc %t : memref<64xf32>
  }
  return
}

// -----

// Negative: a loop that does not start at 0 (the induction variable is not
// the slot) keeps its alloc.
// CHECK-LABEL: func @forall_offset
// CHECK: scf.forall
// CHECK: memref.alloc
func.func @forall_offset(%out: memref<4x64xf32>) {
  %cst = arith.constant 1.0 : f32
  scf.forall (%i) = (1) to (4) step (1) {
    %t = memref.alloc() : memref<64xf32>
    linalg.fill ins(%cst : f32) outs(%t : memref<64xf32>)
    %s = memref.subview %out[%i, 0] [1, 64] [1, 1] : memref<4x64xf32> to memref<64xf32, strided<[1], offset: ?>>
    linalg.copy ins(%t : memref<64xf32>) outs(%s : memref<64xf32, strided<[1], offset: ?>>)
    memref.dealloc %t : memref<64xf32>
  }
  return
}

// -----

// A chunk of anvil-split-batch runs on several threads at once: it takes
// its arena as a trailing argument (no global), planned before its caller
// whatever the order; each call allocates that arena just before it, and
// the caller's plan gives it, like the chunk's input and output buffers, one
// slot per iteration of the parallel loop. The copy of its result into the
// caller's output becomes one memref.copy (no loop nest beside the call).
// CHECK-NOT: @__anvil_arena_chunk
// CHECK: memref.global "private" @__anvil_arena_caller : memref<384xi8>
// CHECK-LABEL: func @caller
// CHECK-SAME: anvil.memory_plan = {arena_bytes = 384 : i64
// CHECK: %[[ARENA:.*]] = memref.get_global @__anvil_arena_caller
// CHECK: scf.forall (%[[I:.*]]) in (2)
// CHECK-COUNT-3: memref.view %[[ARENA]]
// CHECK: func.call @chunk(%{{.*}}, %[[OUT:.*]], %{{.*}}) : (memref<4xf32>, memref<4xf32>, memref<64xi8>) -> ()
// CHECK: memref.copy %[[OUT]], %{{.*}} : memref<4xf32> to memref<4xf32, strided<[1], offset: ?>>
// CHECK-NOT: linalg.copy
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
// CHECK-LABEL: func private @chunk(
// CHECK-SAME: %[[ARG:[^:]*]]: memref<64xi8>)
// CHECK-SAME: anvil.memory_plan = {arena_bytes = 64 : i64
// CHECK: memref.view %[[ARG]][%{{.*}}][] : memref<64xi8> to memref<4xf32>
// CHECK-NOT: memref.alloc
func.func @caller(%x: memref<8xf32>, %y: memref<8xf32>) {
  scf.forall (%i) in (2) {
    %c4 = arith.constant 4 : index
    %off = arith.muli %i, %c4 : index
    %sx = memref.subview %x[%off] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1], offset: ?>>
    %in = memref.alloc() : memref<4xf32>
    memref.copy %sx, %in : memref<4xf32, strided<[1], offset: ?>> to memref<4xf32>
    %out = memref.alloc() : memref<4xf32>
    func.call @chunk(%in, %out) : (memref<4xf32>, memref<4xf32>) -> ()
    %sy = memref.subview %y[%off] [4] [1] : memref<8xf32> to memref<4xf32, strided<[1], offset: ?>>
    linalg.copy ins(%out : memref<4xf32>) outs(%sy : memref<4xf32, strided<[1], offset: ?>>)
    memref.dealloc %in : memref<4xf32>
    memref.dealloc %out : memref<4xf32>
  }
  return
}
func.func private @chunk(%x: memref<4xf32>, %y: memref<4xf32>) attributes {anvil.arena_argument} {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %x, %a : memref<4xf32> to memref<4xf32>
  memref.copy %a, %y : memref<4xf32> to memref<4xf32>
  memref.dealloc %a : memref<4xf32>
  return
}

// -----

// Without the attribute a call is an escape: the buffers it is given keep
// their allocation.
// CHECK-LABEL: func @plain_call
// CHECK-NOT: anvil.memory_plan
// CHECK: memref.alloc() : memref<4xf32>
func.func @plain_call(%x: memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %x, %a : memref<4xf32> to memref<4xf32>
  func.call @other(%a) : (memref<4xf32>) -> ()
  memref.dealloc %a : memref<4xf32>
  return
}
func.func private @other(%x: memref<4xf32>)
