"""Anvil weights files (runtime/Weights.h, version 2) from the e2e tests:
per tensor its name, element type code, rank, dimensions and data, then an
FNV-1a 64 checksum of everything before it."""
import struct

import numpy as np

# The element type codes, in runtime/Weights.h's order.
WEIGHT_DTYPES = [np.float32, np.float64, np.int64, np.int32, np.int8, np.uint8, np.bool_]


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def write_weights(path, tensors):
    """A weights file of `tensors` (name -> array), all as f32."""
    out = bytearray(b"ANVILWTS" + struct.pack("<II", 2, len(tensors)))
    for name, value in tensors.items():
        out += struct.pack("<I", len(name)) + name.encode()
        out += bytes([0, value.ndim]) + struct.pack("<" + "Q" * value.ndim, *value.shape)
        out += np.ascontiguousarray(value, np.float32).tobytes()
    out += struct.pack("<Q", fnv1a64(bytes(out)))
    with open(path, "wb") as f:
        f.write(out)


def read_weights(path):
    """name -> numpy array of a weights file."""
    raw = open(path, "rb").read()
    assert raw[:8] == b"ANVILWTS"
    version, count = struct.unpack("<II", raw[8:16])
    assert version == 2, version
    at, out = 16, {}
    for _ in range(count):
        n, = struct.unpack("<I", raw[at:at + 4])
        name = raw[at + 4:at + 4 + n].decode()
        at += 4 + n
        code, rank = raw[at], raw[at + 1]
        shape = struct.unpack("<" + "Q" * rank, raw[at + 2:at + 2 + 8 * rank])
        at += 2 + 8 * rank
        dtype = np.dtype(WEIGHT_DTYPES[code])
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        out[name] = np.frombuffer(raw[at:at + size], dtype).reshape(shape)
        at += size
    assert at == len(raw) - 8
    return out
