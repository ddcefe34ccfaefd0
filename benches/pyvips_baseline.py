"""libvips called directly, in process: the baseline for benches/engine.rs.

Does exactly what imgedge's engine does for `width=800&format=webp` on a JPEG: thumbnail
from the buffer (shrink-on-load, EXIF orientation), then WebP at quality 80 with metadata
stripped. Prints one JSON line: the median and mean time per render in milliseconds.
"""

import json
import statistics
import sys
import time

import pyvips


def main() -> None:
    path, width = sys.argv[1], int(sys.argv[2])
    iterations = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    data = open(path, "rb").read()
    # Same libvips settings as the engine: no operation cache, default concurrency.
    pyvips.cache_set_max(0)
    pyvips.cache_set_max_mem(0)
    pyvips.cache_set_max_files(0)

    def render() -> bytes:
        image = pyvips.Image.thumbnail_buffer(data, width, height=10_000_000, size="down", fail_on="error")
        return image.webpsave_buffer(Q=80, strip=True)

    for _ in range(3):
        render()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        render()
        times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({
        "median_ms": round(statistics.median(times), 2),
        "mean_ms": round(statistics.mean(times), 2),
        "iterations": iterations,
        "libvips": pyvips.version(0) and f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}",
    }))


if __name__ == "__main__":
    main()
