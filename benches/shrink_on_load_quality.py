"""What each shrink-on-load policy costs in image quality, on the benchmark corpus.

For every photo of at least 2400 pixels and the widths 640, 800 and 1200, renders the
resize three ways with pyvips (Lanczos 3, as imgedge's engine): from the whole decoded
image (the reference), and from the JPEG decoded at the factor of each policy of
`ShrinkOnLoad` (crates/imgedge-engine/src/lib.rs). Prints, per policy, the PSNR against the reference
(higher is closer; identical renders are left out), beside the PSNR that WebP at quality 80
(imgedge's default) costs the reference itself: the error every variant has anyway.

    python3 benches/shrink_on_load_quality.py [CORPUS_DIR]
"""

import glob
import math
import os
import statistics
import sys

import pyvips

# Each factor with the least shrink that takes it, as crates/imgedge-engine/src/pipeline.rs has them.
POLICIES = {
    "fast": [(8, 16), (4, 4), (2, 2)],
    "margin": [(8, 16), (4, 8), (2, 4)],
}
WIDTHS = [640, 800, 1200]


def psnr(a, b):
    width, height = min(a.width, b.width), min(a.height, b.height)
    diff = a.crop(0, 0, width, height).cast("float") - b.crop(0, 0, width, height).cast("float")
    mse = (diff * diff).avg()
    return math.inf if mse == 0 else 10 * math.log10(255 * 255 / mse)


def main():
    default = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "imgedge/corpus")
    corpus = sys.argv[1] if len(sys.argv) > 1 else default
    pyvips.cache_set_max(0)
    scores = {name: [] for name in POLICIES}
    webp = []
    photos = 0
    for path in sorted(glob.glob(os.path.join(corpus, "*.jpg"))):
        data = open(path, "rb").read()
        whole = pyvips.Image.new_from_buffer(data, "")
        if whole.width < 2400:
            continue
        photos += 1
        for width in WIDTHS:
            reference = whole.resize(width / whole.width, kernel="lanczos3")
            webp.append(psnr(pyvips.Image.new_from_buffer(reference.webpsave_buffer(Q=80), ""), reference))
            for name, thresholds in POLICIES.items():
                factor = next((f for f, least in thresholds if whole.width / width >= least), 1)
                if factor == 1:
                    continue
                shrunk = pyvips.Image.new_from_buffer(data, "", shrink=factor)
                scores[name].append(psnr(shrunk.resize(width / shrunk.width, kernel="lanczos3"), reference))

    print(f"{photos} photos of {corpus} at widths {', '.join(map(str, WIDTHS))}; "
          f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}\n")
    print("| against a resize of the whole image | renders shrunk on load | PSNR median | PSNR lowest |")
    print("|---|---|---|---|")
    for name, values in scores.items():
        print(f"| `{name}` policy | {len(values)} | {statistics.median(values):.1f} dB | {min(values):.1f} dB |")
    print(f"| WebP at quality 80 (every variant) | {len(webp)} | {statistics.median(webp):.1f} dB | {min(webp):.1f} dB |")


if __name__ == "__main__":
    main()
