#!/usr/bin/env python3
"""Makes the small HEIC fixtures that test libheif's transforms and colour handling.

Run from this directory: `python3 gen_heic.py`. Needs Debian's `libheif-examples`
(heif-convert, heif-enc 1.15 with x265) and Python's standard library only.

From `detail.heic` (decoded by heif-convert), halved to 320x213 with a 2x2 box filter:
- `rotated-irot.heic`: the pixels stored turned 90 degrees clockwise (213x320), and an `irot`
  box (angle 1: 90 degrees anticlockwise) added by hand, so a reader that applies it shows
  320x213, the right way up;
- `swapped-icc.heic`: red and blue swapped in the pixels, with an ICC profile whose red and
  blue colorants are swapped too (sRGB's primaries otherwise, gamma 2.2), so a reader that
  applies the profile shows the right colours, and one that ignores it, blue leaves;
- `oriented-6-exif.heic`: `oriented-6-gps.jpg` through heif-enc, which copies its Exif
  (orientation 6, GPS) and XMP into the HEIF and adds no `irot`: HEIF readers show it as
  stored (600x800), and its metadata must not reach an output.
"""

import os
import struct
import subprocess
import tempfile
import zlib


def read_png(path):
    """An 8-bit RGB, non-interlaced PNG (what heif-convert writes): (width, height, rows)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, width, height = 8, b"", 0, 0
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, colour, interlace) == (8, 2, 0), (depth, colour, interlace)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * 3, [], bytearray(width * 3)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - 3] if x >= 3 else 0
            b, c = prev[x], prev[x - 3] if x >= 3 else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return width, height, rows


def write_png(path, width, height, rows, icc=None):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if icc is not None:
        out += chunk(b"iCCP", b"swapped\0\0" + zlib.compress(icc))
    out += chunk(b"IDAT", zlib.compress(b"".join(b"\0" + bytes(r) for r in rows), 9))
    open(path, "wb").write(out + chunk(b"IEND", b""))


def halve(width, height, rows):
    w, h = width // 2, height // 2
    out = []
    for y in range(h):
        r0, r1, line = rows[2 * y], rows[2 * y + 1], bytearray(w * 3)
        for x in range(w):
            for c in range(3):
                i, j = 6 * x + c, 6 * x + 3 + c
                line[3 * x + c] = (r0[i] + r0[j] + r1[i] + r1[j] + 2) // 4
        out.append(line)
    return w, h, out


def turn_clockwise(width, height, rows):
    """90 degrees clockwise: the new row y is the old column y, read bottom to top."""
    out = []
    for x in range(width):
        out.append(bytearray(b"".join(bytes(rows[height - 1 - y][3 * x : 3 * x + 3]) for y in range(height))))
    return height, width, out


def s15f16(v):
    return struct.pack(">i", round(v * 65536))


def icc_swapped():
    """An ICC v2 RGB display profile: sRGB's D50 colorants with red and blue swapped."""
    def xyz(x, y, z):
        return b"XYZ \0\0\0\0" + s15f16(x) + s15f16(y) + s15f16(z)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0"  # gamma 2.2, padded
    desc_text = b"imgedge swapped R/B\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(desc_text)) + desc_text + b"\0" * 79
    desc += b"\0" * (-len(desc) % 4)
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.1431, 0.0606, 0.7141)),  # sRGB's blue
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.4360, 0.2225, 0.0139)),  # sRGB's red
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\0\0\0\0CC0\0"),
    ]
    table, body, offset = b"", b"", 128 + 4 + 12 * len(tags)
    for sig, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = struct.pack(">I4sI", size, b"none", 0x02100000) + b"mntrRGB XYZ "
    header += struct.pack(">6H", 2023, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24
    header += struct.pack(">I", 0) + s15f16(0.9642) + s15f16(1.0) + s15f16(0.8249)
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + body


def boxes(data, at, end):
    while at < end:
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        yield at, size, kind
        at += size


def add_irot(data, angle):
    """Adds an `irot` property to the primary item. heif-enc 1.15 stores an odd-sized image
    as a grid of one tile (item 1, `hvc1`) cropped by the grid (item 2, the primary, its
    descriptor in `idat`): the rotation goes on the grid."""
    data = bytearray(data)
    meta = next(b for b in boxes(data, 0, len(data)) if b[2] == b"meta")
    inside = list(boxes(data, meta[0] + 12, meta[0] + meta[1]))
    pitm = next(b for b in inside if b[2] == b"pitm")
    (primary,) = struct.unpack(">H", data[pitm[0] + 12 : pitm[0] + 14])
    iprp = next(b for b in inside if b[2] == b"iprp")
    ipco, ipma = list(boxes(data, iprp[0] + 8, iprp[0] + iprp[1]))[:2]
    assert (ipco[2], ipma[2]) == (b"ipco", b"ipma")
    count = len(list(boxes(data, ipco[0] + 8, ipco[0] + ipco[1])))
    assert data[ipma[0] + 8] == 0 and not data[ipma[0] + 11] & 1  # u16 ids, u8 associations
    (entries,) = struct.unpack(">I", data[ipma[0] + 12 : ipma[0] + 16])
    entry = ipma[0] + 16
    for _ in range(entries):
        (item,), n = struct.unpack(">H", data[entry : entry + 2]), data[entry + 2]
        if item == primary:
            data[entry + 2] = n + 1
            data[entry + 3 + n : entry + 3 + n] = bytes([0x80 | (count + 1)])  # essential
            break
        entry += 3 + n
    else:
        raise AssertionError("no ipma entry for the primary item")
    irot = struct.pack(">I4sB", 9, b"irot", angle)
    data[ipco[0] + ipco[1] : ipco[0] + ipco[1]] = irot
    grown = len(irot) + 1
    for at, size in ((meta[0], meta[1] + grown), (iprp[0], iprp[1] + grown)):
        struct.pack_into(">I", data, at, size)
    struct.pack_into(">I", data, ipco[0], ipco[1] + len(irot))
    struct.pack_into(">I", data, ipma[0] + len(irot), ipma[1] + 1)  # after the irot now
    # Items stored in `mdat`, after `meta`, move by as much; those in `idat` do not.
    iloc = next(b for b in inside if b[2] == b"iloc")
    at = iloc[0] + 8
    version = data[at]
    assert version in (0, 1)
    off_size, len_size, base_size = data[at + 4] >> 4, data[at + 4] & 15, data[at + 5] >> 4
    index_size = data[at + 5] & 15 if version == 1 else 0
    (items,) = struct.unpack(">H", data[at + 6 : at + 8])
    at += 8
    width = {4: ">I", 8: ">Q"}
    for _ in range(items):
        at += 2
        method = 0
        if version == 1:
            method = struct.unpack(">H", data[at : at + 2])[0] & 15
            at += 2
        at += 2
        in_file = method == 0
        if base_size:
            (base,) = struct.unpack_from(width[base_size], data, at)
            if in_file:
                struct.pack_into(width[base_size], data, at, base + grown)
        at += base_size
        (extents,) = struct.unpack(">H", data[at : at + 2])
        at += 2
        for _ in range(extents):
            at += index_size
            if in_file and not base_size:
                (offset,) = struct.unpack_from(width[off_size], data, at)
                struct.pack_into(width[off_size], data, at, offset + grown)
            at += off_size + len_size
    return bytes(data)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        png = os.path.join(tmp, "detail.png")
        subprocess.run(["heif-convert", "detail.heic", png], check=True, capture_output=True)
        w, h, rows = halve(*read_png(png))

        tw, th, turned = turn_clockwise(w, h, rows)
        write_png(os.path.join(tmp, "turned.png"), tw, th, turned)
        out = os.path.join(tmp, "turned.heic")
        subprocess.run(["heif-enc", "-q", "50", "-o", out, os.path.join(tmp, "turned.png")], check=True, capture_output=True)
        open("rotated-irot.heic", "wb").write(add_irot(open(out, "rb").read(), 1))

        swapped = [bytearray(b"".join(bytes((r[i + 2], r[i + 1], r[i])) for i in range(0, len(r), 3))) for r in rows]
        write_png(os.path.join(tmp, "swapped.png"), w, h, swapped, icc_swapped())
        subprocess.run(["heif-enc", "-q", "50", "-o", "swapped-icc.heic", os.path.join(tmp, "swapped.png")], check=True, capture_output=True)
    subprocess.run(["heif-enc", "-q", "25", "-o", "oriented-6-exif.heic", "oriented-6-gps.jpg"], check=True, capture_output=True)


if __name__ == "__main__":
    main()
