//! The spec's S3 key layout, and the CDN paths that cover an image: the one place they are
//! spelt.
//!
//! | what | spelling |
//! |---|---|
//! | an original | `o/{image_id}` ([`ImageId::original_key`]) |
//! | a variant | `v/{image_id}/{sig}` ([`ImageId::variant_key`], [`crate::TransformRequest::variant_key`]) |
//! | a `format=auto` variant's object for accept class `C` | `v/{image_id}/{sig}.{C}` |
//! | all of an image's variants | everything under `v/{image_id}/` ([`ImageId::variants_prefix`]) |
//! | the CDN's copies of an image | `/i/{image_id}/*` ([`ImageId::invalidation_path`]) |
//!
//! [`ObjectKey::parse`] reads the first two back, strictly: the spelling of every value it
//! returns is the key it was given, and any other key (another id spelling, a sig that is
//! not one, anything after it) is not ours. [`ObjectKey::owner`] is looser for variants, on
//! purpose: an image's variants are removed with one delete of its variants prefix, so
//! whatever lies under that prefix (a variant, or what an interrupted write left) is the
//! image's.

use std::fmt;

use super::{AcceptClass, ImageId, Sig};

/// The prefix of every original's key.
pub const ORIGINALS_PREFIX: &str = "o/";

/// The prefix of every variant's key.
pub const VARIANTS_PREFIX: &str = "v/";

/// The prefix of every image path on the CDN (`/i/{image_id}/{sig}?{query}`).
const CDN_PREFIX: &str = "/i/";

/// What follows an image's path prefix in its invalidation path: every path below it.
const CDN_EVERYTHING_BELOW: &str = "/*";

/// An object of the layout, parsed from its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKey {
    /// `o/{image_id}`.
    Original(ImageId),
    /// `v/{image_id}/{sig}`, or `v/{image_id}/{sig}.{class}` for a `format=auto` variant's
    /// object for an accept class.
    Variant(ImageId, Sig, Option<AcceptClass>),
}

impl ObjectKey {
    /// The object `key` names, or `None` for a key of any other shape: a key outside `o/`
    /// and `v/`, an id that is not the lowercase hyphenated UUID, a variant without a
    /// well-formed sig, anything after the id of an original or the sig of a variant.
    pub fn parse(key: &str) -> Option<Self> {
        if let Some(id) = key.strip_prefix(ORIGINALS_PREFIX) {
            return id.parse().ok().map(ObjectKey::Original);
        }
        let (id, name) = key.strip_prefix(VARIANTS_PREFIX)?.split_once('/')?;
        // A sig is base64url, which has no `.`.
        let (sig, class) = match name.split_once('.') {
            Some((sig, class)) => (sig, Some(AcceptClass::from_name(class)?)),
            None => (name, None),
        };
        Some(ObjectKey::Variant(
            id.parse().ok()?,
            sig.parse().ok()?,
            class,
        ))
    }

    /// The image `key` belongs to: that of an original `o/{image_id}`, or that of any key
    /// under a variants prefix `v/{image_id}/` (whether or not a well-formed variant key:
    /// it goes with the image's variants); `None` for any other key.
    pub fn owner(key: &str) -> Option<ImageId> {
        if let Some(id) = key.strip_prefix(ORIGINALS_PREFIX) {
            return id.parse().ok();
        }
        let (id, _) = key.strip_prefix(VARIANTS_PREFIX)?.split_once('/')?;
        id.parse().ok()
    }

    /// The image the object belongs to.
    pub const fn image_id(&self) -> &ImageId {
        match self {
            ObjectKey::Original(id) | ObjectKey::Variant(id, _, _) => id,
        }
    }
}

/// The key: `o/{image_id}` or `v/{image_id}/{sig}`.
impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectKey::Original(id) => write!(f, "{ORIGINALS_PREFIX}{id}"),
            ObjectKey::Variant(id, sig, None) => write!(f, "{VARIANTS_PREFIX}{id}/{sig}"),
            ObjectKey::Variant(id, sig, Some(class)) => {
                write!(f, "{VARIANTS_PREFIX}{id}/{sig}.{class}")
            }
        }
    }
}

impl ImageId {
    /// The S3 key of the original: `o/{image_id}`.
    pub fn original_key(&self) -> String {
        ObjectKey::Original(*self).to_string()
    }

    /// The S3 key of the variant signed `sig`: `v/{image_id}/{sig}`, or, for a
    /// `format=auto` variant's object for an accept class, `v/{image_id}/{sig}.{class}`.
    pub fn variant_key(&self, sig: &Sig, class: Option<AcceptClass>) -> String {
        ObjectKey::Variant(*self, *sig, class).to_string()
    }

    /// The prefix of every S3 key of the image's variants: `v/{image_id}/`.
    pub fn variants_prefix(&self) -> String {
        format!("{VARIANTS_PREFIX}{self}/")
    }

    /// The CDN path pattern covering every variant of the image, as `CloudFront`'s
    /// `CreateInvalidation` and the local edge's purge endpoint take it: `/i/{image_id}/*`.
    pub fn invalidation_path(&self) -> String {
        format!("{CDN_PREFIX}{self}{CDN_EVERYTHING_BELOW}")
    }

    /// The CDN path pattern covering one variant, whatever its query and accept class:
    /// `/i/{image_id}/{sig}*` (a sig has one length, so no other variant's path starts so).
    pub fn variant_invalidation_path(&self, sig: &Sig) -> String {
        format!("{CDN_PREFIX}{self}/{sig}*")
    }

    /// The image of an [`ImageId::invalidation_path`]; `None` for any other path.
    pub fn from_invalidation_path(path: &str) -> Option<Self> {
        path.strip_prefix(CDN_PREFIX)?
            .strip_suffix(CDN_EVERYTHING_BELOW)?
            .parse()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ID: &str = "0b7f3c2e-9d41-4a8e-b6c5-2f1e0d9c8b7a";
    const SIG: &str = "AAECAwQFBgcICQoLDA0ODw";

    fn id() -> ImageId {
        ID.parse().expect("valid id")
    }

    fn sig() -> Sig {
        SIG.parse().expect("valid sig")
    }

    #[test]
    fn keys_are_the_spec_s() {
        assert_eq!(id().original_key(), format!("o/{ID}"));
        assert_eq!(id().variant_key(&sig(), None), format!("v/{ID}/{SIG}"));
        assert_eq!(
            id().variant_key(&sig(), Some(AcceptClass::Webp)),
            format!("v/{ID}/{SIG}.webp")
        );
        assert_eq!(id().variants_prefix(), format!("v/{ID}/"));
        for class in [None, Some(AcceptClass::Basic)] {
            assert!(
                id().variant_key(&sig(), class)
                    .starts_with(&id().variants_prefix())
            );
        }
        assert!(id().original_key().starts_with(ORIGINALS_PREFIX));
        assert!(id().variants_prefix().starts_with(VARIANTS_PREFIX));
    }

    #[test]
    fn keys_round_trip() {
        for key in [
            ObjectKey::Original(id()),
            ObjectKey::Variant(id(), sig(), None),
            ObjectKey::Variant(id(), sig(), Some(AcceptClass::Avif)),
        ] {
            let spelt = key.to_string();
            assert_eq!(ObjectKey::parse(&spelt), Some(key), "{spelt}");
            assert_eq!(ObjectKey::owner(&spelt), Some(id()), "{spelt}");
            assert_eq!(key.image_id(), &id());
        }
        assert_eq!(
            ObjectKey::parse(&id().original_key()),
            Some(ObjectKey::Original(id()))
        );
        assert_eq!(
            ObjectKey::parse(&id().variant_key(&sig(), None)),
            Some(ObjectKey::Variant(id(), sig(), None))
        );
    }

    #[test]
    fn keys_of_other_shapes_are_refused() {
        let upper = ID.to_uppercase();
        let simple = ID.replace('-', "");
        for key in [
            String::new(),
            "web/index.html".to_owned(),
            "o/not-a-uuid".to_owned(),
            "o/readme.txt".to_owned(),
            "o/".to_owned(),
            "v/".to_owned(),
            format!("o/{upper}"),
            format!("o/{simple}"),
            format!("o/{{{ID}}}"),
            format!("o/{ID}/"),
            format!("o/{ID}/{SIG}"),
            format!("o/{ID} "),
            format!("O/{ID}"),
            format!("/o/{ID}"),
            format!("x/o/{ID}"),
            format!("v/{ID}"),
            format!("v/{ID}/"),
            format!("v/{ID}/abc"),
            format!("v/{ID}/{SIG}/"),
            format!("v/{ID}/{SIG}."),
            format!("v/{ID}/{SIG}.AVIF"),
            format!("v/{ID}/{SIG}.jpeg"),
            format!("v/{ID}/{SIG}.avif.avif"),
            format!("v/{ID}/{SIG}A"),
            format!("v/{ID}/{}", &SIG[1..]),
            // The unused low bits of a sig's last character must be zero.
            format!("v/{ID}/BBBBBBBBBBBBBBBBBBBBBB"),
            format!("v/{upper}/{SIG}"),
            format!("v/{simple}/{SIG}"),
            format!("v/{SIG}/{ID}"),
            format!("o/{ID}/v/{ID}/{SIG}"),
            format!("/i/{ID}/{SIG}"),
        ] {
            assert_eq!(ObjectKey::parse(&key), None, "{key}");
        }
    }

    #[test]
    fn everything_under_an_image_s_variants_prefix_is_its() {
        // Moved from `imgedge::reconcile`, whose candidates these are.
        assert_eq!(ObjectKey::owner(&format!("o/{ID}")), Some(id()));
        assert_eq!(ObjectKey::owner(&format!("v/{ID}/abc")), Some(id()));
        assert_eq!(ObjectKey::owner("o/not-a-uuid"), None);
        assert_eq!(ObjectKey::owner("web/index.html"), None);

        assert_eq!(ObjectKey::owner(&format!("v/{ID}/{SIG}")), Some(id()));
        assert_eq!(ObjectKey::owner(&format!("v/{ID}/")), Some(id()));
        assert_eq!(ObjectKey::owner(&format!("v/{ID}/{SIG}/x")), Some(id()));
        for key in [
            format!("v/{ID}"),
            format!("o/{ID}/"),
            format!("o/{ID}/x"),
            format!("o/{}", ID.to_uppercase()),
            format!("v/{}/{SIG}", ID.to_uppercase()),
            format!("/v/{ID}/{SIG}"),
            "v/".to_owned(),
            "o/".to_owned(),
        ] {
            assert_eq!(ObjectKey::owner(&key), None, "{key}");
        }
    }

    #[test]
    fn invalidation_paths() {
        let path = id().invalidation_path();
        assert_eq!(path, format!("/i/{ID}/*"));
        assert_eq!(ImageId::from_invalidation_path(&path), Some(id()));
        for other in [
            "/i/other/*".to_owned(),
            "batch".to_owned(),
            String::new(),
            format!("/i/{ID}"),
            format!("/i/{ID}/"),
            format!("/i/{ID}*"),
            format!("/i/{ID}/{SIG}"),
            format!("/i/{ID}/*/"),
            format!("i/{ID}/*"),
            format!("/i/{}/*", ID.to_uppercase()),
            format!("/v/{ID}/*"),
        ] {
            assert_eq!(ImageId::from_invalidation_path(&other), None, "{other}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Built keys parse back to what built them, and belong to their image.
        #[test]
        fn built_keys_parse_back(id in any::<[u8; 16]>(), sig in any::<[u8; 16]>()) {
            let id = ImageId::from_uuid(uuid::Uuid::from_bytes(id));
            let sig = Sig::from_bytes(sig);
            let original = id.original_key();
            let variant = id.variant_key(&sig, None);
            prop_assert_eq!(ObjectKey::parse(&original), Some(ObjectKey::Original(id)));
            prop_assert_eq!(ObjectKey::parse(&variant), Some(ObjectKey::Variant(id, sig, None)));
            prop_assert_eq!(ObjectKey::owner(&original), Some(id));
            prop_assert_eq!(ObjectKey::owner(&variant), Some(id));
            prop_assert_eq!(ImageId::from_invalidation_path(&id.invalidation_path()), Some(id));
            let one = id.variant_invalidation_path(&sig);
            prop_assert!(one.starts_with(&id.invalidation_path()[..id.invalidation_path().len() - 1]));
            prop_assert!(one.ends_with(&[sig.to_string().as_str(), "*"].concat()));
            prop_assert_eq!(ImageId::from_invalidation_path(&one), None);
        }

        /// One spelling per object: a key that parses is exactly its object's key, and its
        /// owner is the object's image.
        #[test]
        fn a_parsed_key_is_its_object_s_spelling(
            key in "[ovO]/[0-9a-fA-F-]{34,38}(/[A-Za-z0-9_=/-]{0,24})?"
        ) {
            if let Some(object) = ObjectKey::parse(&key) {
                prop_assert_eq!(object.to_string(), key.clone());
                prop_assert_eq!(ObjectKey::owner(&key), Some(*object.image_id()));
            }
            if let Some(owner) = ObjectKey::owner(&key) {
                prop_assert!(
                    key == owner.original_key() || key.starts_with(&owner.variants_prefix()),
                    "{key}"
                );
            }
        }
    }
}
