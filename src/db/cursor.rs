//! The opaque position in a keyset-paginated image list.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;
use uuid::Uuid;

/// The last item of a page: the next page starts strictly after `(created_at, id)` in
/// newest-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCursor {
    pub created_at: OffsetDateTime,
    pub id: Uuid,
}

/// Leads the encoded bytes, so the layout can change without misreading old cursors.
const VERSION: u8 = 1;
/// Version, microseconds since the Unix epoch (big-endian i64), id.
const LEN: usize = 1 + 8 + 16;

impl PageCursor {
    /// The opaque form handed to clients: base64url without padding (34 characters).
    /// Exact to the microsecond, Postgres's precision.
    pub fn encode(&self) -> String {
        let micros = (self.created_at.unix_timestamp_nanos() / 1_000) as i64;
        let mut raw = [0u8; LEN];
        raw[0] = VERSION;
        raw[1..9].copy_from_slice(&micros.to_be_bytes());
        raw[9..].copy_from_slice(self.id.as_bytes());
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The cursor [`encode`](Self::encode) produced, or `None` for anything else (which
    /// the API answers as a bad request).
    pub fn decode(text: &str) -> Option<PageCursor> {
        let raw = URL_SAFE_NO_PAD.decode(text).ok()?;
        let raw: [u8; LEN] = raw.try_into().ok()?;
        if raw[0] != VERSION {
            return None;
        }
        let micros = i64::from_be_bytes(raw[1..9].try_into().ok()?);
        let created_at =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).ok()?;
        let id = Uuid::from_bytes(raw[9..].try_into().ok()?);
        Some(PageCursor { created_at, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(micros: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).expect("in range")
    }

    #[test]
    fn round_trips_to_the_microsecond() {
        let cursor = PageCursor {
            created_at: at(1_772_368_496_123_456),
            id: Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
        };
        let text = cursor.encode();
        assert_eq!(text.len(), 34);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(PageCursor::decode(&text), Some(cursor));
    }

    #[test]
    fn pre_epoch_times_round_trip() {
        let cursor = PageCursor {
            created_at: at(-1),
            id: Uuid::nil(),
        };
        assert_eq!(PageCursor::decode(&cursor.encode()), Some(cursor));
    }

    #[test]
    fn refuses_anything_else() {
        let good = PageCursor {
            created_at: at(1_772_323_200_000_000),
            id: Uuid::from_u128(7),
        }
        .encode();
        let mut wrong_version = good.clone().into_bytes();
        wrong_version[0] = b'B';
        for bad in [
            "",
            "x",
            &good[..33],
            &format!("{good}A"),
            &format!("{good}=="),
            &good.replace('-', "+"),
            std::str::from_utf8(&wrong_version).expect("ascii"),
            "not a cursor at all, really not!!!",
        ] {
            if bad != good {
                assert_eq!(PageCursor::decode(bad), None, "{bad:?}");
            }
        }
    }

    #[test]
    fn out_of_range_times_are_refused() {
        let mut raw = [0u8; LEN];
        raw[0] = VERSION;
        raw[1..9].copy_from_slice(&i64::MAX.to_be_bytes());
        assert_eq!(PageCursor::decode(&URL_SAFE_NO_PAD.encode(raw)), None);
    }
}
