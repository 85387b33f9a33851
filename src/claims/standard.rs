//! The claims the standard checks read, as one borrowed view, whether they come from a payload
//! just parsed or from a cached token.

/// The claims the standard checks read, borrowed. A full verification takes them from the
/// payload it just parsed; a cache hit from the verified token it stored. Both hand the same
/// view to the same checks (`verifier/pipeline.rs`), so a check cannot be skipped by a hit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StandardClaims<'a> {
    pub(crate) iss: Option<&'a str>,
    pub(crate) sub: Option<&'a str>,
    pub(crate) exp: Option<i64>,
    pub(crate) nbf: Option<i64>,
    pub(crate) token_use: Option<&'a str>,
    pub(crate) aud: Option<&'a str>,
    pub(crate) client_id: Option<&'a str>,
}
