#!/usr/bin/env python3
"""Reference implementation of transform URLs v1.1 and generator of the shared vectors.

This file is an independent, deliberately plain implementation of the contract in
`transform-url-v1` and `transform-url-v1.1` (the spec) together with the project's
interpretation decisions (written up in docs/transform-urls.md). It writes
`testdata/url-vectors.json`, the file that every implementation (Rust, the Lambda@Edge
functions, the web client, the TypeScript package) tests against.

Usage (Python 3.11, needs the `blake3` package):

    python3 testdata/gen_url_vectors.py           # (re)write testdata/url-vectors.json
    python3 testdata/gen_url_vectors.py --check   # exit 1 if the committed file is stale

Every vector below states the outcome its author expects; the generator computes the
outcome with the implementation in this file and refuses to write anything if the two
disagree. Signatures are always computed, never written by hand.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import blake3

# ---------------------------------------------------------------------------
# The contract
# ---------------------------------------------------------------------------

SPEC = "transform-url-v1.1"

# Parameter names in canonical order (v1.1's "Canonical order").
PARAMS = [
    "crop",
    "width",
    "height",
    "dpr",
    "fit",
    "gravity",
    "rotate",
    "flip",
    "mirror",
    "grayscale",
    "blur",
    "sharpen",
    "background",
    "quality",
    "palette",
    "format",
    "watermarkText",
]

FITS = {"cover", "contain", "fill", "inside", "outside"}
BOOLEANS = {"1": True, "true": True, "0": False, "false": False}
FORMATS = {
    "jpeg": "jpeg", "jpg": "jpeg", "png": "png", "webp": "webp", "avif": "avif", "auto": "auto",
}
GRAVITY_WORDS = {
    "center", "centre", "north", "northeast", "east", "southeast", "south", "southwest",
    "west", "northwest", "attention", "entropy",
}
DEFAULT_QUALITY = 80
MAX_DIMENSION = 8192
MAX_WATERMARK_CHARS = 64
MAX_CROP = 65535

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1

# Bytes that stay literal in a canonical watermarkText value.
UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SIG_RE = re.compile(r"[A-Za-z0-9_-]{22}")
INTEGER_RE = re.compile(r"-?[0-9]+")
DECIMAL_RE = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")
COLOUR_RE = re.compile(r"[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?")
# All regular expressions are applied with fullmatch(): `$` would accept a trailing "\n".

# Decisions 1 and 10 disagree on whether empty pieces (`&&`, a leading or trailing `&`)
# make a query non-canonical. Decision 10 defines the check precisely (empty pieces are
# removed from the filtered query, with `utm_source=x&&width=800` as a worked example of
# a canonical query), and only that reading can hold behind CloudFront, which forwards
# only the table's names and so never shows empty pieces to the code behind it.
# Set to True to follow decision 1's wording instead (empty pieces force a 301).
EMPTY_PIECES_BREAK_CANONICAL = False


class UrlError(Exception):
    """An invalid URL: answered 400 with {"error": code, "message": ...}."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------------------
# Query decoding
# ---------------------------------------------------------------------------

HEX = "0123456789abcdefABCDEF"


def form_decode(raw: str) -> str | None:
    """Decode one name or value: `+` is a space, `%XX` in either hex case.

    Returns None when the text has a malformed escape or decodes to bytes that are
    not UTF-8.
    """
    out = bytearray()
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "+":
            out += b" "
            i += 1
        elif ch == "%":
            pair = raw[i + 1 : i + 3]
            if len(pair) != 2 or pair[0] not in HEX or pair[1] not in HEX:
                return None
            out.append(int(pair, 16))
            i += 3
        else:
            out += ch.encode("utf-8")
            i += 1
    try:
        return bytes(out).decode("utf-8")  # strict: rejects overlongs and surrogates
    except UnicodeDecodeError:
        return None


@dataclass
class Pair:
    raw: str  # the piece exactly as it appeared in the query
    name: str  # decoded name, one of PARAMS
    raw_value: str  # the value, still encoded


def known_pairs(query: str) -> tuple[list[Pair], bool]:
    """Split a raw query into its known pairs; unknown pairs are dropped unread.

    Also returns whether the query had empty pieces.
    """
    pairs = []
    had_empty_piece = False
    for piece in query.split("&"):
        if piece == "":
            had_empty_piece = True
            continue
        raw_name, _, raw_value = piece.partition("=")
        name = form_decode(raw_name)
        if name in PARAMS:
            pairs.append(Pair(raw=piece, name=name, raw_value=raw_value))
    return pairs, had_empty_piece


# ---------------------------------------------------------------------------
# Value validation: each returns the canonical value, or None when it is omitted
# ---------------------------------------------------------------------------


def parse_integer(name: str, value: str) -> int:
    if not INTEGER_RE.fullmatch(value):
        raise UrlError("bad_value", f"{name} must be an integer")
    negative = value.startswith("-")
    digits = value.lstrip("-").lstrip("0") or "0"
    if len(digits) > 19:  # longer than any i64, and too long for int() to be wise
        raise UrlError("out_of_range", f"{name} is too large")
    number = -int(digits) if negative else int(digits)
    if not I64_MIN <= number <= I64_MAX:
        raise UrlError("out_of_range", f"{name} is too large")
    return number


def check_dimension(name: str, value: str) -> str:
    number = parse_integer(name, value)
    if not 1 <= number <= MAX_DIMENSION:
        raise UrlError("out_of_range", f"{name} must be between 1 and {MAX_DIMENSION}")
    return str(number)


def check_fit(value: str) -> str:
    if value not in FITS:
        raise UrlError("bad_value", "fit must be one of cover, contain, fill, inside, outside")
    return value  # whether it is kept depends on width and height: see canonicalise()


def check_rotate(value: str) -> str | None:
    degrees = parse_integer("rotate", value) % 360  # Python's % is rem_euclid for 360
    return str(degrees) if degrees != 0 else None


def check_boolean(name: str, value: str) -> str | None:
    if value not in BOOLEANS:
        raise UrlError("bad_value", f"{name} must be 1, true, 0 or false")
    return "1" if BOOLEANS[value] else None


def parse_decimal(name: str, value: str, places: int, limit: str) -> int:
    """A decimal `-?[0-9]+(.[0-9]+)?`, rounded half-up to `places` fractional digits.

    Returns the rounded value times 10**places. The rounding works on the decimal digits
    themselves, never through binary floating point (`1.05` is 1.1, `2.25` is 2.3). A
    leading `-` on a well-formed decimal is out_of_range, even `-0`. `limit` is the
    human-readable range for messages.
    """
    match = DECIMAL_RE.fullmatch(value)
    if not match:
        raise UrlError("bad_value", f"{name} must be a decimal number such as 2 or 2.5")
    return round_decimal(name, match, places, limit)


def round_decimal(name: str, match: re.Match, places: int, limit: str) -> int:
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    if sign:
        raise UrlError("out_of_range", f"{name} must not be negative")
    whole = whole.lstrip("0") or "0"
    if len(whole) > 4:  # every range of a decimal ends at 100 or below
        raise UrlError("out_of_range", f"{name} must be {limit}")
    fraction = fraction.ljust(places + 1, "0")
    scaled = int(whole) * 10**places + int(fraction[:places] or "0")
    if fraction[places] >= "5":  # half-up: only the first dropped digit matters
        scaled += 1
    return scaled


def shortest_decimal(scaled: int, places: int) -> str:
    """`scaled / 10**places` in its shortest form: `2`, `2.5`, `0.25`, `0.001`."""
    whole, fraction = divmod(scaled, 10**places)
    if fraction == 0:
        return str(whole)
    return f"{whole}.{fraction:0{places}d}".rstrip("0")


def check_blur(value: str) -> str | None:
    tenths = parse_decimal("blur", value, 1, "0 or between 0.3 and 100")
    if tenths == 0:
        return None
    if tenths < 3 or tenths > 1000:
        raise UrlError("out_of_range", "blur must be 0 or between 0.3 and 100")
    return shortest_decimal(tenths, 1)


def check_sharpen(value: str) -> str | None:
    tenths = parse_decimal("sharpen", value, 1, "0 or between 0.3 and 10")
    if tenths == 0:
        return None
    if tenths < 3 or tenths > 100:
        raise UrlError("out_of_range", "sharpen must be 0 or between 0.3 and 10")
    return shortest_decimal(tenths, 1)


def check_dpr(value: str) -> str | None:
    """dpr: 1..=4 after rounding to 0.1; None when it rounds to 1.

    Whether it is kept also depends on width and height: see canonicalise().
    """
    tenths = parse_decimal("dpr", value, 1, "between 1 and 4")
    if not 10 <= tenths <= 40:
        raise UrlError("out_of_range", "dpr must be between 1 and 4")
    return shortest_decimal(tenths, 1) if tenths != 10 else None


def check_crop(value: str) -> str:
    """crop: `x,y,w,h`. The shape of the whole value first (bad_value), then the ranges."""
    parts = value.split(",")
    if len(parts) != 4 or not all(INTEGER_RE.fullmatch(part) for part in parts):
        raise UrlError("bad_value", "crop must be four integers x,y,w,h")
    numbers = []
    for index, part in enumerate(parts):
        low = 0 if index < 2 else 1
        if part.startswith("-"):  # even -0: a leading - is out_of_range
            raise UrlError("out_of_range", "crop's numbers must not be negative")
        digits = part.lstrip("0") or "0"
        if len(digits) > 5 or not low <= int(digits) <= MAX_CROP:
            raise UrlError(
                "out_of_range", f"crop's x and y must be 0..{MAX_CROP}, w and h 1..{MAX_CROP}"
            )
        numbers.append(int(digits))
    return ",".join(str(number) for number in numbers)


def check_gravity(value: str) -> str | None:
    """gravity: a word or a focal point `X,Y`; None for the centre, however written.

    Whether it is kept also depends on width, height and fit: see canonicalise().
    """
    if value in GRAVITY_WORDS:
        return None if value in ("center", "centre") else value
    parts = value.split(",")
    matches = [DECIMAL_RE.fullmatch(part) for part in parts]
    if len(parts) != 2 or not all(matches):
        raise UrlError("bad_value", "gravity must be a compass word, attention, entropy or X,Y")
    thousandths = [round_decimal("gravity", match, 3, "between 0 and 1") for match in matches]
    if any(coordinate > 1000 for coordinate in thousandths):
        raise UrlError("out_of_range", "gravity's X and Y must be between 0 and 1")
    if thousandths == [500, 500]:
        return None
    return ",".join(shortest_decimal(coordinate, 3) for coordinate in thousandths)


def check_background(value: str) -> str:
    if not COLOUR_RE.fullmatch(value):
        raise UrlError("bad_value", "background must be RRGGBB or RRGGBBAA in hex, without #")
    colour = value.lower()  # ASCII only: the pattern allows hex digits and nothing else
    if len(colour) == 8 and colour.endswith("ff"):
        colour = colour[:6]
    return colour


def check_quality(value: str) -> str | None:
    quality = parse_integer("quality", value)
    if not 1 <= quality <= 100:
        raise UrlError("out_of_range", "quality must be between 1 and 100")
    return str(quality) if quality != DEFAULT_QUALITY else None


def check_format(value: str) -> str:
    if value not in FORMATS:
        raise UrlError("bad_value", "format must be one of jpeg, jpg, png, webp, avif, auto")
    return FORMATS[value]


def is_control(ch: str) -> bool:
    """Unicode general category Cc: U+0000-U+001F and U+007F-U+009F."""
    return ord(ch) <= 0x1F or 0x7F <= ord(ch) <= 0x9F


def percent_encode(text: str) -> str:
    return "".join(
        chr(byte) if byte in UNRESERVED else f"%{byte:02X}" for byte in text.encode("utf-8")
    )


def check_watermark(value: str) -> str | None:
    text = unicodedata.normalize("NFC", value)
    if any(is_control(ch) for ch in text):
        raise UrlError("bad_value", "watermarkText must not contain control characters")
    if text == "":
        return None
    if len(text) > MAX_WATERMARK_CHARS:  # a Python str is a sequence of scalar values
        raise UrlError("out_of_range", f"watermarkText is longer than {MAX_WATERMARK_CHARS} characters")
    return percent_encode(text)


def check_value(name: str, value: str) -> str | None:
    if name == "crop":
        return check_crop(value)
    if name in ("width", "height"):
        return check_dimension(name, value)
    if name == "dpr":
        return check_dpr(value)
    if name == "fit":
        return check_fit(value)
    if name == "gravity":
        return check_gravity(value)
    if name == "rotate":
        return check_rotate(value)
    if name in ("flip", "mirror", "grayscale", "palette"):
        return check_boolean(name, value)
    if name == "blur":
        return check_blur(value)
    if name == "sharpen":
        return check_sharpen(value)
    if name == "background":
        return check_background(value)
    if name == "quality":
        return check_quality(value)
    if name == "format":
        return check_format(value)
    if name == "watermarkText":
        return check_watermark(value)
    raise AssertionError(name)


# ---------------------------------------------------------------------------
# Parse, canonicalise, sign
# ---------------------------------------------------------------------------


@dataclass
class Parsed:
    values: dict[str, str | None]  # canonical value per given parameter (None: omitted)
    canonical_query: str
    is_canonical: bool


def parse(query: str) -> Parsed:
    """Parse a raw query (without `?`). Raises UrlError for an invalid query."""
    pairs, had_empty_piece = known_pairs(query)

    seen = set()
    for pair in pairs:
        if pair.name in seen:
            raise UrlError("duplicate_param", f"{pair.name} is given more than once")
        seen.add(pair.name)

    values = {}
    for pair in pairs:  # in query order: the first failure wins
        value = form_decode(pair.raw_value)
        if value is None:
            raise UrlError("bad_value", f"{pair.name} has a malformed escape or is not UTF-8")
        values[pair.name] = check_value(pair.name, value)

    canonical_query = canonicalise(values)
    filtered_query = "&".join(pair.raw for pair in pairs)
    is_canonical = filtered_query == canonical_query
    if EMPTY_PIECES_BREAK_CANONICAL and had_empty_piece:
        is_canonical = False
    return Parsed(values=values, canonical_query=canonical_query, is_canonical=is_canonical)


def canonicalise(values: dict[str, str | None]) -> str:
    """Join the canonical values in canonical order, leaving out omitted ones.

    Every value has been validated already; this only decides what is kept.
    """
    kept = dict(values)
    both = "width" in kept and "height" in kept
    effective_fit = kept.get("fit", "cover") if both else None
    if kept.get("fit") == "cover" or not both:
        kept.pop("fit", None)
    if effective_fit != "cover":  # gravity only steers a cover resize of both dimensions
        kept.pop("gravity", None)
    if not ("width" in kept or "height" in kept):  # dpr only multiplies width and height
        kept.pop("dpr", None)
    return "&".join(f"{name}={kept[name]}" for name in PARAMS if kept.get(name) is not None)


def url_key(url_secret: bytes, image_id: str, epoch: int = 0) -> bytes:
    """The image's key at a key epoch: epoch 0 is v1's; epoch e >= 1 hashes `{image_id}:{e}`."""
    message = image_id if epoch == 0 else f"{image_id}:{epoch}"
    return blake3.blake3(message.encode("ascii"), key=url_secret).digest()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def sign(key: bytes, canonical_query: str) -> str:
    return b64url(blake3.blake3(canonical_query.encode("utf-8"), key=key).digest()[:16])


def variant_path(image_id: str, sig: str, canonical_query: str) -> str:
    path = f"/i/{image_id}/{sig}"
    return f"{path}?{canonical_query}" if canonical_query else path


def is_well_formed_sig(sig: str) -> bool:
    """22 base64url characters, and the unused low 4 bits of the last one are zero."""
    if not SIG_RE.fullmatch(sig):
        return False
    return b64url(base64.urlsafe_b64decode(sig + "==")) == sig


# ---------------------------------------------------------------------------
# format=auto: accept classes, cache keys, S3 keys
# ---------------------------------------------------------------------------

# An RFC 9110 qvalue equal to zero: 0, 0., 0.0, 0.00, 0.000.
ZERO_QVALUE_RE = re.compile(r"0(?:\.0{0,3})?")
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    return text.translate(ASCII_LOWER)  # str.lower() would also fold non-ASCII letters


def accept_class(accept: str | None) -> str:
    """Reduce an Accept header (None: no header) to `avif`, `webp` or `basic`."""
    if not accept:
        return "basic"
    listed = set()
    for element in accept.split(","):
        media_type, *parameters = element.split(";")
        media_type = ascii_lower(media_type.strip(" \t"))
        refused = False
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if ascii_lower(name.strip(" \t")) == "q" and ZERO_QVALUE_RE.fullmatch(
                value.strip(" \t")
            ):
                refused = True  # q=0: "not acceptable", so not listed
        if not refused:
            listed.add(media_type)
    if "image/avif" in listed:
        return "avif"
    if "image/webp" in listed:
        return "webp"
    return "basic"


def request_class(canonical_query: str, accept: str | None) -> str | None:
    """The accept class of a request, or None for a URL without format=auto.

    A client's own X-Imgedge-Accept header is no input: the edge always computes it.
    """
    if "format=auto" not in canonical_query.split("&"):
        return None
    return accept_class(accept)


def cache_key(image_id: str, sig: str, canonical_query: str, klass: str | None) -> str:
    path = variant_path(image_id, sig, canonical_query)
    return f"{path}|{klass}" if klass else path


def s3_key(image_id: str, sig: str, klass: str | None) -> str:
    return f"v/{image_id}/{sig}.{klass}" if klass else f"v/{image_id}/{sig}"


@dataclass
class Response:
    status: int
    error: str | None = None
    location: str | None = None


def handle_request(url_secret: bytes, path: str, query: str) -> Response:
    """What an edge answers for `path?query` (decisions 11 and 12).

    The path is `/i/{image_id}/{sig}`; the sig is everything after the second slash,
    so a sig containing `/` is a bad sig rather than a different route.
    """
    if not path.startswith("/i/") or "/" not in path[3:]:
        raise ValueError(f"not a transform path: {path}")
    image_id, _, sig = path[3:].partition("/")
    try:
        if not UUID_RE.fullmatch(image_id):
            raise UrlError("bad_image_id", "the image id must be a lowercase hyphenated UUID")
        if not is_well_formed_sig(sig):
            raise UrlError("bad_sig", "the signature must be 22 base64url characters")
        parsed = parse(query)
    except UrlError as err:
        return Response(400, error=err.code)
    if not parsed.is_canonical:
        return Response(301, location=variant_path(image_id, sig, parsed.canonical_query))
    expected = sign(url_key(url_secret, image_id), parsed.canonical_query)
    if not hmac.compare_digest(sig, expected):
        return Response(403)
    return Response(200)


# ---------------------------------------------------------------------------
# The vectors
# ---------------------------------------------------------------------------

URL_SECRET = bytes(range(32))
IMAGE_IDS = [
    "7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01",
    "c0ffee00-1234-4abc-8def-0123456789ab",
    "00000000-0000-0000-0000-000000000000",
]
A, B, C = IMAGE_IDS

ALL_CANONICAL = (
    "width=800&height=600&fit=inside&rotate=90&flip=1&mirror=1&grayscale=1"
    "&blur=2.5&quality=75&format=webp&watermarkText=%C2%A9%20Ana%20L%C3%B3pez"
)


def pct(text: str) -> str:
    """Canonical percent-encoding of text (used to write long watermark inputs)."""
    return percent_encode(text)


# Each entry: (name, rule, query, expected, image_id)
#   expected is "=" (the query is canonical), "-> CANONICAL" (redirect), or "! CODE".
CASES: list[tuple[str, str, str, str, str]] = []


def case(name: str, rule: str, query: str, expected: str, image_id: str = A) -> None:
    CASES.append((name, rule, query, expected, image_id))


def build_cases() -> None:
    # --- shape and empty query ---------------------------------------------------------
    case("empty-query", "no parameters: the original, signed over the empty string", "", "=")
    case("empty-query-image-b", "url_key differs per image", "", "=", B)
    case("empty-query-image-c", "url_key differs per image", "", "=", C)
    case("width-800-image-b", "same query, other image: other sig", "width=800", "=", B)
    case("width-800-image-c", "same query, other image: other sig", "width=800", "=", C)

    # --- width / height ----------------------------------------------------------------
    r = "width: integer 1..=8192, decimal without sign or leading zeros"
    case("width-1", r, "width=1", "=")
    case("width-800", r, "width=800", "=")
    case("width-8192", r, "width=8192", "=")
    case("width-8193", r, "width=8193", "! out_of_range")
    case("width-0", r, "width=0", "! out_of_range")
    case("width-negative", r, "width=-5", "! out_of_range")
    case("width-minus-zero", r, "width=-0", "! out_of_range")
    case("width-leading-zero", r + "; leading zeros are non-canonical", "width=0800", "-> width=800")
    case("width-many-leading-zeros", r + "; leading zeros are non-canonical",
         "width=00000000000000000000000000000800", "-> width=800")
    case("width-i64-max", r, "width=9223372036854775807", "! out_of_range")
    case("width-i64-overflow", "integers too large for i64 are out_of_range",
         "width=99999999999999999999", "! out_of_range")
    case("width-empty", "integers must match ^-?[0-9]+$", "width=", "! bad_value")
    case("width-no-equals", "a piece without = has the empty value", "width", "! bad_value")
    case("width-plus-sign", "+ decodes to a space, so +800 is ' 800'", "width=+800", "! bad_value")
    case("width-escaped-plus-sign", "integers must match ^-?[0-9]+$ (no + sign)", "width=%2B800",
         "! bad_value")
    case("width-decimal", "integers must match ^-?[0-9]+$", "width=800.0", "! bad_value")
    case("width-hex", "integers must match ^-?[0-9]+$", "width=0x20", "! bad_value")
    case("width-letters", "integers must match ^-?[0-9]+$", "width=abc", "! bad_value")
    case("width-leading-space", "integers must match ^-?[0-9]+$", "width=%20800", "! bad_value")
    case("width-trailing-newline", "integers must match the whole value (no trailing newline)",
         "width=800%0A", "! bad_value")
    case("width-arabic-indic-digit", "only ASCII digits", "width=%D9%A1", "! bad_value")
    case("width-fullwidth-digits", "only ASCII digits", "width=%EF%BC%98%EF%BC%90%EF%BC%90",
         "! bad_value")
    case("width-escaped-digits", "values are percent-decoded; escapes are non-canonical",
         "width=%38%30%30", "-> width=800")
    r = "height: integer 1..=8192, as width"
    case("height-1", r, "height=1", "=")
    case("height-600", r, "height=600", "=")
    case("height-8192", r, "height=8192", "=")
    case("height-8193", r, "height=8193", "! out_of_range")
    case("height-0", r, "height=0", "! out_of_range")
    case("height-leading-zero", r, "height=007", "-> height=7")
    case("width-and-height", "canonical order: width before height", "width=800&height=600", "=")
    case("height-before-width", "wrong parameter order is non-canonical",
         "height=600&width=800", "-> width=800&height=600")

    # --- fit -----------------------------------------------------------------------------
    r = "fit: kept only when width and height are both present and fit is not cover"
    for fit in ("contain", "fill", "inside", "outside"):
        case(f"fit-{fit}", r, f"width=800&height=600&fit={fit}", "=")
    case("fit-cover-dropped", "fit=cover is the default and omitted",
         "width=800&height=600&fit=cover", "-> width=800&height=600")
    case("fit-width-only", r, "width=800&fit=contain", "-> width=800")
    case("fit-height-only", r, "height=600&fit=fill", "-> height=600")
    case("fit-alone", r, "fit=inside", "-> ")
    case("fit-cover-alone", r, "fit=cover", "-> ")
    case("fit-before-dimensions", "wrong parameter order is non-canonical",
         "fit=contain&width=800&height=600", "-> width=800&height=600&fit=contain")
    r = "fit: exactly cover, contain, fill, inside or outside (case-sensitive)"
    case("fit-unknown-value", r, "width=800&height=600&fit=stretch", "! bad_value")
    case("fit-uppercase", r, "width=800&height=600&fit=Contain", "! bad_value")
    case("fit-empty", r, "width=800&height=600&fit=", "! bad_value")
    case("fit-bad-without-dimensions", "a value is validated even when it would be omitted",
         "fit=stretch", "! bad_value")

    # --- rotate --------------------------------------------------------------------------
    r = "rotate: any i64, canonical value modulo 360 in 1..=359, omitted when 0"
    case("rotate-1", r, "rotate=1", "=")
    case("rotate-90", r, "rotate=90", "=")
    case("rotate-359", r, "rotate=359", "=")
    case("rotate-0", r, "rotate=0", "-> ")
    case("rotate-360", r, "rotate=360", "-> ")
    case("rotate-720", r, "rotate=720", "-> ")
    case("rotate-450", r, "rotate=450", "-> rotate=90")
    case("rotate-minus-90", r + " (rem_euclid: -90 is 270)", "rotate=-90", "-> rotate=270")
    case("rotate-minus-1", r, "rotate=-1", "-> rotate=359")
    case("rotate-minus-360", r, "rotate=-360", "-> ")
    case("rotate-minus-zero", r, "rotate=-0", "-> ")
    case("rotate-leading-zero", r, "rotate=090", "-> rotate=90")
    case("rotate-i64-max", r, "rotate=9223372036854775807", "-> rotate=7")
    case("rotate-i64-min", r, "rotate=-9223372036854775808", "-> rotate=352")
    case("rotate-i64-max-plus-1", "integers too large for i64 are out_of_range",
         "rotate=9223372036854775808", "! out_of_range")
    case("rotate-i64-min-minus-1", "integers too large for i64 are out_of_range",
         "rotate=-9223372036854775809", "! out_of_range")
    case("rotate-huge", "integers too large for i64 are out_of_range",
         "rotate=123456789012345678901234567890", "! out_of_range")
    r = "integers must match ^-?[0-9]+$"
    case("rotate-decimal", r, "rotate=45.5", "! bad_value")
    case("rotate-plus-sign", r + " (+90 decodes to ' 90')", "rotate=+90", "! bad_value")
    case("rotate-double-minus", r, "rotate=--90", "! bad_value")
    case("rotate-empty", r, "rotate=", "! bad_value")

    # --- booleans ----------------------------------------------------------------------
    for flag in ("flip", "mirror", "grayscale"):
        r = f"{flag}: exactly 1, true, 0 or false; true is 1, false is omitted"
        case(f"{flag}-1", r, f"{flag}=1", "=")
        case(f"{flag}-true", r, f"{flag}=true", f"-> {flag}=1")
        case(f"{flag}-0", r, f"{flag}=0", "-> ")
        case(f"{flag}-false", r, f"{flag}=false", "-> ")
        case(f"{flag}-uppercase-true", r + " (case-sensitive)", f"{flag}=TRUE", "! bad_value")
        case(f"{flag}-empty", r, f"{flag}=", "! bad_value")
    r = "booleans: exactly 1, true, 0 or false"
    case("flip-no-equals", r + "; a piece without = has the empty value", "flip", "! bad_value")
    case("flip-yes", r, "flip=yes", "! bad_value")
    case("flip-2", r, "flip=2", "! bad_value")
    case("flip-01", r, "flip=01", "! bad_value")
    case("mirror-capitalised", r, "mirror=True", "! bad_value")
    case("flip-mirror-grayscale", "canonical order of the booleans",
         "flip=1&mirror=1&grayscale=1", "=")
    case("booleans-reversed", "wrong parameter order is non-canonical",
         "grayscale=true&mirror=1&flip=true", "-> flip=1&mirror=1&grayscale=1")

    # --- blur ----------------------------------------------------------------------------
    r = "blur: rounded half-up to 0.1 on the decimal digits; 0 omitted; 0.3..=100 valid"
    case("blur-0.3", r, "blur=0.3", "=")
    case("blur-2", r, "blur=2", "=")
    case("blur-2.5", r, "blur=2.5", "=")
    case("blur-100", r, "blur=100", "=")
    case("blur-0", r, "blur=0", "-> ")
    case("blur-0.0", r, "blur=0.0", "-> ")
    case("blur-0.04", r + " (0.04 rounds to 0: omitted)", "blur=0.04", "-> ")
    case("blur-0.05", r + " (0.05 rounds to 0.1)", "blur=0.05", "! out_of_range")
    case("blur-0.1", r, "blur=0.1", "! out_of_range")
    case("blur-0.2", r, "blur=0.2", "! out_of_range")
    case("blur-0.249", r + " (0.249 rounds to 0.2)", "blur=0.249", "! out_of_range")
    case("blur-0.25", r + " (0.25 rounds to 0.3)", "blur=0.25", "-> blur=0.3")
    case("blur-0.30", r, "blur=0.30", "-> blur=0.3")
    case("blur-2.0", r + " (shortest form: 2, never 2.0)", "blur=2.0", "-> blur=2")
    case("blur-2.449", r, "blur=2.449", "-> blur=2.4")
    case("blur-2.45", r + " (exact decimal: 2.45 rounds up)", "blur=2.45", "-> blur=2.5")
    case("blur-0.15", r + " (exact decimal: 0.15 rounds to 0.2)", "blur=0.15", "! out_of_range")
    case("blur-9.95", r + " (carry into the integer part)", "blur=9.95", "-> blur=10")
    case("blur-leading-zero", r + " (integer part without leading zeros)", "blur=02.5",
         "-> blur=2.5")
    case("blur-100.0", r, "blur=100.0", "-> blur=100")
    case("blur-100.04", r + " (100.04 rounds to 100)", "blur=100.04", "-> blur=100")
    case("blur-100.05", r + " (100.05 rounds to 100.1)", "blur=100.05", "! out_of_range")
    case("blur-101", r, "blur=101", "! out_of_range")
    case("blur-huge", r, "blur=99999999999999999999999.5", "! out_of_range")
    case("blur-negative", "blur: a leading - is out_of_range", "blur=-1", "! out_of_range")
    case("blur-minus-zero", "blur: a leading - is out_of_range, even -0", "blur=-0",
         "! out_of_range")
    r = "blur must match ^-?[0-9]+(\\.[0-9]+)?$"
    case("blur-dot-5", r, "blur=.5", "! bad_value")
    case("blur-5-dot", r, "blur=5.", "! bad_value")
    case("blur-exponent", r, "blur=1e3", "! bad_value")
    case("blur-comma", r, "blur=2,5", "! bad_value")
    case("blur-empty", r, "blur=", "! bad_value")
    case("blur-plus-sign", r, "blur=%2B2", "! bad_value")

    # --- quality -------------------------------------------------------------------------
    r = "quality: integer 1..=100, omitted when 80"
    case("quality-1", r, "quality=1", "=")
    case("quality-75", r, "quality=75", "=")
    case("quality-100", r, "quality=100", "=")
    case("quality-80", r + " (80 is the default)", "quality=80", "-> ")
    case("quality-080", r, "quality=080", "-> ")
    case("quality-0", r, "quality=0", "! out_of_range")
    case("quality-101", r, "quality=101", "! out_of_range")
    case("quality-negative", r, "quality=-1", "! out_of_range")
    case("quality-decimal", "integers must match ^-?[0-9]+$", "quality=85.5", "! bad_value")
    case("quality-empty", "integers must match ^-?[0-9]+$", "quality=", "! bad_value")

    # --- format --------------------------------------------------------------------------
    r = "format: exactly jpeg, jpg, png, webp or avif; jpg becomes jpeg"
    for fmt in ("jpeg", "png", "webp", "avif"):
        case(f"format-{fmt}", r, f"format={fmt}", "=")
    case("format-jpg", r, "format=jpg", "-> format=jpeg")
    case("format-uppercase", r + " (case-sensitive)", "format=JPEG", "! bad_value")
    case("format-capitalised", r + " (case-sensitive)", "format=Webp", "! bad_value")
    case("format-gif", r, "format=gif", "! bad_value")
    case("format-trailing-space", r, "format=png+", "! bad_value")
    case("format-empty", r, "format=", "! bad_value")

    # --- watermarkText -------------------------------------------------------------------
    r = "watermarkText: NFC, percent-encoded UTF-8, unreserved bytes literal, %XX uppercase"
    case("wm-ascii", r, "watermarkText=Hello", "=")
    case("wm-space-pct20", r + "; a space is %20", "watermarkText=Hello%20World", "=")
    case("wm-space-plus", "+ means a space when parsing; canonical is %20",
         "watermarkText=Hello+World", "-> watermarkText=Hello%20World")
    case("wm-only-space", "+ means a space; a lone space is a valid watermark",
         "watermarkText=+", "-> watermarkText=%20")
    case("wm-unreserved-literal", r, "watermarkText=AZaz09-._~", "=")
    case("wm-unreserved-escaped", r + "; escaped unreserved bytes are non-canonical",
         "watermarkText=%41%7E%2D", "-> watermarkText=A~-")
    case("wm-reserved", r + "; & = % ? # / + are escaped",
         "watermarkText=%26%3D%25%3F%23%2F%2B", "=")
    case("wm-sub-delims", r + " (! ' ( ) * are escaped too)",
         "watermarkText=%21%27%28%29%2A", "=")
    case("wm-sub-delims-literal", r, "watermarkText=!'()*", "-> watermarkText=%21%27%28%29%2A")
    case("wm-literal-question-mark", r, "watermarkText=a?b", "-> watermarkText=a%3Fb")
    case("wm-lowercase-tilde-escape", r, "watermarkText=%7e", "-> watermarkText=~")
    case("wm-literal-equals", "a value is everything after the first =",
         "watermarkText=a=b", "-> watermarkText=a%3Db")
    case("wm-precomposed", r, "watermarkText=caf%C3%A9", "=")
    case("wm-lowercase-escapes", "escapes are accepted in either case; canonical is uppercase",
         "watermarkText=caf%c3%a9", "-> watermarkText=caf%C3%A9")
    case("wm-decomposed", "watermarkText is NFC-normalised",
         "watermarkText=cafe%CC%81", "-> watermarkText=caf%C3%A9")
    case("wm-angstrom-sign", "watermarkText is NFC-normalised (U+212B becomes U+00C5)",
         "watermarkText=%E2%84%AB", "-> watermarkText=%C3%85")
    case("wm-ohm-sign", "watermarkText is NFC-normalised (U+2126 becomes U+03A9)",
         "watermarkText=%E2%84%A6", "-> watermarkText=%CE%A9")
    case("wm-hangul-jamo", "watermarkText is NFC-normalised (jamo compose to a syllable)",
         "watermarkText=%E1%84%92%E1%85%A1%E1%86%AB", "-> watermarkText=%ED%95%9C")
    case("wm-composition-exclusion", "NFC can decompose (U+0958 becomes U+0915 U+093C)",
         "watermarkText=%E0%A5%98", "-> watermarkText=%E0%A4%95%E0%A4%BC")
    case("wm-cjk", r, "watermarkText=%E6%9D%B1%E4%BA%AC", "=")
    case("wm-emoji", r, "watermarkText=%F0%9F%98%80", "=")
    case("wm-emoji-zwj-sequence", r + " (a ZWJ sequence is 5 scalar values)",
         "watermarkText=%F0%9F%91%A8%E2%80%8D%F0%9F%91%A9%E2%80%8D%F0%9F%91%A7", "=")
    case("wm-nbsp", "U+00A0 is not a control character", "watermarkText=a%C2%A0b", "=")
    case("wm-zero-width-space", "U+200B (Cf) is not a control character",
         "watermarkText=a%E2%80%8Bb", "=")
    case("wm-mixed", r, "watermarkText=%C2%A9%202024%20Ana%20L%C3%B3pez", "=")

    r = "watermarkText: 1..=64 Unicode scalar values after NFC"
    case("wm-64-ascii", r, "watermarkText=" + "a" * 64, "=")
    case("wm-65-ascii", r, "watermarkText=" + "a" * 65, "! out_of_range")
    case("wm-64-emoji", r + " (scalar values, not UTF-16 units or bytes)",
         "watermarkText=" + pct("\U0001F600" * 64), "=")
    case("wm-65-emoji", r, "watermarkText=" + pct("\U0001F600" * 65), "! out_of_range")
    case("wm-33-emoji", r + " (66 UTF-16 units, 33 scalar values)",
         "watermarkText=" + pct("\U0001F600" * 33), "=")
    case("wm-64-cjk", r + " (192 UTF-8 bytes)", "watermarkText=" + pct("\u6771" * 64), "=")
    case("wm-64-after-nfc", r + " (128 scalar values before NFC, 64 after)",
         "watermarkText=" + "e%CC%81" * 64, "-> watermarkText=" + "%C3%A9" * 64)
    case("wm-65-after-nfc", r, "watermarkText=" + "e%CC%81" * 65, "! out_of_range")
    case("wm-empty", "an empty watermarkText is omitted", "watermarkText=", "-> ")
    case("wm-no-equals", "a piece without = has the empty value", "watermarkText", "-> ")
    case("wm-empty-with-width", "an empty watermarkText is omitted",
         "width=800&watermarkText=", "-> width=800")

    r = "watermarkText: no control characters (Unicode Cc)"
    case("wm-control-nul", r, "watermarkText=a%00b", "! bad_value")
    case("wm-control-tab", r, "watermarkText=a%09b", "! bad_value")
    case("wm-control-newline", r, "watermarkText=a%0Ab", "! bad_value")
    case("wm-control-del", r, "watermarkText=a%7Fb", "! bad_value")
    case("wm-control-c1", r + " (U+0085)", "watermarkText=a%C2%85b", "! bad_value")
    case("wm-control-c1-last", r + " (U+009F)", "watermarkText=a%C2%9F", "! bad_value")
    case("wm-control-and-too-long", "control characters are checked before the length",
         "watermarkText=" + "a" * 70 + "%09", "! bad_value")

    r = "a malformed escape or non-UTF-8 bytes in a known pair is bad_value"
    case("wm-invalid-utf8-ff", r, "watermarkText=%FF", "! bad_value")
    case("wm-invalid-utf8-truncated", r, "watermarkText=caf%C3", "! bad_value")
    case("wm-invalid-utf8-continuation", r, "watermarkText=%80", "! bad_value")
    case("wm-invalid-utf8-overlong", r, "watermarkText=%C0%AF", "! bad_value")
    case("wm-invalid-utf8-surrogate", r, "watermarkText=%ED%A0%80", "! bad_value")
    case("wm-malformed-escape", r, "watermarkText=%G1", "! bad_value")
    case("wm-truncated-escape", r, "watermarkText=ab%4", "! bad_value")
    case("wm-lone-percent", r, "watermarkText=100%", "! bad_value")
    case("width-malformed-escape", r, "width=8%G0", "! bad_value")

    # --- unknown parameters --------------------------------------------------------------
    r = "unknown parameters are dropped before anything else, the canonical check included"
    case("unknown-only", r, "utm_source=newsletter", "=")
    case("unknown-after", r, "width=800&utm_source=x", "=")
    case("unknown-before", r, "utm_source=x&width=800", "=")
    case("unknown-between", r, "width=800&utm_source=x&height=600", "=")
    case("unknown-repeated", r + " (unknown names may repeat)", "a=1&a=2&width=800", "=")
    case("unknown-malformed-value", r + " (their values are never decoded)",
         "width=800&x=%G1", "=")
    case("unknown-invalid-utf8-value", r, "x=%FF&width=800", "=")
    case("unknown-malformed-name", r + " (a name with a malformed escape is unknown)",
         "wi%dth=abc&width=800", "=")
    case("unknown-invalid-utf8-name", r, "%FF=1&width=800", "=")
    case("unknown-wrong-case", "names are case-sensitive: Width is unknown", "Width=800", "=")
    case("unknown-uppercase-with-bad-value", "names are case-sensitive", "WIDTH=abc", "=")
    case("unknown-watermark-lowercase", "names are case-sensitive", "watermarktext=hi", "=")
    case("unknown-empty-name", r, "=800&width=800", "=")
    case("unknown-plus-in-name", "+ in a name is a space, so 'wid th' is unknown",
         "wid+th=800", "=")
    case("unknown-then-wrong-order", r + "; the rest is still checked for order",
         "utm_source=x&height=600&width=800", "-> width=800&height=600")
    case("unknown-with-query-error", r + "; known pairs are still validated",
         "utm_source=x&width=0", "! out_of_range")

    # --- percent-encoded names ----------------------------------------------------------
    r = "names are form-decoded; an encoded name is non-canonical"
    case("name-encoded-first-letter", r, "%77idth=800", "-> width=800")
    case("name-encoded-fully", r, "%77%69%64%74%68=800", "-> width=800")
    case("name-encoded-lowercase-hex", r, "watermark%54ext=Hi", "-> watermarkText=Hi")
    case("name-encoded-to-unknown", "an encoded name is decoded, then matched case-sensitively",
         "%57idth=800", "=")

    # --- duplicates ----------------------------------------------------------------------
    r = "a known parameter given twice is duplicate_param"
    case("dup-same-value", r, "width=800&width=800", "! duplicate_param")
    case("dup-different-value", r, "width=800&width=600", "! duplicate_param")
    case("dup-not-adjacent", r, "width=800&height=600&width=800", "! duplicate_param")
    case("dup-second-invalid", r + ", checked before any value", "width=800&width=abc",
         "! duplicate_param")
    case("dup-first-invalid", r + ", checked before any value", "width=abc&width=800",
         "! duplicate_param")
    case("dup-after-other-error", r + ", checked before any value",
         "height=0&width=1&width=2", "! duplicate_param")
    case("dup-malformed-escape", r + ", checked before any value is decoded",
         "width=%G1&width=1", "! duplicate_param")
    case("dup-encoded-name", r + " (names compared after decoding)",
         "width=800&%77idth=800", "! duplicate_param")
    case("dup-omitted-values", r + " (even when both would be omitted)",
         "flip=0&flip=false", "! duplicate_param")
    case("dup-empty-watermark", r, "watermarkText=&watermarkText=", "! duplicate_param")
    case("not-dup-case", "names are case-sensitive: Width is not width",
         "width=800&Width=600", "=")

    # --- order of checks ------------------------------------------------------------------
    r = "values are validated in query order; the first failure wins"
    case("first-failure-range", r, "width=0&height=abc", "! out_of_range")
    case("first-failure-value", r, "height=abc&width=0", "! bad_value")
    case("first-failure-escape", r, "width=%G1&height=0", "! bad_value")
    case("first-failure-escape-second", r, "height=0&width=%G1", "! out_of_range")
    case("error-beats-redirect", "query errors come before the canonical check",
         "height=600&width=8193", "! out_of_range")

    # --- empty pieces --------------------------------------------------------------------
    r = "empty pieces are ignored and removed from the filtered query (decision 10)"
    expected = "-> " if EMPTY_PIECES_BREAK_CANONICAL else "="
    case("empty-piece-only", r, "&", expected)
    case("empty-pieces-only", r, "&&&", expected)
    expected = "-> width=800" if EMPTY_PIECES_BREAK_CANONICAL else "="
    case("empty-piece-leading", r, "&width=800", expected)
    case("empty-piece-trailing", r, "width=800&", expected)
    case("empty-piece-unknown", r + " (the decision's worked example)",
         "utm_source=x&&width=800", expected)
    expected = "-> width=800&height=600" if EMPTY_PIECES_BREAK_CANONICAL else "="
    case("empty-piece-double-amp", r, "width=800&&height=600", expected)
    case("empty-piece-and-wrong-order", r + "; order still matters",
         "height=600&&width=800", "-> width=800&height=600")

    # --- everything at once ---------------------------------------------------------------
    r = "all parameters, in table order"
    case("all-canonical", r, ALL_CANONICAL, "=")
    case("all-canonical-image-b", r, ALL_CANONICAL, "=", B)
    case("all-reversed", "wrong parameter order is non-canonical",
         "&".join(reversed(ALL_CANONICAL.split("&"))), "-> " + ALL_CANONICAL)
    case("all-non-canonical-spellings", "every value in a non-canonical spelling",
         "width=0800&height=600&fit=inside&rotate=-270&flip=true&mirror=true&grayscale=true"
         "&blur=2.45&quality=075&format=webp&watermarkText=%c2%a9+Ana+Lo%CC%81pez",
         "-> " + ALL_CANONICAL)
    case("all-with-defaults", "defaults are omitted: fit=cover, rotate=0, false, blur 0, quality 80",
         "width=800&height=600&fit=cover&rotate=0&flip=0&mirror=false&grayscale=0"
         "&blur=0&quality=80&format=jpg&watermarkText=",
         "-> width=800&height=600&format=jpeg")
    case("all-defaults-no-size", "fit is omitted without both width and height",
         "fit=contain&rotate=360&flip=false&blur=0.0&quality=80", "-> ")

    build_cases_v1_1()


# v1.1: every parameter, in canonical order; gravity is kept since the fit is cover.
ALL_V1_1_CANONICAL = (
    "crop=10,20,3000,2000&width=800&height=600&dpr=2&gravity=0.25,0.4&rotate=90&flip=1"
    "&mirror=1&grayscale=1&blur=2.5&sharpen=1.5&background=ff000080&quality=75&palette=1"
    "&format=png&watermarkText=%C2%A9%20Ana%20L%C3%B3pez"
)
# v1.1 with a fit that is not cover (so no gravity) and format=auto.
ALL_V1_1_CONTAIN_AUTO = (
    "crop=0,0,4000,3000&width=400&height=400&dpr=1.5&fit=contain&rotate=45&sharpen=0.5"
    "&background=336699&quality=90&format=auto"
)


def build_cases_v1_1() -> None:
    """The vectors added by transform-url-v1.1 (every v1 vector above is unchanged)."""
    wh = "width=800&height=600"

    # --- crop ------------------------------------------------------------------------------
    r = "crop: x,y,w,h; x and y 0..=65535, w and h 1..=65535; first in canonical order"
    case("crop-basic", r, "crop=10,20,300,400", "=")
    case("crop-min", r, "crop=0,0,1,1", "=")
    case("crop-max", r, "crop=65535,65535,65535,65535", "=")
    case("crop-image-b", r, "crop=10,20,300,400", "=", B)
    case("crop-leading-zeros", r + "; leading zeros are accepted, not canonical",
         "crop=00,010,0300,400", "-> crop=0,10,300,400")
    case("crop-escaped-digit", "values are percent-decoded before their shape is checked",
         "crop=%31%30,20,300,400", "-> crop=10,20,300,400")
    case("crop-with-width", "canonical order: crop before width", "crop=0,0,100,100&width=50", "=")
    case("crop-after-width", "wrong parameter order is non-canonical",
         "width=50&crop=0,0,100,100", "-> crop=0,0,100,100&width=50")
    case("crop-x-65536", r, "crop=65536,0,1,1", "! out_of_range")
    case("crop-y-65536", r, "crop=0,65536,1,1", "! out_of_range")
    case("crop-w-65536", r, "crop=0,0,65536,1", "! out_of_range")
    case("crop-h-65536", r, "crop=0,0,1,65536", "! out_of_range")
    case("crop-w-0", r + " (the spec's example)", "crop=0,0,0,10", "! out_of_range")
    case("crop-h-0", r, "crop=0,0,10,0", "! out_of_range")
    case("crop-w-leading-zeros-0", r, "crop=0,0,000,10", "! out_of_range")
    case("crop-huge", r + " (beyond i64 too)", "crop=99999999999999999999999,0,1,1",
         "! out_of_range")
    case("crop-negative-x", "crop: a leading - is out_of_range", "crop=-1,0,10,10",
         "! out_of_range")
    case("crop-negative-h", "crop: a leading - is out_of_range", "crop=0,0,10,-10",
         "! out_of_range")
    case("crop-minus-zero", "crop: a leading - is out_of_range, even -0", "crop=-0,0,10,10",
         "! out_of_range")
    r = "crop: exactly four integers -?[0-9]+ joined by ',' (the whole shape is checked first)"
    case("crop-three-parts", r + " (the spec's example)", "crop=1,2,3", "! bad_value")
    case("crop-three-parts-negative", r + ": three parts, so bad_value before the -",
         "crop=-1,2,3", "! bad_value")
    case("crop-negative-and-bad-part", r + ": a bad part wins over an earlier -",
         "crop=-1,2,3,x", "! bad_value")
    case("crop-out-of-range-and-bad-part", r + ": a bad part wins over an earlier range",
         "crop=70000,0,1,x", "! bad_value")
    case("crop-five-parts", r, "crop=1,2,3,4,5", "! bad_value")
    case("crop-trailing-comma", r, "crop=1,2,3,4,", "! bad_value")
    case("crop-leading-comma", r, "crop=,1,2,3", "! bad_value")
    case("crop-empty-part", r, "crop=1,,3,4", "! bad_value")
    case("crop-decimal", r, "crop=1.5,0,10,10", "! bad_value")
    case("crop-semicolons", r, "crop=1;2;3;4", "! bad_value")
    case("crop-space", r + " (+ decodes to a space)", "crop=1,+2,3,4", "! bad_value")
    case("crop-double-minus", r, "crop=--1,0,1,1", "! bad_value")
    case("crop-plus-sign", r, "crop=%2B1,0,1,1", "! bad_value")
    case("crop-letters", r, "crop=a,0,10,10", "! bad_value")
    case("crop-empty", r, "crop=", "! bad_value")
    case("crop-no-equals", r + "; a piece without = has the empty value", "crop", "! bad_value")
    case("crop-x-suffix", r, "crop=10x20,0,1,1", "! bad_value")

    # --- commas may arrive percent-encoded -----------------------------------------------
    r = "a ',' may arrive as %2C (either case); the canonical query writes it literally"
    case("crop-pct2c", r, "crop=0%2C0%2C100%2C100", "-> crop=0,0,100,100")
    case("crop-pct2c-lowercase", r, "crop=0%2c0%2c100%2c100", "-> crop=0,0,100,100")
    case("crop-pct2c-mixed", r, "crop=0,0%2C100,100", "-> crop=0,0,100,100")
    case("crop-pct2c-three-parts", r + "; the shape is checked on the decoded value",
         "crop=1%2C2%2C3", "! bad_value")
    case("gravity-point-pct2c", r, wh + "&gravity=0.25%2C0.4", f"-> {wh}&gravity=0.25,0.4")
    case("gravity-point-pct2c-lowercase", r, wh + "&gravity=0.25%2c0.4",
         f"-> {wh}&gravity=0.25,0.4")
    case("gravity-point-pct2c-omitted", r + "; 0.5,0.5 is omitted however written",
         wh + "&gravity=0.5%2C0.5", f"-> {wh}")

    # --- dpr -----------------------------------------------------------------------------
    r = ("dpr: decimal 1..=4 after rounding half-up to 0.1; kept only with width or height "
         "and when not 1")
    case("dpr-2-width", r, "width=800&dpr=2", "=")
    case("dpr-1.5-height", r, "height=600&dpr=1.5", "=")
    case("dpr-3-both", r, wh + "&dpr=3", "=")
    case("dpr-4", r, "width=800&dpr=4", "=")
    case("dpr-1.1", r, "width=800&dpr=1.1", "=")
    case("dpr-2.0", r + " (shortest form: 2, never 2.0)", "width=800&dpr=2.0",
         "-> width=800&dpr=2")
    case("dpr-leading-zero", r, "width=800&dpr=02.5", "-> width=800&dpr=2.5")
    case("dpr-1", r + " (1 is omitted)", "width=800&dpr=1", "-> width=800")
    case("dpr-1.0", r + " (1 is omitted)", "width=800&dpr=1.0", "-> width=800")
    case("dpr-1.04", r + " (1.04 rounds to 1: omitted)", "width=800&dpr=1.04", "-> width=800")
    case("dpr-1.05", r + " (exact decimal: 1.05 rounds to 1.1)", "width=800&dpr=1.05",
         "-> width=800&dpr=1.1")
    case("dpr-1.15", r + " (exact decimal: 1.15 rounds to 1.2; a double would give 1.1)",
         "width=800&dpr=1.15", "-> width=800&dpr=1.2")
    case("dpr-2.25", r + " (half-up, not half-even: 2.25 rounds to 2.3)",
         "width=800&dpr=2.25", "-> width=800&dpr=2.3")
    case("dpr-1.449", r, "width=800&dpr=1.449", "-> width=800&dpr=1.4")
    case("dpr-1.45", r, "width=800&dpr=1.45", "-> width=800&dpr=1.5")
    case("dpr-2.999", r + " (carry into the integer part)", "width=800&dpr=2.999",
         "-> width=800&dpr=3")
    case("dpr-0.95", r + " (0.95 rounds to 1: valid, omitted)", "width=800&dpr=0.95",
         "-> width=800")
    case("dpr-0.94", r + " (0.94 rounds to 0.9)", "width=800&dpr=0.94", "! out_of_range")
    case("dpr-0.5", r + " (the spec's example)", "width=800&dpr=0.5", "! out_of_range")
    case("dpr-0", r, "width=800&dpr=0", "! out_of_range")
    case("dpr-4.04", r + " (the spec's example: 4.04 rounds to 4, valid)", "width=800&dpr=4.04",
         "-> width=800&dpr=4")
    case("dpr-4.05", r + " (the spec's example: 4.05 rounds to 4.1)", "width=800&dpr=4.05",
         "! out_of_range")
    case("dpr-5", r, "width=800&dpr=5", "! out_of_range")
    case("dpr-huge", r, "width=800&dpr=99999999999999999999.5", "! out_of_range")
    case("dpr-negative", "dpr: a leading - is out_of_range", "width=800&dpr=-2",
         "! out_of_range")
    case("dpr-minus-zero", "dpr: a leading - is out_of_range, even -0", "width=800&dpr=-0",
         "! out_of_range")
    case("dpr-before-width", "wrong parameter order is non-canonical", "dpr=2&width=800",
         "-> width=800&dpr=2")
    case("dpr-after-fit", "canonical order: dpr before fit",
         wh + "&fit=contain&dpr=2", f"-> {wh}&dpr=2&fit=contain")
    r = "dpr is omitted without width and height, but still validated"
    case("dpr-alone", r, "dpr=2", "-> ")
    case("dpr-alone-1", r, "dpr=1", "-> ")
    case("dpr-no-dimensions-0.5", r + " (the spec's example)", "dpr=0.5", "! out_of_range")
    case("dpr-no-dimensions-x", r, "dpr=x", "! bad_value")
    case("dpr-with-crop-only", r + " (crop is not a dimension)", "crop=0,0,10,10&dpr=2",
         "-> crop=0,0,10,10")
    r = "dpr must match ^-?[0-9]+(\\.[0-9]+)?$"
    case("dpr-x", r + " (the spec's example)", "width=800&dpr=x", "! bad_value")
    case("dpr-2x", r, "width=800&dpr=2x", "! bad_value")
    case("dpr-dot-5", r, "width=800&dpr=.5", "! bad_value")
    case("dpr-2-dot", r, "width=800&dpr=2.", "! bad_value")
    case("dpr-exponent", r, "width=800&dpr=2e0", "! bad_value")
    case("dpr-comma", r, "width=800&dpr=1,5", "! bad_value")
    case("dpr-empty", r, "width=800&dpr=", "! bad_value")
    case("dpr-plus-sign", r + " (+2 decodes to ' 2')", "width=800&dpr=+2", "! bad_value")
    case("dpr-escaped-plus-sign", r, "width=800&dpr=%2B2", "! bad_value")

    # --- gravity -------------------------------------------------------------------------
    r = "gravity: kept only with width, height and an effective fit of cover"
    for word in ("north", "northeast", "east", "southeast", "south", "southwest", "west",
                 "northwest", "attention", "entropy"):
        case(f"gravity-{word}", r, f"{wh}&gravity={word}", "=")
    case("gravity-center", r + "; center is omitted", f"{wh}&gravity=center", f"-> {wh}")
    case("gravity-centre", r + "; centre is center, omitted", f"{wh}&gravity=centre", f"-> {wh}")
    case("gravity-fit-cover", r + "; an explicit fit=cover is omitted, gravity kept",
         f"{wh}&fit=cover&gravity=north", f"-> {wh}&gravity=north")
    case("gravity-fit-cover-before", r + "; canonical order: fit before gravity",
         f"{wh}&gravity=north&fit=cover", f"-> {wh}&gravity=north")
    case("gravity-before-width", "wrong parameter order is non-canonical",
         "gravity=north&" + wh, f"-> {wh}&gravity=north")
    case("gravity-after-rotate", "canonical order: gravity before rotate",
         f"{wh}&rotate=90&gravity=east", f"-> {wh}&gravity=east&rotate=90")
    case("gravity-dpr", "canonical order: dpr before gravity",
         f"{wh}&dpr=2&gravity=entropy", "=")
    for fit in ("contain", "fill", "inside", "outside"):
        case(f"gravity-fit-{fit}", r + f"; with fit={fit} it is omitted",
             f"{wh}&fit={fit}&gravity=north", f"-> {wh}&fit={fit}")
    case("gravity-width-only", r, "width=800&gravity=north", "-> width=800")
    case("gravity-height-only", r, "height=600&gravity=north", "-> height=600")
    case("gravity-alone", r, "gravity=attention", "-> ")
    case("gravity-point-no-dimensions", r, "gravity=0.25,0.4", "-> ")
    case("gravity-fit-cover-no-height", r + "; fit=cover alone does not make it kept",
         "width=800&fit=cover&gravity=north", "-> width=800")
    r = ("gravity: a focal point X,Y, each 0..=1 after rounding half-up to 0.001; "
         "0.5,0.5 is omitted")
    case("gravity-point", r, f"{wh}&gravity=0.25,0.4", "=")
    case("gravity-point-0-1", r, f"{wh}&gravity=0,1", "=")
    case("gravity-point-1-0", r, f"{wh}&gravity=1,0", "=")
    case("gravity-point-min-step", r, f"{wh}&gravity=0.001,0.999", "=")
    case("gravity-point-shortest", r + " (shortest decimals)", f"{wh}&gravity=0.0,1.0",
         f"-> {wh}&gravity=0,1")
    case("gravity-point-trailing-zeros", r, f"{wh}&gravity=0.250,0.400",
         f"-> {wh}&gravity=0.25,0.4")
    case("gravity-point-leading-zeros", r, f"{wh}&gravity=00.25,000.4",
         f"-> {wh}&gravity=0.25,0.4")
    case("gravity-point-rounding", r, f"{wh}&gravity=0.1234,0.5678",
         f"-> {wh}&gravity=0.123,0.568")
    case("gravity-point-half-up", r + " (exact decimal: 0.0005 rounds to 0.001)",
         f"{wh}&gravity=0.0005,0.0004", f"-> {wh}&gravity=0.001,0")
    case("gravity-point-half-up-float", r + " (exact decimal: 0.1235 rounds up; a double "
         "would give 0.123)", f"{wh}&gravity=0.1235,0.5", f"-> {wh}&gravity=0.124,0.5")
    case("gravity-point-1.0004", r + " (the spec's example: 1.0004,0 is 1,0)",
         f"{wh}&gravity=1.0004,0", f"-> {wh}&gravity=1,0")
    case("gravity-point-1.0005", r + " (1.0005 rounds to 1.001)", f"{wh}&gravity=1.0005,0",
         "! out_of_range")
    case("gravity-point-center", r, f"{wh}&gravity=0.5,0.5", f"-> {wh}")
    case("gravity-point-center-spelled", r, f"{wh}&gravity=0.500,0.50", f"-> {wh}")
    case("gravity-point-center-rounded", r + " (0.4995 rounds to 0.5)",
         f"{wh}&gravity=0.4995,0.5", f"-> {wh}")
    case("gravity-point-near-center", r + " (0.4994 rounds to 0.499)",
         f"{wh}&gravity=0.4994,0.5", f"-> {wh}&gravity=0.499,0.5")
    case("gravity-point-1.2", r + " (the spec's example)", f"{wh}&gravity=1.2,0.5",
         "! out_of_range")
    case("gravity-point-y-2", r, f"{wh}&gravity=0.5,2", "! out_of_range")
    case("gravity-point-huge", r, f"{wh}&gravity=0.5,123456789012345678901234567890",
         "! out_of_range")
    case("gravity-point-negative", "gravity: a leading - is out_of_range",
         f"{wh}&gravity=-0.1,0.5", "! out_of_range")
    case("gravity-point-minus-zero", "gravity: a leading - is out_of_range, even -0",
         f"{wh}&gravity=0.5,-0", "! out_of_range")
    case("gravity-point-fit-inside", "gravity is omitted unless the effective fit is cover",
         f"{wh}&fit=inside&gravity=0.25,0.4", f"-> {wh}&fit=inside")
    r = ("gravity: one of the words (lowercase, case-sensitive) or exactly two decimals "
         "joined by one ','; the whole shape is checked first")
    case("gravity-up", r + " (the spec's example)", f"{wh}&gravity=up", "! bad_value")
    case("gravity-capitalised", r, f"{wh}&gravity=North", "! bad_value")
    case("gravity-uppercase", r, f"{wh}&gravity=CENTER", "! bad_value")
    case("gravity-trailing-space", r, f"{wh}&gravity=north+", "! bad_value")
    case("gravity-empty", r, f"{wh}&gravity=", "! bad_value")
    case("gravity-no-equals", r, f"{wh}&gravity", "! bad_value")
    case("gravity-point-one", r, f"{wh}&gravity=0.5", "! bad_value")
    case("gravity-point-three", r, f"{wh}&gravity=0.5,0.5,0.5", "! bad_value")
    case("gravity-point-trailing-comma", r, f"{wh}&gravity=0.5,", "! bad_value")
    case("gravity-point-leading-comma", r, f"{wh}&gravity=,0.5", "! bad_value")
    case("gravity-point-dot-5", r, f"{wh}&gravity=.5,.5", "! bad_value")
    case("gravity-point-space", r + " (+ decodes to a space)", f"{wh}&gravity=0.5,+0.5",
         "! bad_value")
    case("gravity-point-semicolon", r, f"{wh}&gravity=0.5;0.5", "! bad_value")
    case("gravity-point-percent", r, f"{wh}&gravity=50%25,50%25", "! bad_value")
    case("gravity-point-negative-and-bad", r + ": a bad part wins over an earlier -",
         f"{wh}&gravity=-0.5,x", "! bad_value")
    case("gravity-point-range-and-bad", r + ": a bad part wins over an earlier range",
         f"{wh}&gravity=2,x", "! bad_value")
    r = "gravity is validated even where the canonical form leaves it out"
    case("gravity-up-no-height", r + " (the spec's example)", "width=800&gravity=up",
         "! bad_value")
    case("gravity-up-alone", r, "gravity=up", "! bad_value")
    case("gravity-range-fit-contain", r, f"{wh}&fit=contain&gravity=1.2,0.5", "! out_of_range")
    case("gravity-point-no-dimensions-range", r, "gravity=0,1.5", "! out_of_range")

    # --- sharpen -------------------------------------------------------------------------
    r = "sharpen: rounded half-up to 0.1 on the decimal digits; 0 omitted; 0.3..=10 valid"
    case("sharpen-0.3", r, "sharpen=0.3", "=")
    case("sharpen-1", r, "sharpen=1", "=")
    case("sharpen-1.5", r, "sharpen=1.5", "=")
    case("sharpen-10", r, "sharpen=10", "=")
    case("sharpen-0", r, "sharpen=0", "-> ")
    case("sharpen-0.0", r, "sharpen=0.0", "-> ")
    case("sharpen-0.04", r + " (0.04 rounds to 0: omitted)", "sharpen=0.04", "-> ")
    case("sharpen-0.05", r + " (0.05 rounds to 0.1)", "sharpen=0.05", "! out_of_range")
    case("sharpen-0.1", r, "sharpen=0.1", "! out_of_range")
    case("sharpen-0.2", r, "sharpen=0.2", "! out_of_range")
    case("sharpen-0.15", r + " (exact decimal: 0.15 rounds to 0.2)", "sharpen=0.15",
         "! out_of_range")
    case("sharpen-0.25", r + " (the spec's example: 0.25 rounds to 0.3)", "sharpen=0.25",
         "-> sharpen=0.3")
    case("sharpen-1.0", r + " (shortest form)", "sharpen=1.0", "-> sharpen=1")
    case("sharpen-2.35", r + " (exact decimal: 2.35 rounds to 2.4; a double would give 2.3)",
         "sharpen=2.35", "-> sharpen=2.4")
    case("sharpen-9.95", r + " (carry into the integer part)", "sharpen=9.95", "-> sharpen=10")
    case("sharpen-10.04", r, "sharpen=10.04", "-> sharpen=10")
    case("sharpen-10.05", r, "sharpen=10.05", "! out_of_range")
    case("sharpen-10.1", r + " (the spec's example)", "sharpen=10.1", "! out_of_range")
    case("sharpen-11", r, "sharpen=11", "! out_of_range")
    case("sharpen-100", r + " (blur's range is not sharpen's)", "sharpen=100", "! out_of_range")
    case("sharpen-negative", "sharpen: a leading - is out_of_range", "sharpen=-1",
         "! out_of_range")
    case("sharpen-minus-zero", "sharpen: a leading - is out_of_range, even -0", "sharpen=-0",
         "! out_of_range")
    case("sharpen-after-blur", "canonical order: blur before sharpen", "blur=2&sharpen=1", "=")
    case("sharpen-before-blur", "wrong parameter order is non-canonical", "sharpen=1&blur=2",
         "-> blur=2&sharpen=1")
    r = "sharpen must match ^-?[0-9]+(\\.[0-9]+)?$"
    case("sharpen-dot-5", r, "sharpen=.5", "! bad_value")
    case("sharpen-5-dot", r, "sharpen=5.", "! bad_value")
    case("sharpen-word", r, "sharpen=true", "! bad_value")
    case("sharpen-empty", r, "sharpen=", "! bad_value")

    # --- background ----------------------------------------------------------------------
    r = "background: RRGGBB or RRGGBBAA, hex of either case; canonical lowercase; alpha ff dropped"
    case("background-rgb", r, "background=ff8800", "=")
    case("background-rgba", r, "background=ff880080", "=")
    case("background-transparent", r, "background=00000000", "=")
    case("background-black", r, "background=000000", "=")
    case("background-uppercase", r, "background=FF8800", "-> background=ff8800")
    case("background-mixed-case", r, "background=Ff88aA", "-> background=ff88aa")
    case("background-alpha-ff", r + " (alpha ff: RRGGBB)", "background=ff8800ff",
         "-> background=ff8800")
    case("background-alpha-FF", r + " (alpha FF: RRGGBB)", "background=FF8800FF",
         "-> background=ff8800")
    case("background-alpha-fe", r, "background=fffffffe", "=")
    case("background-alpha-uppercase", r, "background=FFFFFF80", "-> background=ffffff80")
    case("background-alpha-Ff", r + " (mixed-case alpha ff)", "background=123456fF",
         "-> background=123456")
    case("background-escaped", "values are percent-decoded; escapes are non-canonical",
         "background=%66f8800", "-> background=ff8800")
    case("background-kept-without-effect", "background is kept whenever it is given",
         "width=800&background=ffffff", "=")
    case("background-order", "canonical order: sharpen, background, quality",
         "sharpen=1&background=ffffff&quality=90", "=")
    case("background-before-sharpen", "wrong parameter order is non-canonical",
         "background=ffffff&sharpen=1", "-> sharpen=1&background=ffffff")
    r = "background: exactly 6 or 8 hex digits, nothing else"
    case("background-hash", r + " (the spec's example; a raw #)", "background=#ffffff",
         "! bad_value")
    case("background-hash-escaped", r + " (%23 is #)", "background=%23ffffff", "! bad_value")
    case("background-3-digits", r + " (the spec's example)", "background=fff", "! bad_value")
    case("background-4-digits", r, "background=ffff", "! bad_value")
    case("background-7-digits", r, "background=fffffff", "! bad_value")
    case("background-9-digits", r, "background=fffffffff", "! bad_value")
    case("background-not-hex", r, "background=gggggg", "! bad_value")
    case("background-0x", r, "background=0xffffff", "! bad_value")
    case("background-name", r, "background=white", "! bad_value")
    case("background-space", r, "background=ffffff+", "! bad_value")
    case("background-fullwidth", r + " (ASCII hex digits only)",
         "background=%EF%BC%A6fffff", "! bad_value")
    case("background-empty", r, "background=", "! bad_value")

    # --- palette -------------------------------------------------------------------------
    r = "palette: exactly 1, true, 0 or false; true is 1, false is omitted; kept for any format"
    case("palette-1", r, "palette=1", "=")
    case("palette-true", r, "palette=true", "-> palette=1")
    case("palette-0", r, "palette=0", "-> ")
    case("palette-false", r, "palette=false", "-> ")
    case("palette-uppercase-true", r + " (case-sensitive)", "palette=TRUE", "! bad_value")
    case("palette-yes", r, "palette=yes", "! bad_value")
    case("palette-empty", r, "palette=", "! bad_value")
    case("palette-png", r, "palette=1&format=png", "=")
    case("palette-jpeg", r + " (no effect on JPEG, still kept)", "palette=1&format=jpeg", "=")
    case("palette-quality", "canonical order: quality, palette, format",
         "quality=50&palette=1&format=png", "=")
    case("palette-after-format", "wrong parameter order is non-canonical",
         "format=png&palette=1", "-> palette=1&format=png")

    # --- format=auto ---------------------------------------------------------------------
    r = "format: auto is a new value, canonically auto"
    case("format-auto", r, "format=auto", "=")
    case("format-auto-width", r, "width=800&format=auto", "=")
    case("format-auto-image-b", r, "width=800&format=auto", "=", B)
    case("format-auto-quality-80", r + "; quality=80 is still omitted",
         "quality=80&format=auto", "-> format=auto")
    case("format-auto-uppercase", r + " (case-sensitive)", "format=AUTO", "! bad_value")
    case("format-auto-capitalised", r + " (case-sensitive)", "format=Auto", "! bad_value")

    # --- error precedence ----------------------------------------------------------------
    r = "the first invalid parameter in raw query order wins, whether or not it would be kept"
    case("first-failure-gravity-before-width", r, "gravity=up&width=0", "! bad_value")
    case("first-failure-width-before-gravity", r, "width=0&gravity=up", "! out_of_range")
    case("first-failure-dpr-before-crop", r + " (dpr without width is still checked)",
         "dpr=0.5&crop=1,2,3", "! out_of_range")
    case("first-failure-crop-before-dpr", r, "crop=1,2,3&dpr=0.5", "! bad_value")
    case("first-failure-background-before-sharpen", r, "background=fff&sharpen=0.1",
         "! bad_value")
    case("first-failure-sharpen-before-background", r, "sharpen=0.1&background=fff",
         "! out_of_range")
    case("first-failure-gravity-omitted", r + " (gravity is left out with fit=contain)",
         f"{wh}&fit=contain&gravity=1.2,0.5&palette=yes", "! out_of_range")
    case("first-failure-palette-before-gravity", r,
         f"palette=yes&{wh}&fit=contain&gravity=1.2,0.5", "! bad_value")
    case("first-failure-escape-before-crop", r, "dpr=%G1&crop=1,2,3", "! bad_value")
    case("first-failure-unknown-ignored", r + "; unknown parameters are never checked",
         "utm_source=%G1&sharpen=11&crop=1,2,3", "! out_of_range")
    r = "duplicate_param is found before any value is checked"
    case("dup-crop", r, "crop=0,0,1,1&crop=0,0,1,1", "! duplicate_param")
    case("dup-dpr", r, "width=800&dpr=2&dpr=2", "! duplicate_param")
    case("dup-gravity", r, f"{wh}&gravity=north&gravity=south", "! duplicate_param")
    case("dup-sharpen", r, "sharpen=1&sharpen=1", "! duplicate_param")
    case("dup-background", r, "background=ffffff&background=FFFFFF", "! duplicate_param")
    case("dup-palette", r + " (even when both would be omitted)", "palette=0&palette=false",
         "! duplicate_param")
    case("dup-after-invalid-values", r, "dpr=x&crop=1,2,3&gravity=up&crop=0,0,1,1",
         "! duplicate_param")
    case("dup-format-auto", r, "format=auto&format=webp", "! duplicate_param")
    case("dup-encoded-comma", r + " (names compared after decoding)",
         "crop=0,0,1,1&%63rop=0%2C0%2C1%2C1", "! duplicate_param")

    # --- new parameters with v1 ones -----------------------------------------------------
    r = "v1.1 parameters combined with v1 ones, in canonical order"
    case("v11-all-canonical", r + " (every parameter)", ALL_V1_1_CANONICAL, "=")
    case("v11-all-canonical-image-c", r, ALL_V1_1_CANONICAL, "=", C)
    case("v11-contain-auto", r + " (fit=contain: no gravity; format=auto)",
         ALL_V1_1_CONTAIN_AUTO, "=")
    case("v11-all-reversed", "wrong parameter order is non-canonical",
         "&".join(reversed(ALL_V1_1_CANONICAL.split("&"))), "-> " + ALL_V1_1_CANONICAL)
    case("v11-all-non-canonical-spellings", "every value in a non-canonical spelling",
         "crop=010%2C20%2C3000%2C02000&width=0800&height=600&dpr=1.95&fit=cover"
         "&gravity=0.2495,0.4004&rotate=-270&flip=true&mirror=true&grayscale=true&blur=2.45"
         "&sharpen=1.45&background=FF000080&quality=075&palette=true&format=png"
         "&watermarkText=%c2%a9+Ana+Lo%CC%81pez",
         "-> " + ALL_V1_1_CANONICAL)
    case("v11-all-defaults", "defaults are omitted: dpr 1, gravity center, sharpen 0, "
         "palette false (crop and background are always kept)",
         "crop=0,0,100,100&width=800&height=600&dpr=1&fit=cover&gravity=centre&sharpen=0"
         "&background=FFFFFFFF&palette=false&quality=80",
         "-> crop=0,0,100,100&width=800&height=600&background=ffffff")
    case("v11-all-omitted-no-size", "without width and height, dpr, fit and gravity are omitted",
         "dpr=2&fit=contain&gravity=north&sharpen=0.0&palette=0", "-> ")
    case("v11-contain-background", r, f"{wh}&fit=contain&background=000000", "=")
    case("v11-rotate-background", r, "rotate=45&background=ffffff00", "=")
    case("v11-dpr-fit-inside", r, f"{wh}&dpr=2&fit=inside", "=")
    case("v11-gravity-format-webp", r, f"{wh}&gravity=attention&format=webp", "=")
    case("v11-crop-blur-sharpen", r, "crop=100,100,500,500&blur=1&sharpen=2", "=")
    case("v11-auto-watermark", r + " (| in a watermark is percent-encoded)",
         "width=800&format=auto&watermarkText=a%7Cb", "=")
    case("v11-sharpen-quality-palette", r, "sharpen=0.5&quality=60&palette=1&format=png", "=")
    case("v11-v1-reordered", "new parameters sit between v1 ones in canonical order",
         "format=webp&palette=1&quality=70&background=000000&sharpen=1&blur=1"
         "&rotate=90&gravity=south&dpr=2&height=600&width=800&crop=0,0,10,10",
         "-> crop=0,0,10,10&width=800&height=600&dpr=2&gravity=south&rotate=90&blur=1"
         "&sharpen=1&background=000000&quality=70&palette=1&format=webp")
    case("v11-unknown-dropped", "unknown parameters are still dropped",
         "crop=0,0,10,10&utm_source=x&width=800&dpr=2", "=")


# Requests, built from the values above. Each: (name, rule, path, query, status, extra)
def build_requests(keys: dict[str, bytes]) -> list[tuple]:
    def sig_for(image_id: str, canonical_query: str) -> str:
        return sign(keys[image_id], canonical_query)

    s800 = sig_for(A, "width=800")
    s_wh = sig_for(A, "width=800&height=600")
    s_empty = sig_for(A, "")
    s_dpr = sig_for(A, "width=800&dpr=2")
    s_auto = sig_for(A, "width=800&format=auto")
    s_crop = sig_for(A, "crop=0,0,100,100")
    s_bg = sig_for(A, "background=ff8800")
    key_a_epoch1 = url_key(URL_SECRET, A, 1)
    tampered = s800[:10] + ("A" if s800[10] != "A" else "B") + s800[11:]
    # The last of 22 characters carries 2 data bits and 4 unused bits that must be zero.
    last_index = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(s800[-1])
    trailing_bits = s800[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[
        last_index | 1
    ]

    def p(image_id: str, sig: str) -> str:
        return f"/i/{image_id}/{sig}"

    return [
        ("req-200-width", "a valid signed request is served", p(A, s800), "width=800", 200),
        ("req-200-empty", "no query: the sig of the empty string", p(A, s_empty), "", 200),
        ("req-200-all", "a valid signed request is served",
         p(A, sig_for(A, ALL_CANONICAL)), ALL_CANONICAL, 200),
        ("req-200-image-b", "a valid signed request is served",
         p(B, sig_for(B, "width=800")), "width=800", 200),
        ("req-200-unknown-only", "unknown parameters only: served with the sig of the empty query",
         p(A, s_empty), "utm_source=newsletter&fbclid=abc", 200),
        ("req-200-unknown-mixed", "unknown parameters are dropped before the canonical check",
         p(A, s800), "utm_source=x&width=800", 200),
        ("req-301-order", "non-canonical: 301 to the canonical query with the same sig",
         p(A, s_wh), "height=600&width=800", 301),
        ("req-301-to-empty", "non-canonical: the canonical path has no ? when the query is empty",
         p(A, s_empty), "flip=false&quality=80", 301),
        ("req-301-unverified-sig", "the sig is not verified before the redirect",
         p(A, s800), "width=0600&height=600", 301),
        ("req-301-drops-unknown", "the redirect target carries no unknown parameters",
         p(A, s800), "utm_source=x&width=0800", 301),
        ("req-403-other-image", "a sig only verifies for its own image", p(B, s800), "width=800", 403),
        ("req-403-other-query", "a sig only verifies for its own canonical query",
         p(A, s800), "width=801", 403),
        ("req-403-no-query", "a sig for a query does not serve the original",
         p(A, s800), "", 403),
        ("req-403-tampered", "a well-formed sig that does not verify is 403",
         p(A, tampered), "width=800", 403),
        ("req-400-query-error", "a valid sig does not excuse an invalid query",
         p(A, s800), "width=0", 400, "out_of_range"),
        ("req-400-duplicate", "a known parameter given twice", p(A, s800),
         "width=800&width=800", 400, "duplicate_param"),
        ("req-400-id-uppercase", "image_id must be lowercase",
         p(A.upper(), s800), "width=800", 400, "bad_image_id"),
        ("req-400-id-short", "image_id must be a 36-character UUID",
         p(A[:8], s800), "width=800", 400, "bad_image_id"),
        ("req-400-id-not-uuid", "image_id must be a UUID",
         p("not-a-uuid", s800), "width=800", 400, "bad_image_id"),
        ("req-400-id-no-hyphens", "image_id must be hyphenated",
         p(A.replace("-", ""), s800), "width=800", 400, "bad_image_id"),
        ("req-400-id-braces", "image_id must be exactly the 36-character form",
         p("{" + A + "}", s800), "width=800", 400, "bad_image_id"),
        ("req-400-sig-21", "sig must be 22 characters", p(A, s800[:21]), "width=800", 400, "bad_sig"),
        ("req-400-sig-23", "sig must be 22 characters", p(A, s800 + "A"), "width=800", 400, "bad_sig"),
        ("req-400-sig-padded", "sig has no padding", p(A, s800 + "=="), "width=800", 400, "bad_sig"),
        ("req-400-sig-plus", "sig is base64url: + is not allowed",
         p(A, "+" + s800[1:]), "width=800", 400, "bad_sig"),
        ("req-400-sig-slash", "sig is base64url: / is not allowed (the sig is all after the id)",
         p(A, s800[:5] + "/" + s800[6:]), "width=800", 400, "bad_sig"),
        ("req-400-sig-equals", "sig is base64url without padding: = is not allowed",
         p(A, s800[:20] + "=="), "width=800", 400, "bad_sig"),
        ("req-400-sig-trailing-bits", "the unused low bits of the last character must be zero",
         p(A, trailing_bits), "width=800", 400, "bad_sig"),
        ("req-400-bad-id-and-query", "path errors come before query errors",
         p(A.upper(), s800), "width=0", 400, "bad_image_id"),
        ("req-400-bad-sig-and-query", "path errors come before query errors",
         p(A, s800[:21]), "width=800&width=1", 400, "bad_sig"),
        ("req-400-bad-id-and-sig", "bad_image_id comes before bad_sig",
         p("not-a-uuid", s800[:21]), "width=800", 400, "bad_image_id"),
        ("req-400-bad-sig-non-canonical", "path errors come before the redirect",
         p(A, s800[:21]), "width=0800", 400, "bad_sig"),
        # --- v1.1 ---------------------------------------------------------------------------
        ("req11-200-all", "a valid signed v1.1 request is served",
         p(A, sig_for(A, ALL_V1_1_CANONICAL)), ALL_V1_1_CANONICAL, 200),
        ("req11-200-contain-auto", "a valid signed v1.1 request is served",
         p(A, sig_for(A, ALL_V1_1_CONTAIN_AUTO)), ALL_V1_1_CONTAIN_AUTO, 200),
        ("req11-200-dpr", "a valid signed v1.1 request is served",
         p(A, s_dpr), "width=800&dpr=2", 200),
        ("req11-200-auto", "format=auto: the status does not depend on Accept",
         p(A, s_auto), "width=800&format=auto", 200),
        ("req11-200-crop-image-c", "a valid signed v1.1 request is served",
         p(C, sig_for(C, "crop=0,0,100,100")), "crop=0,0,100,100", 200),
        ("req11-200-unknown-mixed", "unknown parameters are dropped before the canonical check",
         p(A, s_dpr), "width=800&utm_source=x&dpr=2", 200),
        ("req11-301-pct2c", "%2C commas: 301 to the literal commas, same sig",
         p(A, s_crop), "crop=0%2C0%2C100%2C100", 301),
        ("req11-301-centre", "gravity=centre is omitted: 301 to the query without it",
         p(A, s_wh), "width=800&height=600&gravity=centre", 301),
        ("req11-301-background-case", "background is canonically lowercase",
         p(A, s_bg), "background=FF8800", 301),
        ("req11-301-background-alpha-ff", "background with alpha ff is canonically RRGGBB",
         p(A, s_bg), "background=ff8800ff", 301),
        ("req11-301-dpr-without-size", "dpr without width or height: 301 to the empty query",
         p(A, s_empty), "dpr=2", 301),
        ("req11-301-dpr-rounding", "dpr is rounded on its decimal digits: 1.05 is 1.1",
         p(A, sig_for(A, "width=800&dpr=1.1")), "width=800&dpr=1.05", 301),
        ("req11-301-order", "crop comes first in canonical order",
         p(A, s_crop), "width=50&crop=0,0,100,100", 301),
        ("req11-403-epoch-1-sig", "the sig of another key epoch does not verify (the images "
         "of this file are at epoch 0)", p(A, sign(key_a_epoch1, "width=800")), "width=800",
         403),
        ("req11-403-epoch-1-sig-empty", "the sig of another key epoch does not verify",
         p(A, sign(key_a_epoch1, "")), "", 403),
        ("req11-403-sig-without-dpr", "a sig over the query without dpr (as a v1 signer drops "
         "it) does not serve the query with dpr", p(A, s800), "width=800&dpr=2", 403),
        ("req11-403-auto-vs-webp", "format=auto and format=webp are different queries",
         p(A, s_auto), "width=800&format=webp", 403),
        ("req11-400-crop-three", "crop must have four parts", p(A, s_crop), "crop=1,2,3", 400,
         "bad_value"),
        ("req11-400-dpr-no-width", "dpr is validated even without width or height",
         p(A, s_empty), "dpr=0.5", 400, "out_of_range"),
        ("req11-400-gravity-no-height", "gravity is validated even where it is omitted",
         p(A, s800), "width=800&gravity=up", 400, "bad_value"),
        ("req11-400-background-hash", "background has no #", p(A, s_bg),
         "background=%23ff8800", 400, "bad_value"),
        ("req11-400-sharpen-0.1", "sharpen 0.1 is out_of_range", p(A, s_empty), "sharpen=0.1",
         400, "out_of_range"),
        ("req11-400-first-invalid", "the first invalid parameter in raw order wins",
         p(A, s_wh), "gravity=up&width=0&height=600", 400, "bad_value"),
        ("req11-400-duplicate", "duplicate_param before any value",
         p(A, s_crop), "crop=1,2,3&crop=0,0,100,100", 400, "duplicate_param"),
        ("req11-400-bad-sig-and-crop", "path errors come before query errors",
         p(A, s_crop[:21]), "crop=1,2,3", 400, "bad_sig"),
    ]



CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
FIREFOX = "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"
SAFARI_AVIF = ("image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,"
               "image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5")
SAFARI_NO_AVIF = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"
AUTO = "width=800&format=auto"


# format=auto requests. Each: (name, rule, image_id, canonical query, Accept or None,
#   client's own X-Imgedge-Accept or None, expected accept class or None).
def build_accept() -> list[tuple]:
    out = []

    def accept(name: str, rule: str, accept_header: str | None, klass: str | None,
               query: str = AUTO, client: str | None = None, image_id: str = A) -> None:
        out.append((name, rule, image_id, query, accept_header, client, klass))

    r = "browsers' image Accept headers"
    accept("accept-chrome", r + " (Chrome, Edge, Opera)", CHROME, "avif")
    accept("accept-chrome-84", r + " (Chrome before AVIF)",
           "image/webp,image/apng,image/*,*/*;q=0.8", "webp")
    accept("accept-firefox", r + " (Firefox)", FIREFOX, "avif")
    accept("accept-firefox-65", r + " (Firefox before AVIF)", "image/webp,*/*", "webp")
    accept("accept-safari-avif", r + " (Safari 16 and later: webp listed first, avif wins)",
           SAFARI_AVIF, "avif")
    accept("accept-safari-no-avif", r + " (Safari 14 and 15)", SAFARI_NO_AVIF, "webp")
    accept("accept-safari-13", r + " (Safari 13: neither)",
           "image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5", "basic")
    accept("accept-old-browser", r + " (old browsers and most tools send */*)", "*/*", "basic")
    accept("accept-image-star", "image/* alone chooses neither AVIF nor WebP", "image/*", "basic")
    accept("accept-image-star-star-star", "*/* and image/* choose neither", "image/*,*/*",
           "basic")
    r = "no Accept header, or an empty one: basic"
    accept("accept-none", r, None, "basic")
    accept("accept-empty", r, "", "basic")
    accept("accept-blank", "an element that is only whitespace names no type", " \t ", "basic")
    accept("accept-only-commas", "empty elements name no type", ",,", "basic")
    r = "media types compare ASCII case-insensitively"
    accept("accept-uppercase-avif", r, "IMAGE/AVIF", "avif")
    accept("accept-mixed-case-webp", r, "Image/WebP", "webp")
    r = "an element whose q parameter is a zero qvalue is not listed"
    accept("accept-avif-q0", r, "image/avif;q=0", "basic")
    accept("accept-avif-q0-space", r + " (spaces around the parameter)", "image/avif; q=0.0",
           "basic")
    accept("accept-avif-q0-dot", r + " (0. is a zero qvalue)", "image/avif;q=0.", "basic")
    accept("accept-avif-q0-three-zeros", r, "image/avif;q=0.000", "basic")
    accept("accept-avif-q0-uppercase-name", r + " (the name q is case-insensitive)",
           "image/avif;Q=0", "basic")
    accept("accept-avif-q0-spaced", r + " (trimmed around name and value)",
           "image/avif ; q = 0", "basic")
    accept("accept-avif-q0-tabs", r + " (tabs are trimmed too)", "image/avif\t;\tq=0\t", "basic")
    accept("accept-avif-q0-then-webp", r + "; webp is still listed", "image/avif;q=0,image/webp",
           "webp")
    accept("accept-avif-q0-other-param", r + "; other parameters do not matter",
           "image/avif;level=1;q=0", "basic")
    accept("accept-avif-q0-and-q1", r + " (any zero q parameter)", "image/avif;q=0;q=1", "basic")
    accept("accept-star-q0-webp", r, "*/*;q=0,image/webp", "webp")
    accept("accept-webp-q0-only", r, "image/webp;q=0,image/*", "basic")
    r = "any other q value, malformed ones included, leaves the element listed"
    accept("accept-webp-q0.5", r, "image/webp;q=0.5", "webp")
    accept("accept-avif-q0.001", r, "image/avif;q=0.001", "avif")
    accept("accept-avif-q-four-zeros", r + " (0.0000 is not a qvalue)", "image/avif;q=0.0000",
           "avif")
    accept("accept-avif-q-quoted", r + " (a quoted \"0\" is not a qvalue)", 'image/avif;q="0"',
           "avif")
    accept("accept-avif-q-minus-zero", r, "image/avif;q=-0", "avif")
    accept("accept-avif-q-word", r, "image/avif;q=abc", "avif")
    accept("accept-avif-q-empty", r, "image/avif;q=", "avif")
    accept("accept-avif-q-no-equals", r, "image/avif;q", "avif")
    accept("accept-avif-other-param-0", "parameters other than q are ignored",
           "image/avif;level=0", "avif")
    r = "a type is listed when at least one element names it and is listed"
    accept("accept-avif-listed-twice-first-q0", r, "image/avif;q=0,image/avif", "avif")
    accept("accept-avif-listed-twice-second-q0", r, "image/avif,image/avif;q=0", "avif")
    r = "avif wins over webp whatever their order or q values"
    accept("accept-webp-first", r, "image/webp,image/avif", "avif")
    accept("accept-avif-low-q", r, "image/webp;q=1,image/avif;q=0.1", "avif")
    r = "the media type is the first part with spaces and tabs trimmed, compared exactly"
    accept("accept-spaces", r, " image/avif , image/webp ", "avif")
    accept("accept-tabs", r, "\timage/webp\t,*/*", "webp")
    accept("accept-space-after-comma", r, "image/jpeg, image/webp", "webp")
    accept("accept-inner-space", r + " (a space inside is not trimmed)", "image/ avif", "basic")
    accept("accept-longer-type", r + " (no prefix match)", "image/avifs,image/webp2", "basic")
    accept("accept-parameter-only", r, ";q=1", "basic")
    r = "a client's own X-Imgedge-Accept never changes the class"
    accept("accept-client-header-avif", r, "*/*", "basic", client="avif")
    accept("accept-client-header-basic", r, CHROME, "avif", client="basic")
    accept("accept-client-header-no-accept", r, None, "basic", client="webp")
    accept("accept-client-header-garbage", r, SAFARI_NO_AVIF, "webp", client="AVIF, avif")
    r = "the class is computed only for a canonical query with format=auto; other URLs: null"
    accept("accept-null-width", r, CHROME, None, query="width=800")
    accept("accept-null-original", r + " (no query: the cache key is the bare path)", CHROME,
           None, query="")
    accept("accept-null-format-avif", r + " (an explicit format)", "*/*", None,
           query="width=800&format=avif")
    accept("accept-null-format-webp-no-accept", r, None, None, query="format=webp")
    accept("accept-null-client-header", r + "; a client's X-Imgedge-Accept is removed",
           CHROME, None, query="width=800", client="avif")
    accept("accept-null-watermark-auto", r + " (auto inside a watermark is not format=auto)",
           CHROME, None, query="watermarkText=format%3Dauto")
    r = "cache key: canonical path and query, then |class; S3 key: v/{image_id}/{sig}.{class}"
    accept("accept-auto-alone", r, "image/webp", "webp", query="format=auto")
    accept("accept-auto-all", r, SAFARI_AVIF, "avif", query=ALL_V1_1_CONTAIN_AUTO)
    accept("accept-auto-all-basic", r, "*/*", "basic", query=ALL_V1_1_CONTAIN_AUTO)
    accept("accept-auto-pipe-in-watermark", r + " (a | in a watermark is %7C)", FIREFOX, "avif",
           query="width=800&format=auto&watermarkText=a%7Cb")
    accept("accept-auto-image-b", r, CHROME, "avif", image_id=B)
    return out


# ---------------------------------------------------------------------------
# Building the file
# ---------------------------------------------------------------------------


def build_document() -> dict:
    keys = {image_id: url_key(URL_SECRET, image_id) for image_id in IMAGE_IDS}
    build_cases()

    cases = []
    for name, rule, query, expected, image_id in CASES:
        entry = {"name": name, "rule": rule, "image_id": image_id, "query": query}
        try:
            parsed = parse(query)
        except UrlError as err:
            entry.update(expect="error", error=err.code)
            got = f"! {err.code}"
        else:
            sig = sign(keys[image_id], parsed.canonical_query)
            entry.update(
                expect="canonical" if parsed.is_canonical else "redirect",
                canonical_query=parsed.canonical_query,
                sig=sig,
                path=variant_path(image_id, sig, parsed.canonical_query),
            )
            got = "=" if parsed.is_canonical else f"-> {parsed.canonical_query}"
        if got != expected:
            raise SystemExit(f"case {name}: expected {expected!r}, computed {got!r}")
        cases.append(entry)

    requests = []
    for name, rule, path, query, status, *error in build_requests(keys):
        response = handle_request(URL_SECRET, path, query)
        if response.status != status or response.error != (error[0] if error else None):
            raise SystemExit(f"request {name}: expected {status} {error}, computed {response}")
        entry = {"name": name, "rule": rule, "path": path, "query": query, "status": status}
        if response.error:
            entry["error"] = response.error
        if response.location:
            entry["location"] = response.location
        requests.append(entry)

    accepts = []
    for name, rule, image_id, query, accept_header, client, expected in build_accept():
        parsed = parse(query)
        if not parsed.is_canonical:
            raise SystemExit(f"accept {name}: the query is not canonical")
        sig = sign(keys[image_id], parsed.canonical_query)
        path = f"/i/{image_id}/{sig}"
        if handle_request(URL_SECRET, path, query).status != 200:
            raise SystemExit(f"accept {name}: the request is not served")
        klass = request_class(parsed.canonical_query, accept_header)
        if klass != expected:
            raise SystemExit(f"accept {name}: expected {expected}, computed {klass}")
        accepts.append({
            "name": name,
            "rule": rule,
            "path": path,
            "query": query,
            "accept": accept_header,
            "client_accept_class": client,
            "accept_class": klass,
            "cache_key": cache_key(image_id, sig, parsed.canonical_query, klass),
            "s3_key": s3_key(image_id, sig, klass),
        })

    names = [c["name"] for c in cases] + [r["name"] for r in requests]
    names += [a["name"] for a in accepts]
    duplicates = [n for n, count in Counter(names).items() if count > 1]
    if duplicates:
        raise SystemExit(f"duplicate vector names: {duplicates}")

    # Epoch 0 for every image (the key every case is signed with), then epochs 1 and 2 of
    # the first image.
    key_epochs = [(image_id, 0) for image_id in IMAGE_IDS] + [(A, 1), (A, 2)]
    return {
        "spec": SPEC,
        "generator": "testdata/gen_url_vectors.py",
        "url_secret": URL_SECRET.hex(),
        "keys": [
            {"image_id": i, "epoch": e, "url_key": url_key(URL_SECRET, i, e).hex()}
            for i, e in key_epochs
        ],
        "cases": cases,
        "requests": requests,
        "accept": accepts,
    }


def self_test() -> None:
    # BLAKE3's published keyed-hash vector for the empty input.
    key = b"whats the Elvish word for friend"
    assert blake3.blake3(b"", key=key).hexdigest() == (
        "92b2b75604ed3c761f9d6f62392c8a9227ad0ea3f09573e783f1498a4ed60d26"
    ), "blake3 keyed hash does not match the reference vector"

    def error_of(query: str) -> str | None:
        try:
            parse(query)
        except UrlError as err:
            return err.code
        return None

    # A v1 URL keeps its sig under v1.1 (the example of docs/transform-urls.md).
    assert sign(url_key(URL_SECRET, A), "width=800&height=600&fit=inside") == (
        "-kxNs2ASHLGRbeQtPPapdw"
    ), "a v1 sig changed"
    # Key epochs: 0 is v1's key; e >= 1 hashes "{image_id}:{e}".
    assert url_key(URL_SECRET, A, 0) == blake3.blake3(A.encode(), key=URL_SECRET).digest()
    assert url_key(URL_SECRET, A, 2) == blake3.blake3((A + ":2").encode(), key=URL_SECRET).digest()
    assert url_key(URL_SECRET, A, 1) != url_key(URL_SECRET, A, 0)

    # Rounding works on the decimal digits, half-up (Python's round(2.25, 1) is 2.2 and
    # round(1.15, 1) is 1.1: neither binary floats nor half-even would pass these).
    assert check_dpr("1.05") == "1.1" and check_dpr("1.15") == "1.2"
    assert check_dpr("2.25") == "2.3" and check_dpr("0.95") is None
    assert check_dpr("4.04") == "4" and error_of("dpr=4.05") == "out_of_range"
    assert check_sharpen("0.25") == "0.3" and error_of("sharpen=0.15") == "out_of_range"
    assert check_sharpen("0.04") is None and error_of("sharpen=-0") == "out_of_range"
    assert check_gravity("1.0004,0") == "1,0" and check_gravity("0.4995,0.5") is None
    assert check_gravity("0.1235,0.0005") == "0.124,0.001"
    assert check_gravity("centre") is None and error_of("gravity=Centre") == "bad_value"
    assert check_background("FFFFFFFF") == "ffffff" and check_background("FFFFFF80") == "ffffff80"

    # The whole shape of a value with parts is checked before any range.
    assert error_of("crop=-1,2,3") == "bad_value"
    assert error_of("crop=-1,0,10,10") == "out_of_range"
    assert error_of("crop=-1,2,3,x") == "bad_value"
    assert error_of("gravity=2,x") == "bad_value"

    # Omitted parameters are still validated; the first invalid one in raw order wins.
    assert parse("dpr=2").canonical_query == "" and error_of("dpr=0.5") == "out_of_range"
    assert error_of("width=800&gravity=up") == "bad_value"
    assert error_of("gravity=up&width=0") == "bad_value"
    assert error_of("width=0&gravity=up") == "out_of_range"
    assert error_of("dpr=x&crop=1,2,3&crop=1,2,3,4") == "duplicate_param"

    # Keeping dpr and gravity depends on the other parameters.
    assert parse("width=8&height=6&fit=cover&gravity=north").canonical_query == (
        "width=8&height=6&gravity=north"
    )
    assert parse("width=8&height=6&fit=contain&gravity=north").canonical_query == (
        "width=8&height=6&fit=contain"
    )
    assert parse("height=6&dpr=1.5&gravity=east").canonical_query == "height=6&dpr=1.5"
    assert parse("crop=0%2C0%2C9%2C9").canonical_query == "crop=0,0,9,9"

    # Accept classes, and the keys of format=auto variants.
    assert accept_class(None) == "basic" and accept_class("") == "basic"
    assert accept_class("IMAGE/AVIF") == "avif"
    assert accept_class("image/avif; q=0.0") == "basic"
    assert accept_class("image/avif;q=0.0000") == "avif"  # not a qvalue: still listed
    assert accept_class("image/avif;q=0,image/avif") == "avif"
    assert accept_class("image/webp;q=1,image/avif;q=0.1") == "avif"
    assert accept_class("image/*,*/*") == "basic"
    assert request_class("width=800&format=avif", "image/avif") is None
    assert request_class("watermarkText=format%3Dauto", "image/avif") is None
    assert cache_key(A, "S" * 22, "format=auto&watermarkText=%7C", "webp") == (
        f"/i/{A}/{'S' * 22}?format=auto&watermarkText=%7C|webp"
    )
    assert cache_key(A, "S" * 22, "", None) == f"/i/{A}/{'S' * 22}"
    assert s3_key(A, "S" * 22, "basic") == f"v/{A}/{'S' * 22}.basic"
    assert s3_key(A, "S" * 22, None) == f"v/{A}/{'S' * 22}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if url-vectors.json differs from what would be generated")
    args = parser.parse_args()

    self_test()
    document = build_document()
    text = json.dumps(document, indent=2, ensure_ascii=True) + "\n"
    out = Path(__file__).resolve().parent / "url-vectors.json"

    summary = Counter(c["expect"] for c in document["cases"])
    summary.update(f"status {r['status']}" for r in document["requests"])
    summary.update(f"class {a['accept_class'] or 'null'}" for a in document["accept"])
    print(f"{len(document['keys'])} keys, {len(document['cases'])} cases, "
          f"{len(document['requests'])} requests, {len(document['accept'])} accept: "
          + ", ".join(f"{k} {v}" for k, v in sorted(summary.items())))

    if args.check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            print(f"{out.name} is stale: run python3 testdata/gen_url_vectors.py", file=sys.stderr)
            return 1
        print(f"{out.name} is up to date")
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
