//! Form-decoding of one raw query component (`+` is a space, `%XX` in either hex case),
//! lazily, so that short values are checked without allocating.

/// A `%` not followed by two hexadecimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// The decoded bytes of a raw component; stops after the first [`Malformed`].
#[derive(Debug, Clone)]
pub(crate) struct FormDecoder<'a> {
    rest: &'a [u8],
}

impl<'a> FormDecoder<'a> {
    pub(crate) fn new(raw: &'a str) -> Self {
        Self {
            rest: raw.as_bytes(),
        }
    }
}

const fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Iterator for FormDecoder<'_> {
    type Item = Result<u8, Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&c, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(match c {
            b'+' => Ok(b' '),
            b'%' => {
                if let [h, l, tail @ ..] = rest
                    && let (Some(h), Some(l)) = (hex_value(*h), hex_value(*l))
                {
                    self.rest = tail;
                    Ok((h << 4) | l)
                } else {
                    self.rest = &[];
                    Err(Malformed)
                }
            }
            c => Ok(c),
        })
    }
}

/// Whether `raw` decodes to itself (no `%`, no `+`).
pub(crate) fn is_plain(raw: &str) -> bool {
    !raw.bytes().any(|b| b == b'%' || b == b'+')
}

/// Decodes `raw` into a stack buffer of `N` bytes: `None` when malformed or longer.
pub(crate) fn decode_small<const N: usize>(raw: &str) -> Option<([u8; N], usize)> {
    let mut buf = [0u8; N];
    let mut len = 0;
    for b in FormDecoder::new(raw) {
        let b = b.ok()?;
        *buf.get_mut(len)? = b;
        len += 1;
    }
    Some((buf, len))
}

/// Decodes `raw` into owned bytes (`None` when malformed).
pub(crate) fn decode_owned(raw: &str) -> Option<Vec<u8>> {
    if is_plain(raw) {
        return Some(raw.as_bytes().to_vec());
    }
    let mut out = Vec::with_capacity(raw.len());
    for b in FormDecoder::new(raw) {
        out.push(b.ok()?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Result<Vec<u8>, Malformed> {
        FormDecoder::new(s).collect()
    }

    #[test]
    fn decodes_form_encoding() {
        assert_eq!(dec("a+b%20c%c3%A9"), Ok(b"a b c\xc3\xa9".to_vec()));
        assert_eq!(dec("%"), Err(Malformed));
        assert_eq!(dec("%4"), Err(Malformed));
        assert_eq!(dec("%G1"), Err(Malformed));
        assert_eq!(dec("%1G"), Err(Malformed));
        assert_eq!(dec("%%41"), Err(Malformed));
        assert_eq!(dec("%2541"), Ok(b"%41".to_vec()));
        assert_eq!(dec(""), Ok(vec![]));
    }

    #[test]
    fn small_buffers() {
        assert_eq!(
            decode_small::<4>("ab%63d").map(|(b, n)| b[..n].to_vec()),
            Some(b"abcd".to_vec())
        );
        assert_eq!(decode_small::<4>("abcde"), None);
        assert_eq!(decode_small::<4>("a%"), None);
        assert_eq!(decode_owned("a%2"), None);
        assert_eq!(decode_owned("a+b"), Some(b"a b".to_vec()));
    }
}
