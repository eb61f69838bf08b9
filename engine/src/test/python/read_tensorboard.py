#!/usr/bin/python3
"""Reads TensorBoard event files independently of Marrow and prints what they hold.

Checks every record's framing (little-endian uint64 length, masked CRC32C of the length, data,
masked CRC32C of the data) with a CRC32C written here, parses each record with Google's protobuf
runtime against tensorboard_events.proto (TensorFlow's field numbers), and prints one line per
scalar and histogram. Exit status 1 on the first bad record.

Needs Debian's python3-protobuf and protobuf-compiler (protoc):
    /usr/bin/python3 engine/src/test/python/read_tensorboard.py LOG_DIR
"""
import glob
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def load_messages():
    out = tempfile.mkdtemp()
    subprocess.run(["protoc", f"--proto_path={HERE}", f"--python_out={out}",
                    "tensorboard_events.proto"], check=True)
    sys.path.insert(0, out)
    import tensorboard_events_pb2
    return tensorboard_events_pb2


def records(path):
    data = open(path, "rb").read()
    at = 0
    while at < len(data):
        if at + 12 > len(data):
            raise ValueError(f"{path}: truncated header at byte {at}")
        header = data[at:at + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[at + 8:at + 12])
        if masked(crc32c(header)) != length_crc:
            raise ValueError(f"{path}: bad length CRC at byte {at}")
        body = data[at + 12:at + 12 + length]
        (body_crc,) = struct.unpack("<I", data[at + 12 + length:at + 16 + length])
        if len(body) != length or masked(crc32c(body)) != body_crc:
            raise ValueError(f"{path}: bad data CRC at byte {at}")
        yield body
        at += 16 + length


def main(log_dir):
    pb = load_messages()
    files = sorted(glob.glob(os.path.join(log_dir, "**", "events.out.tfevents.*"), recursive=True))
    if not files:
        print(f"no event files under {log_dir}")
        return 1
    for path in files:
        count = 0
        for body in records(path):
            event = pb.Event.FromString(body)
            count += 1
            if event.WhichOneof("what") == "file_version":
                print(f"{os.path.relpath(path, log_dir)}: {event.file_version}")
            for v in event.summary.value:
                if v.WhichOneof("value") == "simple_value":
                    print(f"  step {event.step} {v.tag} = {v.simple_value:.6f}")
                else:
                    h = v.histo
                    print(f"  step {event.step} {v.tag}: num {h.num:.0f} min {h.min:.4f}"
                          f" max {h.max:.4f} sum {h.sum:.4f} buckets {len(h.bucket)}")
        print(f"  {count} records, every CRC correct")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
    except ValueError as e:
        print(e)
        sys.exit(1)
