"""IDX files (the Fashion-MNIST format) for the end-to-end tests: read
Debian's dataset-fashion-mnist, write small datasets the trainer loads."""
import gzip
import os
import struct

import numpy as np

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(name):
    """The array in DATA/<name>.gz."""
    with gzip.open(os.path.join(DATA, name + ".gz")) as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(dims)


def write_idx(path, array):
    """Writes `array` as an uncompressed uint8 IDX file."""
    header = struct.pack(">I", 0x800 | array.ndim) + struct.pack(">" + "I" * array.ndim, *array.shape)
    with open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())
