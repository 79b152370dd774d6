"""Write the classes below K of an MNIST-format dataset (IDX, gzip) as a dataset of their own.

Every sample of those classes is kept, in the original order, so a run on the copy (with
`--skip_checksums`) draws the same training set, label noise and validation split as on the whole
dataset: bench/device.sh carries Fashion-MNIST's classes 0 and 1 this way (5.9 MB).

Usage: python3 bench/device_subset.py SOURCE_DIR TARGET_DIR K
"""
import gzip
import os
import struct
import sys


def main() -> None:
    source, target, classes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(target, exist_ok=True)
    for split in ("train", "t10k"):
        with gzip.open(f"{source}/{split}-labels-idx1-ubyte.gz") as f:
            label_magic, count = struct.unpack(">II", f.read(8))
            labels = f.read(count)
        with gzip.open(f"{source}/{split}-images-idx3-ubyte.gz") as f:
            image_magic, _, rows, cols = struct.unpack(">IIII", f.read(16))
            images = f.read()
        keep = [i for i in range(count) if labels[i] < classes]
        size = rows * cols
        with gzip.open(f"{target}/{split}-labels-idx1-ubyte.gz", "wb", 9) as f:
            f.write(struct.pack(">II", label_magic, len(keep)))
            f.write(bytes(labels[i] for i in keep))
        with gzip.open(f"{target}/{split}-images-idx3-ubyte.gz", "wb", 9) as f:
            f.write(struct.pack(">IIII", image_magic, len(keep), rows, cols))
            f.write(b"".join(images[i * size:(i + 1) * size] for i in keep))
        print(f"{split}: {len(keep)} of {count} samples (classes below {classes})")


if __name__ == "__main__":
    main()
