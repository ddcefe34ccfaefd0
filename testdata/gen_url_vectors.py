#!/usr/bin/env python3
"""Reference implementation of transform URLs v1 and generator of the shared vectors.

This file is an independent, deliberately plain implementation of the contract in
`transform-url-v1` (the spec) together with the project's interpretation decisions.
It writes `testdata/url-vectors.json`, the file that every implementation (Rust,
the Lambda@Edge functions, the web client) tests against.

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

# Parameter names in canonical order (the order of the spec's table).
PARAMS = [
    "width",
    "height",
    "fit",
    "rotate",
    "flip",
    "mirror",
    "grayscale",
    "blur",
    "quality",
    "format",
    "watermarkText",
]

FITS = {"cover", "contain", "fill", "inside", "outside"}
BOOLEANS = {"1": True, "true": True, "0": False, "false": False}
FORMATS = {"jpeg": "jpeg", "jpg": "jpeg", "png": "png", "webp": "webp", "avif": "avif"}
DEFAULT_QUALITY = 80
MAX_DIMENSION = 8192
MAX_WATERMARK_CHARS = 64

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1

# Bytes that stay literal in a canonical watermarkText value.
UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SIG_RE = re.compile(r"[A-Za-z0-9_-]{22}")
INTEGER_RE = re.compile(r"-?[0-9]+")
DECIMAL_RE = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")
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


def check_blur(value: str) -> str | None:
    match = DECIMAL_RE.fullmatch(value)
    if not match:
        raise UrlError("bad_value", "blur must be a decimal number such as 2 or 2.5")
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    if sign:
        raise UrlError("out_of_range", "blur must not be negative")
    whole = whole.lstrip("0") or "0"
    if len(whole) > 4:
        raise UrlError("out_of_range", "blur must be at most 100")
    # Round half-up to tenths on the decimal digits themselves (never via floats).
    tenths = int(whole) * 10 + int((fraction + "0")[0])
    if len(fraction) >= 2 and fraction[1] >= "5":
        tenths += 1
    if tenths == 0:
        return None
    if tenths < 3 or tenths > 1000:
        raise UrlError("out_of_range", "blur must be 0 or between 0.3 and 100")
    whole_part, tenth = divmod(tenths, 10)
    return str(whole_part) if tenth == 0 else f"{whole_part}.{tenth}"


def check_quality(value: str) -> str | None:
    quality = parse_integer("quality", value)
    if not 1 <= quality <= 100:
        raise UrlError("out_of_range", "quality must be between 1 and 100")
    return str(quality) if quality != DEFAULT_QUALITY else None


def check_format(value: str) -> str:
    if value not in FORMATS:
        raise UrlError("bad_value", "format must be one of jpeg, jpg, png, webp, avif")
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
    if name in ("width", "height"):
        return check_dimension(name, value)
    if name == "fit":
        return check_fit(value)
    if name == "rotate":
        return check_rotate(value)
    if name in ("flip", "mirror", "grayscale"):
        return check_boolean(name, value)
    if name == "blur":
        return check_blur(value)
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
    """Join the canonical values in table order, leaving out omitted ones."""
    kept = dict(values)
    if kept.get("fit") == "cover" or not ("width" in kept and "height" in kept):
        kept.pop("fit", None)
    return "&".join(f"{name}={kept[name]}" for name in PARAMS if kept.get(name) is not None)


def url_key(url_secret: bytes, image_id: str) -> bytes:
    return blake3.blake3(image_id.encode("ascii"), key=url_secret).digest()


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


# Requests, built from the values above. Each: (name, rule, path, query, status, extra)
def build_requests(keys: dict[str, bytes]) -> list[tuple]:
    def sig_for(image_id: str, canonical_query: str) -> str:
        return sign(keys[image_id], canonical_query)

    s800 = sig_for(A, "width=800")
    s_wh = sig_for(A, "width=800&height=600")
    s_empty = sig_for(A, "")
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
    ]


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

    names = [c["name"] for c in cases] + [r["name"] for r in requests]
    duplicates = [n for n, count in Counter(names).items() if count > 1]
    if duplicates:
        raise SystemExit(f"duplicate vector names: {duplicates}")

    return {
        "spec": "transform-url-v1",
        "generator": "testdata/gen_url_vectors.py",
        "url_secret": URL_SECRET.hex(),
        "keys": [{"image_id": i, "url_key": keys[i].hex()} for i in IMAGE_IDS],
        "cases": cases,
        "requests": requests,
    }


def self_test() -> None:
    # BLAKE3's published keyed-hash vector for the empty input.
    key = b"whats the Elvish word for friend"
    assert blake3.blake3(b"", key=key).hexdigest() == (
        "92b2b75604ed3c761f9d6f62392c8a9227ad0ea3f09573e783f1498a4ed60d26"
    ), "blake3 keyed hash does not match the reference vector"


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
    print(f"{len(document['cases'])} cases, {len(document['requests'])} requests: "
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
