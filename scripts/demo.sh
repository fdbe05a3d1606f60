#!/usr/bin/env bash
# The main job: compile examples/mlp.mlir into a native trainer, train it on
# Fashion-MNIST (Debian's dataset-fashion-mnist) for a few epochs, save the
# checkpoint, compile the trained model into an inference executable, and
# classify a few test images next to their true labels.
set -euo pipefail
BUILD=${1:-build}
ANVILC="$BUILD/bin/anvilc"
DATA=/usr/share/datasets/fashion-mnist
OUT=demo-out
EPOCHS=${EPOCHS:-5}
mkdir -p "$OUT"

echo "== compiling examples/mlp.mlir into a trainer (SGD, lr 0.05, momentum 0.9)"
"$ANVILC" train examples/mlp.mlir --lr 0.05 --momentum 0.9 -o "$OUT/trainer"

echo
echo "== training on $DATA for $EPOCHS epochs"
"$OUT/trainer" --data "$DATA" --epochs "$EPOCHS" --save "$OUT/mlp.ckpt" \
  --report-json "$OUT/report.json"

echo
echo "== compiling the trained model into an inference executable"
"$ANVILC" examples/mlp.mlir --weights "$OUT/mlp.ckpt" -o "$OUT/mlp"

# 64 test images (the model's batch) as .npy, then classify them.
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
"$OUT/mlp" --input "$OUT/images.npy" --output "$OUT/logits.npy"
/usr/bin/python3 - "$OUT" <<'PY'
import sys
import numpy as np
out = sys.argv[1]
names = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
         "Sneaker", "Bag", "Boot"]
pred = np.load(f"{out}/logits.npy").argmax(1)
labels = np.load(f"{out}/labels.npy")
print("first 10 test images:")
for p, l in zip(pred[:10], labels[:10]):
    mark = "ok" if p == l else "wrong"
    print(f"  predicted {names[p]:9s} true {names[l]:9s} {mark}")
print(f"{np.mean(pred == labels) * 100:.1f}% of these 64 test images right")
PY
"$OUT/mlp" --bench 200
