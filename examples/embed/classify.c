/* classify.c - embed a compiled model in a C program.
 *
 * Build the MLP example as a static library with its header, then this:
 *
 *   build/bin/anvilc examples/mlp.mlir --emit=lib -o libmlp.a   # + mlp.h
 *   cc -O2 -I. examples/embed/classify.c libmlp.a \
 *      -L/usr/lib/llvm-19/lib -Wl,-rpath,/usr/lib/llvm-19/lib -lomp -lm \
 *      -o classify
 *   ./classify
 *
 * It fills a batch of synthetic images (pixel i of image n is
 * ((n * 784 + i) % 256) / 255), runs anvil_forward, and prints each image's
 * predicted class and image 0's logits. The buffers come from the header's
 * sizes; the library allocates nothing. */
#include "mlp.h"

#include <stdio.h>

static float images[ANVIL_FORWARD_INPUT0_BYTES / sizeof(float)];
static float logits[ANVIL_FORWARD_RESULT0_BYTES / sizeof(float)];

int main(void) {
  const long shape[] = ANVIL_FORWARD_RESULT0_SHAPE;
  long batch = shape[0], classes = shape[1];
  long pixels = (long)(sizeof(images) / sizeof(float)) / batch;
  for (long n = 0; n < batch; ++n)
    for (long i = 0; i < pixels; ++i)
      images[n * pixels + i] = (float)((n * pixels + i) % 256) / 255.0f;

  anvil_forward(images, logits);

  printf("image 0 logits:");
  for (long c = 0; c < classes; ++c)
    printf(" %.5f", logits[c]);
  printf("\npredicted classes:");
  for (long n = 0; n < batch; ++n) {
    long best = 0;
    for (long c = 1; c < classes; ++c)
      if (logits[n * classes + c] > logits[n * classes + best])
        best = c;
    printf(" %ld", best);
  }
  printf("\n");
  return 0;
}
