#!/usr/bin/env python3
"""Writes the uncompressed ELF kernel inside a bzImage (argv[1]) to argv[2].

QEMU boots an ELF vmlinux directly through its PVH entry point, which skips the
decompressor: seconds saved per boot under TCG. Tries each compression the x86
kernel may use and keeps the first payload that is an ELF image."""
import bz2, gzip, lzma, sys, zlib

data = open(sys.argv[1], "rb").read()

def candidates():
    magics = [(b"\xfd7zXZ\x00", "xz"), (b"\x1f\x8b\x08", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"BZh", "bzip2"), (b"\x5d\x00\x00", "lzma")]
    for magic, kind in magics:
        pos = data.find(magic)
        while pos != -1:
            yield kind, pos
            pos = data.find(magic, pos + 1)

def decompress(kind, pos):
    blob = data[pos:]
    if kind == "xz":
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(blob)
    if kind == "lzma":
        return lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(blob)
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(blob)
    if kind == "bzip2":
        return bz2.BZ2Decompressor().decompress(blob)
    if kind == "zstd":
        import subprocess
        return subprocess.run(["zstd", "-dc"], input=blob, capture_output=True).stdout

for kind, pos in candidates():
    try:
        out = decompress(kind, pos)
    except Exception:
        continue
    if out[:4] == b"\x7fELF":
        open(sys.argv[2], "wb").write(out)
        sys.exit(0)
sys.exit(f"{sys.argv[1]}: no compressed ELF kernel found")
