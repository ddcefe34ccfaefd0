"""libvips called directly, in process: the baseline for benches/engine.rs and
scripts/bench-peers.

Does exactly what imgedge's engine does for `width=800&format=webp` (or `format=avif`) on a
JPEG: decode with shrink-on-load at the engine's factor (its default policy, `fast`, or
`margin`, thumbnail's own; see `ShrinkOnLoad` in crates/imgedge-engine/src/lib.rs), EXIF
orientation and resize by thumbnail, then WebP at quality 80 (or AVIF at quality 80, AV1
effort 3, the engine's `avif_effort`) with metadata stripped. Prints one JSON line: the
median and mean time per render in milliseconds.

    pyvips_baseline.py PHOTO WIDTH [ITERATIONS] [fast|margin] [webp|avif]
"""

import json
import statistics
import sys
import time

import pyvips


def main() -> None:
    path, width = sys.argv[1], int(sys.argv[2])
    iterations = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    policy = sys.argv[4] if len(sys.argv) > 4 else "fast"
    output = sys.argv[5] if len(sys.argv) > 5 else "webp"
    if output not in ("webp", "avif"):
        sys.exit(f"pyvips_baseline.py: format {output!r} is not webp or avif")
    data = open(path, "rb").read()
    source_width = pyvips.Image.new_from_buffer(data, "").width
    # Each factor with the least shrink that takes it, as crates/imgedge-engine/src/pipeline.rs has them.
    thresholds = [(8, 16), (4, 4), (2, 2)] if policy == "fast" else [(8, 16), (4, 8), (2, 4)]
    shrink = next((f for f, least in thresholds if source_width / width >= least), 1)
    # Same libvips settings as the engine: no operation cache, default concurrency.
    pyvips.cache_set_max(0)
    pyvips.cache_set_max_mem(0)
    pyvips.cache_set_max_files(0)

    def render() -> bytes:
        if policy == "fast" and shrink > 1:
            loaded = pyvips.Image.new_from_buffer(data, "", shrink=shrink, access="sequential", fail_on="error")
            image = loaded.thumbnail_image(width, height=10_000_000, size="down")
        else:
            image = pyvips.Image.thumbnail_buffer(data, width, height=10_000_000, size="down", fail_on="error")
        if output == "avif":
            # Chroma subsampling left to libvips (4:2:0 below quality 90), as the engine does.
            return image.heifsave_buffer(Q=80, compression="av1", effort=3, strip=True)
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
        "shrink_on_load": policy,
        "format": output,
        "libvips": pyvips.version(0) and f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}",
    }))


if __name__ == "__main__":
    main()
