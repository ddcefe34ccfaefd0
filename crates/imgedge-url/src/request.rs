//! `TransformRequest`: a whole `/i/{image_id}/{sig}?{query}` request, parsed.

use super::sign::spec_path;
use super::{AcceptClass, ImageId, ParsedQuery, Sig, TransformSpec, UrlError, UrlKey, UrlSecret};

/// A well-formed transform request: path and query parsed, signature not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransformRequest {
    image_id: ImageId,
    sig: Sig,
    query: ParsedQuery,
}

/// What the spec says to answer a well-formed request with, in its order: the redirect to
/// the canonical URL first (decided without the signature, as the edge functions hold no
/// secret), then the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// 301 to this location (same image id and sig, canonical query).
    Redirect(String),
    /// 403: canonical, but the signature does not verify.
    Forbidden,
    /// Canonical and, where the key was given, correctly signed: serve the variant (an edge,
    /// which decides without the key, passes it to the origin, which decides again).
    Serve,
}

impl Decision {
    /// The status of the answer.
    pub const fn status(&self) -> u16 {
        match self {
            Decision::Serve => 200,
            Decision::Redirect(_) => 301,
            Decision::Forbidden => 403,
        }
    }
}

impl TransformRequest {
    /// Parses a request's path (`/i/{image_id}/{sig}`, nothing after) and raw query
    /// (without `?`; empty when there is none). Path errors come first: `bad_image_id`
    /// (also for a path without the `/i/` prefix), then `bad_sig`, then the query's.
    pub fn parse(path: &str, raw_query: &str) -> Result<Self, UrlError> {
        let rest = path.strip_prefix("/i/").ok_or(UrlError::BadImageId)?;
        let (id, sig) = match rest.split_once('/') {
            Some((id, sig)) => (id, Some(sig)),
            None => (rest, None),
        };
        let image_id: ImageId = id.parse()?;
        let sig: Sig = sig.ok_or(UrlError::BadSig)?.parse()?;
        let query = TransformSpec::parse(raw_query)?;
        Ok(Self {
            image_id,
            sig,
            query,
        })
    }

    pub fn image_id(&self) -> &ImageId {
        &self.image_id
    }

    pub fn sig(&self) -> &Sig {
        &self.sig
    }

    pub fn spec(&self) -> &TransformSpec {
        self.query.spec()
    }

    pub fn into_spec(self) -> TransformSpec {
        self.query.into_spec()
    }

    /// Whether the raw query was canonical.
    pub fn is_canonical(&self) -> bool {
        self.query.is_canonical()
    }

    /// `/i/{image_id}/{sig}` plus `?{canonical query}` when that is not empty.
    pub fn canonical_path(&self) -> String {
        spec_path(&self.image_id, &self.sig, self.query.spec())
    }

    /// The 301 location when the query was not canonical.
    pub fn redirect_location(&self) -> Option<String> {
        (!self.is_canonical()).then(|| self.canonical_path())
    }

    /// Whether the sig is that of the canonical query under the image's key derived from
    /// `secret` (constant-time comparison).
    pub fn verify(&self, secret: &UrlSecret) -> bool {
        self.verify_with_key(&UrlKey::derive(secret, &self.image_id))
    }

    /// Whether the sig is that of the canonical query under `key`.
    pub fn verify_with_key(&self, key: &UrlKey) -> bool {
        self.sig.verify_spec(key, self.query.spec())
    }

    /// The spec's decision, which the transformer (with the image's key) and the edges
    /// (without: `None`) both take: redirect when not canonical (the signature unchecked),
    /// else, given the key, serve or forbid.
    pub fn decide(&self, key: Option<&UrlKey>) -> Decision {
        if let Some(location) = self.redirect_location() {
            Decision::Redirect(location)
        } else if key.is_none_or(|key| self.verify_with_key(key)) {
            Decision::Serve
        } else {
            Decision::Forbidden
        }
    }

    /// [`TransformRequest::decide`] with the key derived from the server's secret.
    pub fn decide_with_secret(&self, secret: &UrlSecret) -> Decision {
        self.decide(Some(&UrlKey::derive(secret, &self.image_id)))
    }

    /// The accept class that decides this request's output: `None` unless the query has
    /// `format=auto`; then the class an edge already computed (`X-Imgedge-Accept`, which
    /// every edge sets itself, never trusting a client's) or else the one of `accept`.
    pub fn accept_class(
        &self,
        edge_class: Option<&str>,
        accept: Option<&str>,
    ) -> Option<AcceptClass> {
        self.spec().is_auto().then(|| {
            edge_class
                .and_then(AcceptClass::from_name)
                .unwrap_or_else(|| AcceptClass::from_accept(accept))
        })
    }

    /// The S3 key of this variant ([`ImageId::variant_key`]): `v/{image_id}/{sig}`, with the
    /// `.{class}` suffix for `class`, which is this request's
    /// [`TransformRequest::accept_class`].
    pub fn variant_key(&self, class: Option<AcceptClass>) -> String {
        self.image_id.variant_key(&self.sig, class)
    }

    /// The edge's cache key: the canonical path, then `|{class}` for a `format=auto` URL's
    /// accept class (`|` is percent-encoded in every canonical query).
    pub fn cache_key(&self, class: Option<AcceptClass>) -> String {
        let mut key = self.canonical_path();
        if let Some(class) = class {
            key.push('|');
            key.push_str(class.as_str());
        }
        key
    }
}
