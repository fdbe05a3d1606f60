#!/usr/bin/env bash
# The main job, as far as Anvil goes today: take 64 real Fashion-MNIST test
# images, compile both example models into native executables, and run them
# with their own (untrained) initial weights, printing the predictions, the
# true labels, the loss and the latency. Training (issue 4) turns this into
# "train on Fashion-MNIST, then classify".
set -euo pipefail
BUILD=${1:-build}
ANVILC="$BUILD/bin/anvilc"
DATA=/usr/share/datasets/fashion-mnist
OUT=demo-out
mkdir -p "$OUT"

/usr/bin/python3 - "$DATA" "$OUT" <<'PY'
import gzip, sys
import numpy as np
data, out = sys.argv[1], sys.argv[2]
with gzip.open(f"{data}/t10k-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
with gzip.open(f"{data}/t10k-labels-idx1-ubyte.gz") as f:
    labels = np.frombuffer(f.read(), np.uint8, offset=8)
np.save(f"{out}/images.npy", (images[:64] / 255.0).astype(np.float32))
np.save(f"{out}/labels.npy", labels[:64].astype(np.int64))
PY
echo "Read 64 Fashion-MNIST test images from $DATA"

for model in mlp lenet; do
  echo
  echo "== examples/$model.mlir"
  start=$(date +%s.%N)
  "$ANVILC" "examples/$model.mlir" -o "$OUT/$model"
  end=$(date +%s.%N)
  echo "compiled to $OUT/$model in $(/usr/bin/python3 -c "print(f'{$end - $start:.2f}')") s"
  "$OUT/$model" --input "$OUT/images.npy" --output "$OUT/$model.logits.npy"
  "$OUT/$model" --function loss --input "$OUT/$model.logits.npy" \
    --input "$OUT/labels.npy" --output "$OUT/$model.loss.npy"
  "$OUT/$model" --bench 100
  /usr/bin/python3 - "$OUT" "$model" <<'PY'
import sys
import numpy as np
out, model = sys.argv[1], sys.argv[2]
names = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
         "Sneaker", "Bag", "Boot"]
logits = np.load(f"{out}/{model}.logits.npy")
labels = np.load(f"{out}/labels.npy")
pred = logits.argmax(1)
print("first 8 predictions (untrained weights) vs true labels:")
for p, l in zip(pred[:8], labels[:8]):
    print(f"  predicted {names[p]:9s} true {names[l]}")
print(f"accuracy {np.mean(pred == labels) * 100:.1f}% (chance is 10% until training lands)")
print(f"mean cross-entropy {float(np.load(f'{out}/{model}.loss.npy')):.4f} (ln 10 = 2.3026)")
PY
done
