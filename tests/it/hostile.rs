//! Hostile uploads against the real binary (`imgedge dev`: the API behind its edge, the
//! embedded S3 server, PostgreSQL): a corpus the test generates itself (broken files of every
//! accepted format, decompression bombs, metadata bombs, polyglots, formats imgedge does not
//! decode sent as `image/jpeg`, an empty body, a huge body fast and slowly, a client that
//! never finishes its headers). Every refusal is a 4xx with a stable code within two seconds
//! (the slow senders: a timeout that frees the connection), the process stays under 512 MiB,
//! nothing refused is stored in S3 or PostgreSQL, and the process keeps serving.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::binary::{Process, database_url_of, free_port, imgedge, wait_ready};
use crate::support::{gif, photo, png_header_only, render};

/// What a hostile upload must get.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Exactly this status and code.
    Refused(u16, &'static str),
    /// Some 4xx with a code: a broken file may fail at the header or in the pixels.
    AnyRefusal,
    /// A file that is still a valid image after the damage (a flipped bit in compressed
    /// pixels) may be accepted; refused, it gets a 4xx with a code.
    AcceptedOrRefused,
    /// A valid image, however odd (a large metadata block): accepted.
    Accepted,
}

struct Case {
    what: String,
    content_type: &'static str,
    bytes: Vec<u8>,
    expect: Expect,
}

fn case(
    what: impl Into<String>,
    content_type: &'static str,
    bytes: Vec<u8>,
    expect: Expect,
) -> Case {
    Case {
        what: what.into(),
        content_type,
        bytes,
        expect,
    }
}

/// xorshift64: the same "random" positions every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn png_chunk(out: &mut Vec<u8>, kind: [u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).expect("chunk size").to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&kind);
    crc.update(data);
    out.extend_from_slice(&kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// `png` with an extra chunk right after IHDR.
fn with_png_chunk(png: &[u8], kind: [u8; 4], data: &[u8]) -> Vec<u8> {
    // Signature (8) + IHDR (4 + 4 + 13 + 4).
    let at = 8 + 25;
    let mut out = png[..at].to_vec();
    png_chunk(&mut out, kind, data);
    out.extend_from_slice(&png[at..]);
    out
}

/// zlib of `n` zero bytes: about a thousandth of `n`.
fn zlib_zeros(n: usize) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0; 1 << 20];
    let mut left = n;
    while left > 0 {
        let take = left.min(block.len());
        z.write_all(&block[..take]).expect("compress");
        left -= take;
    }
    z.finish().expect("compress")
}

/// A WebP whose VP8X header declares a 16384×16384 canvas, with no pixels.
fn webp_bomb() -> Vec<u8> {
    let mut vp8x = vec![0u8; 10];
    let side = 16_384u32 - 1;
    vp8x[4..7].copy_from_slice(&side.to_le_bytes()[..3]);
    vp8x[7..10].copy_from_slice(&side.to_le_bytes()[..3]);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(4 + 8 + 10u32).to_le_bytes());
    out.extend_from_slice(b"WEBPVP8X");
    out.extend_from_slice(&10u32.to_le_bytes());
    out.extend_from_slice(&vp8x);
    out
}

/// The pieces of a GIF of 1×1 frames: header with a two-colour palette, and one frame.
const GIF_HEAD: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff";
const GIF_FRAME: &[u8] =
    b"\x21\xf9\x04\x00\x01\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00";

/// A GIF whose logical screen is 65535×65535, holding one 1×1 frame.
fn gif_bomb() -> Vec<u8> {
    let mut out = GIF_HEAD.to_vec();
    out[6..10].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    out.extend_from_slice(GIF_FRAME);
    out.push(0x3b);
    out
}

/// An animated GIF of `frames` 1×1 frames (a few bytes each).
fn gif_frames(frames: usize) -> Vec<u8> {
    let mut out = GIF_HEAD.to_vec();
    for _ in 0..frames {
        out.extend_from_slice(GIF_FRAME);
    }
    out.push(0x3b);
    out
}

/// `avif` with its `ispe` (image spatial extent) set to 60000×60000.
fn avif_bomb(avif: &[u8]) -> Vec<u8> {
    let mut out = avif.to_vec();
    let at = out
        .windows(4)
        .position(|w| w == b"ispe")
        .expect("an ispe box");
    // Box type, then version and flags (4), then width and height (4 each).
    out[at + 8..at + 12].copy_from_slice(&60_000u32.to_be_bytes());
    out[at + 12..at + 16].copy_from_slice(&60_000u32.to_be_bytes());
    out
}

/// `jpeg` with an APP1 Exif segment of about `size` bytes after SOI.
fn with_exif(jpeg: &[u8], size: usize) -> Vec<u8> {
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\0\0\0\0\0\0".to_vec();
    exif.resize(size - 2, 0);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(
        &u16::try_from(exif.len() + 2)
            .expect("segment size")
            .to_be_bytes(),
    );
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A small valid file of each accepted format: name, media type, bytes.
type Sample = (&'static str, &'static str, Vec<u8>);

fn corpus() -> Vec<Case> {
    let formats = samples();
    let mut cases = damaged(&formats);
    cases.extend(bombs(&formats));
    cases.extend(not_images(&formats));
    cases
}

fn samples() -> Vec<Sample> {
    let source = photo("detail.jpg");
    vec![
        (
            "JPEG",
            "image/jpeg",
            render(&source, "width=240&format=jpeg").bytes,
        ),
        (
            "PNG",
            "image/png",
            render(&source, "width=240&format=png").bytes,
        ),
        (
            "WebP",
            "image/webp",
            render(&source, "width=240&format=webp").bytes,
        ),
        (
            "AVIF",
            "image/avif",
            render(&source, "width=240&format=avif").bytes,
        ),
        ("GIF", "image/gif", gif(120, 80, false)),
    ]
}

/// Each format truncated, and with bits flipped in its compressed pixels.
fn damaged(formats: &[Sample]) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for (name, content_type, bytes) in formats {
        for tenth in [1, 5, 9] {
            let cut = bytes.len() * tenth / 10;
            cases.push(case(
                format!("{name} truncated to {tenth}0 %"),
                content_type,
                bytes[..cut].to_vec(),
                Expect::AnyRefusal,
            ));
        }
        for round in 0..3 {
            let mut flipped = bytes.clone();
            for _ in 0..8 {
                // In the second half: past the headers, in the compressed pixels.
                let half = flipped.len() / 2;
                let at = half + (rng.next() as usize) % (flipped.len() - half);
                flipped[at] ^= 1 << (rng.next() % 8);
            }
            cases.push(case(
                format!("{name} with 8 bits flipped ({round})"),
                content_type,
                flipped,
                Expect::AcceptedOrRefused,
            ));
        }
    }
    // 200 bytes of a JPEG's entropy-coded data flipped: libjpeg decodes it with warnings
    // (grey blocks), and a decode that fails on warnings refuses it like a truncation.
    let jpeg = photo("detail.jpg");
    let scan = crate::support::find(&jpeg, &[0xff, 0xda]).expect("a scan") + 400;
    for round in 0..3 {
        let mut flipped = jpeg.clone();
        let mut done = 0;
        while done < 200 {
            let at = scan + (rng.next() as usize) % (flipped.len() - 2 - scan);
            // Markers and stuffed bytes stay as they are, and no new marker is made: the
            // file keeps its structure, and only its compressed pixels are wrong.
            let changed = flipped[at] ^ 0x55;
            if flipped[at] == 0xff || flipped[at - 1] == 0xff || changed == 0xff {
                continue;
            }
            flipped[at] = changed;
            done += 1;
        }
        cases.push(case(
            format!("JPEG photo with 200 bytes of entropy data flipped ({round})"),
            "image/jpeg",
            flipped,
            Expect::Refused(422, "corrupt_image"),
        ));
    }
    cases
}

/// Files that declare more than they hold: pixels, frames, metadata.
fn bombs(formats: &[Sample]) -> Vec<Case> {
    let png = &formats[1].2;
    let jpeg = &formats[0].2;
    let avif = &formats[3].2;
    let bomb = Expect::Refused(422, "too_many_pixels");
    let metadata_bomb = Expect::Refused(422, "metadata_too_large");
    let inflating = zlib_zeros(256 << 20);
    vec![
        case(
            "PNG declaring 100000x100000",
            "image/png",
            png_header_only(100_000, 100_000),
            bomb,
        ),
        case(
            "WebP declaring 16384x16384",
            "image/webp",
            webp_bomb(),
            Expect::AnyRefusal,
        ),
        // libvips sizes a GIF by its frames, not its declared screen: this one is a 1x1
        // image, and nothing large is ever allocated for it.
        case(
            "GIF screen of 65535x65535",
            "image/gif",
            gif_bomb(),
            Expect::AcceptedOrRefused,
        ),
        case(
            "AVIF declaring 60000x60000",
            "image/avif",
            avif_bomb(avif),
            Expect::AnyRefusal,
        ),
        case(
            "GIF with 5000 frames",
            "image/gif",
            gif_frames(5000),
            Expect::Refused(422, "too_many_frames"),
        ),
        case(
            "PNG with a zTXt inflating to 256 MiB",
            "image/png",
            with_png_chunk(
                png,
                *b"zTXt",
                &[b"Comment\0\0".as_slice(), &inflating].concat(),
            ),
            metadata_bomb,
        ),
        case(
            "PNG with an iCCP inflating to 256 MiB",
            "image/png",
            with_png_chunk(png, *b"iCCP", &[b"icc\0\0".as_slice(), &inflating].concat()),
            metadata_bomb,
        ),
        case(
            "PNG with a zTXt inflating to 50 MB",
            "image/png",
            with_png_chunk(
                png,
                *b"zTXt",
                &[b"Comment\0\0".as_slice(), &zlib_zeros(50_000_000)].concat(),
            ),
            metadata_bomb,
        ),
        case(
            "JPEG with 20 EXIF blocks of 60 KiB",
            "image/jpeg",
            (0..20).fold(jpeg.clone(), |out, _| with_exif(&out, 60 * 1024)),
            metadata_bomb,
        ),
        case(
            "JPEG with a 60 KiB EXIF block",
            "image/jpeg",
            with_exif(jpeg, 60 * 1024),
            Expect::Accepted,
        ),
    ]
}

/// Polyglots, formats imgedge does not decode (sent as `image/jpeg`), and nothing at all.
fn not_images(formats: &[Sample]) -> Vec<Case> {
    let png = &formats[1].2;
    let jpeg = &formats[0].2;
    let unsupported = Expect::Refused(415, "unsupported_format");
    let mut jpeg_zip = jpeg.clone();
    jpeg_zip.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0secret.txt PK\x05\x06\0\0\0\0\x01\0");
    let mut png_html = png.clone();
    png_html.extend_from_slice(b"<html><script>alert(document.cookie)</script></html>");
    let svg = br#"<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><text>&xxe;</text></svg>"#;
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    let postscript = b"%!PS-Adobe-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto 10 10 lineto stroke showpage\n";
    let tiff = b"II*\0\x08\0\0\0\x01\0\x00\x01\x03\0\x01\0\0\0\x0a\0\0\0\0\0\0\0";
    let vips = [&[0x08u8, 0xf2, 0xa6, 0xb6][..], &[0; 60]].concat();
    let miff =
        b"id=ImageMagick  version=1.0\nclass=DirectClass columns=1 rows=1\n\x0c\n:\x1a\xff\xff\xff";
    let psd = [
        &b"8BPS\0\x01\0\0\0\0\0\0\0\x03\0\0\0\x01\0\0\0\x01\0\x08\0\x03"[..],
        &[0; 32],
    ]
    .concat();
    let xcf = [&b"gimp xcf file\0"[..], &[0; 32]].concat();
    let bmp = [
        &b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0\0\0\x01\0\0\0\x01\0\x18\0"[..],
        &[0; 28],
    ]
    .concat();
    vec![
        case("JPEG+ZIP polyglot", "image/jpeg", jpeg_zip, unsupported),
        case("PNG+HTML polyglot", "image/png", png_html, unsupported),
        case(
            "SVG with script and an external entity",
            "image/jpeg",
            svg.to_vec(),
            unsupported,
        ),
        case("PDF", "image/jpeg", pdf.to_vec(), unsupported),
        case("PostScript", "image/jpeg", postscript.to_vec(), unsupported),
        case("TIFF", "image/jpeg", tiff.to_vec(), unsupported),
        case("libvips .v", "image/jpeg", vips, unsupported),
        case("ImageMagick MIFF", "image/jpeg", miff.to_vec(), unsupported),
        case("Photoshop PSD", "image/jpeg", psd, unsupported),
        case("GIMP XCF", "image/jpeg", xcf, unsupported),
        case("BMP", "image/jpeg", bmp, unsupported),
        case(
            "0 bytes",
            "image/jpeg",
            Vec::new(),
            Expect::Refused(400, "empty_file"),
        ),
    ]
}

/// `imgedge dev` on the test's database and a fresh data directory.
pub(crate) struct Dev {
    process: Process,
    pub(crate) base: String,
    pub(crate) port: u16,
    data_dir: tempfile::TempDir,
    pub(crate) http: reqwest::Client,
}

impl Dev {
    pub(crate) async fn start(pool: &PgPool, extra: &[(&str, &str)]) -> Dev {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut env = vec![
            ("DATABASE_URL", database_url_of(pool)),
            ("REDIS_URL", "redis://127.0.0.1:6379".to_owned()),
            (
                "IMGEDGE_REDIS_PREFIX",
                format!("test:{}:", uuid::Uuid::new_v4()),
            ),
        ];
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let listen = format!("127.0.0.1:{port}");
        let dir = data_dir.path().display().to_string();
        let args = ["dev", "--listen", &listen, "--data-dir", &dir];
        let process = Process(imgedge(&args, &env).spawn().expect("dev starts"));
        let base = format!("http://127.0.0.1:{port}");
        // The edge closes a connection idle for its 10 s header timeout; a pooled connection
        // reused at that moment fails the request, so the client lets them go sooner.
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client");
        wait_ready(&http, &format!("{base}/healthz")).await;
        Dev {
            process,
            base,
            port,
            data_dir,
            http,
        }
    }

    pub(crate) async fn user(&self, email: &str) -> String {
        crate::binary::sign_up(&self.http, &self.base, email).await
    }

    /// The sum of a counter over its labels, from the stack's `/metrics`.
    pub(crate) async fn counter(&self, name: &str) -> f64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .filter(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// The process id of `imgedge dev`.
    pub(crate) fn pid(&self) -> u32 {
        self.process.0.id()
    }

    /// Resets the process's peak resident memory to its current figure (`clear_refs`,
    /// Linux 4.0 and later), so that a later peak measures what came after.
    pub(crate) fn reset_peak_rss(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").expect("clear_refs");
    }

    /// The process's peak resident memory (`VmHWM`), in MiB.
    pub(crate) fn peak_rss_mib(&self) -> u64 {
        self.proc_status_mib("VmHWM:")
    }

    /// The process's resident memory now (`VmRSS`), in MiB.
    pub(crate) fn rss_mib(&self) -> u64 {
        self.proc_status_mib("VmRSS:")
    }

    fn proc_status_mib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.0.id()))
            .expect("proc status");
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/PID/status"));
        kib / 1024
    }

    /// Originals in the embedded S3 server's bucket directory.
    pub(crate) fn stored_originals(&self) -> usize {
        fn count(dir: &Path) -> usize {
            std::fs::read_dir(dir).map_or(0, |entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let path = e.path();
                        if path.is_dir() { count(&path) } else { 1 }
                    })
                    .sum()
            })
        }
        count(&self.data_dir.path().join("s3/imgedge/o"))
    }

    /// Sends `head` and then `body_chunk` every `pause` (for at most `for_at_most`), and
    /// returns the status line the server answered with, if any, and when the connection
    /// ended (closed by the server, or answered).
    async fn raw_upload(
        &self,
        head: &str,
        body_chunk: &[u8],
        pause: Duration,
        for_at_most: Duration,
    ) -> (Option<String>, Duration) {
        let started = Instant::now();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect");
        stream.write_all(head.as_bytes()).await.expect("head");
        let (mut read, mut write) = stream.into_split();
        let reader = tokio::spawn(async move {
            let mut answer = Vec::new();
            let _ = read.read_to_end(&mut answer).await;
            answer
        });
        while started.elapsed() < for_at_most && !reader.is_finished() {
            if write.write_all(body_chunk).await.is_err() {
                break;
            }
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
        // Answered or closed: stop sending, then read what came back.
        drop(write);
        let answer = tokio::time::timeout(Duration::from_secs(5), reader)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let ended = started.elapsed();
        let text = String::from_utf8_lossy(&answer);
        (
            text.lines()
                .next()
                .map(str::to_owned)
                .filter(|l| !l.is_empty()),
            ended,
        )
    }
}

#[sqlx::test(migrations = false)]
async fn hostile_uploads_are_refused_quickly_and_leave_nothing_behind(pool: PgPool) {
    // Made before the client's first connection: the edge closes a connection idle for its
    // header timeout (10 s), which a slow machine can spend making the corpus.
    let cases = corpus();
    let dev = Dev::start(
        &pool,
        &[
            ("IMGEDGE_QUOTA_UPLOAD", "100000:100000"),
            ("IMGEDGE_UPLOAD_TIMEOUT_MS", "2000"),
        ],
    )
    .await;
    let token = dev.user("hostile@example.com").await;
    let mut accepted = Vec::new();
    let mut report = Vec::new();
    for case in cases {
        let started = Instant::now();
        let resp = dev
            .http
            .post(format!("{}/v1/images", dev.base))
            .bearer_auth(&token)
            .header("content-type", case.content_type)
            .body(case.bytes)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", case.what));
        let elapsed = started.elapsed();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let code = body["error"].as_str().unwrap_or_default().to_owned();
        report.push(format!("{:<45} {status} {code:<20} {elapsed:?}", case.what));
        assert!(
            elapsed < Duration::from_secs(2),
            "{}: answered after {elapsed:?}",
            case.what
        );
        let refused = (400..500).contains(&status) && !code.is_empty();
        match case.expect {
            Expect::Refused(want_status, want_code) => assert_eq!(
                (status, code.as_str()),
                (want_status, want_code),
                "{}",
                case.what
            ),
            Expect::AnyRefusal => assert!(refused, "{}: {status} {body}", case.what),
            Expect::AcceptedOrRefused => {
                assert!(status == 201 || refused, "{}: {status} {body}", case.what);
            }
            Expect::Accepted => assert_eq!(status, 201, "{}: {body}", case.what),
        }
        if status == 201 {
            accepted.push((case.what, body["id"].as_str().expect("id").to_owned()));
        }
    }

    // What was accepted goes through the real transformer: a variant, or a clean error.
    for (what, id) in &accepted {
        let url =
            crate::binary::mint(&dev.http, &dev.base, &token, id, "width=100&format=webp").await;
        let started = Instant::now();
        let resp = dev.http.get(&url).send().await.expect("variant");
        let elapsed = started.elapsed();
        let status = resp.status().as_u16();
        let body = resp.bytes().await.expect("body");
        report.push(format!("variant of {what:<34} {status} {elapsed:?}"));
        assert!(
            elapsed < Duration::from_secs(2),
            "{what}: rendered after {elapsed:?}"
        );
        if status == 200 {
            let info = crate::support::engine()
                .inspect(&body)
                .unwrap_or_else(|e| panic!("{what}: the variant does not decode: {e}"));
            assert!(info.width <= 100, "{what}: {}", info.width);
        } else {
            let error: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            assert!(
                error["error"].as_str().is_some_and(|c| !c.is_empty()),
                "{what}: {status} without a code"
            );
        }
    }
    let accepted = i64::try_from(accepted.len()).expect("count");

    // Bodies: as fast as the connection takes them, or 64 KiB every 100 ms. 1 GiB is
    // refused as soon as its declared size is read; 16 MiB, within the limit but slow, at the
    // upload timeout (2 s here). Either way the connection is released.
    let head = |length: u64| {
        format!(
            "POST /v1/images HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n\
             content-type: image/jpeg\r\ncontent-length: {length}\r\n\r\n"
        )
    };
    let chunk = vec![0xffu8; 256 * 1024];
    let bodies = [
        (
            "1 GiB body, fast",
            1u64 << 30,
            &chunk[..],
            Duration::ZERO,
            " 413 ",
            3,
        ),
        (
            "1 GiB body, slow",
            1 << 30,
            &chunk[..64 * 1024],
            Duration::from_millis(100),
            " 413 ",
            3,
        ),
        (
            "16 MiB body, slow",
            16 << 20,
            &chunk[..64 * 1024],
            Duration::from_millis(100),
            " 408 ",
            5,
        ),
    ];
    for (what, length, piece, pause, status, within) in bodies {
        let (answer, ended) = dev
            .raw_upload(&head(length), piece, pause, Duration::from_secs(20))
            .await;
        report.push(format!("{what}: {answer:?} after {ended:?}"));
        let answer = answer.unwrap_or_default();
        assert!(answer.contains(status), "{what}: {answer}");
        assert!(
            ended < Duration::from_secs(within),
            "{what}: ended after {ended:?}"
        );
    }

    // Headers that never end, a byte a second: the connection is closed at the header
    // timeout (10 s) with nothing handled.
    let (answer, ended) = dev
        .raw_upload(
            "POST /v1/images HTTP/1.1\r\n",
            b"x",
            Duration::from_secs(1),
            Duration::from_secs(20),
        )
        .await;
    report.push(format!(
        "headers a byte a second: {answer:?} after {ended:?}"
    ));
    assert!(
        ended < Duration::from_secs(13),
        "the slow client's connection was held for {ended:?}"
    );

    println!("{}", report.join("\n"));

    // Nothing refused was stored; what was accepted was stored once.
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM images")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(rows, accepted, "rows in PostgreSQL");
    assert_eq!(
        i64::try_from(dev.stored_originals()).expect("count"),
        accepted,
        "originals in S3"
    );

    let peak = dev.peak_rss_mib();
    println!("peak resident memory of imgedge dev: {peak} MiB");
    assert!(peak < 512, "the process peaked at {peak} MiB");

    // And it still serves.
    let resp = dev
        .http
        .post(format!("{}/v1/images", dev.base))
        .bearer_auth(&token)
        .header("content-type", "image/jpeg")
        .body(photo("light.jpg"))
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status(), 201);
}
