"""Schemathesis hooks for imgedge's API: real images for the upload's media types.

Schemathesis fills a `format: binary` body with random bytes. The upload endpoint rightly
refuses those (415, 422), so schemathesis would count schema-valid requests as rejected and
the stateful chain upload → get → URL → delete would never start. These strategies give it
images instead: PNG and GIF generated here, of random size and pixels; JPEG, WebP and AVIF
made by `imgedge render` at the start of the run (the folder IMGEDGE_SCHEMATHESIS_FIXTURES).
Broken and hostile files are tests/it/hostile.rs's and the fuzz targets' work."""

import os
import struct
import zlib
from pathlib import Path

import schemathesis
from hypothesis import strategies as st


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@st.composite
def png_images(draw):
    """A PNG of 1 to 48 pixels a side, RGB or RGBA, random pixels."""
    width, height = draw(st.integers(1, 48)), draw(st.integers(1, 48))
    channels = draw(st.sampled_from([3, 4]))
    row = width * channels
    pixels = draw(st.binary(min_size=row * height, max_size=row * height))
    raw = b"".join(b"\x00" + pixels[y * row:(y + 1) * row] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2 if channels == 3 else 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(raw)) + _png_chunk(b"IEND", b""))


@st.composite
def gif_images(draw):
    """A GIF of 1 to 32 pixels a side with a random 128-colour palette and random pixels.

    LZW with a minimum code size of 7 starts at 8-bit codes; a clear code before every 120
    pixels keeps the table from growing past 8 bits, so every code is one byte and each
    pixel is written as its own code."""
    width, height = draw(st.integers(1, 32)), draw(st.integers(1, 32))
    palette = draw(st.binary(min_size=128 * 3, max_size=128 * 3))
    pixels = [b & 0x7F for b in draw(st.binary(min_size=width * height, max_size=width * height))]
    clear, end = 128, 129
    codes = bytearray()
    for i, pixel in enumerate(pixels):
        if i % 120 == 0:
            codes.append(clear)
        codes.append(pixel)
    codes.append(end)
    blocks = b"".join(bytes([len(codes[i:i + 255])]) + codes[i:i + 255] for i in range(0, len(codes), 255))
    screen = struct.pack("<HHBBB", width, height, 0xF6, 0, 0)  # global table of 2^(6+1) colours
    image = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return b"GIF89a" + screen + palette + image + bytes([7]) + blocks + b"\x00;"


def _rendered(extension):
    folder = os.environ.get("IMGEDGE_SCHEMATHESIS_FIXTURES")
    files = sorted(Path(folder).glob(f"*.{extension}")) if folder else []
    if not files:
        raise RuntimeError(f"no .{extension} files in IMGEDGE_SCHEMATHESIS_FIXTURES")
    return st.sampled_from([f.read_bytes() for f in files])


schemathesis.openapi.media_type("image/png", png_images())
schemathesis.openapi.media_type("image/gif", gif_images())
schemathesis.openapi.media_type("image/jpeg", _rendered("jpg"))
schemathesis.openapi.media_type("image/webp", _rendered("webp"))
# AVIF is a HEIF profile: the API takes it under either type.
schemathesis.openapi.media_type("image/avif", _rendered("avif"), aliases=["image/heif"])
