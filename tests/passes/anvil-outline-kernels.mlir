// RUN: anvil-opt %s -split-input-file -anvil-outline-kernels | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-outline-kernels=min-kernels=3 | FileCheck %s --check-prefix=MIN

// Each loop nest becomes a call of its own function; the arena views and
// constants it reads are recomputed inside it, the function's arguments
// are passed.
// CHECK-LABEL: func.func private @nests_kernel0
// CHECK-SAME: (%[[X:.*]]: memref<64xf32>)
// CHECK-SAME: attributes {llvm.linkage = #llvm.linkage<internal>, no_inline}
// CHECK: %[[ARENA:.*]] = memref.get_global @arena
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[A:.*]] = memref.view %[[ARENA]][%[[C0]]][]
// CHECK: linalg.map { math.exp } ins(%[[X]] : memref<64xf32>) outs(%[[A]] : memref<64xf32>)
// CHECK-NEXT: return
// CHECK-LABEL: func.func private @nests_kernel1
// CHECK-SAME: (%[[Y:.*]]: memref<64xf32>)
// CHECK: %[[ARENA:.*]] = memref.get_global @arena
// CHECK: %[[A:.*]] = memref.view %[[ARENA]]
// CHECK: scf.for
// CHECK: memref.load %[[A]]
// CHECK: memref.store %{{.*}}, %[[Y]]
// CHECK-LABEL: func.func @nests
// CHECK-SAME: (%[[X:.*]]: memref<64xf32>, %[[Y:.*]]: memref<64xf32>)
// CHECK-NEXT: memref.get_global
// CHECK-NEXT: arith.constant
// CHECK-NEXT: memref.view
// CHECK-NEXT: call @nests_kernel0(%[[X]]) : (memref<64xf32>) -> ()
// CHECK-NEXT: arith.constant
// CHECK-NEXT: arith.constant
// CHECK-NEXT: arith.constant
// CHECK-NEXT: call @nests_kernel1(%[[Y]]) : (memref<64xf32>) -> ()
// CHECK-NEXT: return
// MIN-LABEL: func.func @nests
// MIN-NOT: call
// MIN: linalg.map
// MIN: scf.for
memref.global "private" @arena : memref<256xi8>
func.func @nests(%x: memref<64xf32>, %y: memref<64xf32>) {
  %arena = memref.get_global @arena : memref<256xi8>
  %c0 = arith.constant 0 : index
  %a = memref.view %arena[%c0][] : memref<256xi8> to memref<64xf32>
  linalg.map { math.exp } ins(%x : memref<64xf32>) outs(%a : memref<64xf32>)
  %lb = arith.constant 0 : index
  %ub = arith.constant 64 : index
  %step = arith.constant 1 : index
  scf.for %i = %lb to %ub step %step {
    %v = memref.load %a[%i] : memref<64xf32>
    memref.store %v, %y[%i] : memref<64xf32>
  }
  return
}

// -----

// A nest that yields a value, and one that reads a view the bare-pointer
// convention cannot pass (a dynamic offset), stay where they are.
// CHECK-LABEL: func.func @stays
// CHECK-NOT: call
// CHECK: scf.for {{.*}} iter_args
// CHECK: linalg.map
func.func @stays(%x: memref<64xf32>, %n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.for %i = %c0 to %c64 step %c1 iter_args(%acc = %zero) -> f32 {
    %v = memref.load %x[%i] : memref<64xf32>
    %s = arith.addf %acc, %v : f32
    scf.yield %s : f32
  }
  %view = memref.subview %x[%n] [8] [1] : memref<64xf32> to memref<8xf32, strided<[1], offset: ?>>
  linalg.map { math.exp } ins(%view : memref<8xf32, strided<[1], offset: ?>>) outs(%view : memref<8xf32, strided<[1], offset: ?>>)
  return %sum : f32
}
