//! One pass over a token's payload: the claims every check reads and the crate's typed claims
//! ([`IdClaims`](super::IdClaims), [`AccessClaims`](super::AccessClaims)) come from the same
//! read, member by member, with no buffer of the whole object and no second parse of it.
//!
//! Two kinds of members:
//! - **Checked claims** (`iss`, `sub`, `exp`, `nbf`, `token_use`, `aud`, `client_id`, `scope`,
//!   `cognito:groups`, `username`, `cognito:username`, `jti`, `origin_jti`, `iat`,
//!   `auth_time`) have one type, and a payload that gives one the wrong type is refused as a
//!   whole (step 4 of the [pipeline](crate::verifier::pipeline)): no claim can be smuggled past
//!   a check by a type the check does not read. The pass runs before the signature, so it
//!   builds nothing per element: `cognito:groups` is captured as `scope` is (its text) and only
//!   checked to be an array of strings; both become the typed claims' lists after the
//!   signature, and an unsigned payload of thousands of groups costs no allocation for them.
//! - **Every other member** (`email`, `email_verified`, `cognito:roles`, `version`, unknown
//!   ones) is captured as it is and read only when the typed claims are fitted, after the
//!   checks. A verification captures it as raw JSON text (`&RawValue`: skipped without
//!   recursion, at any depth, and not copied); the claims types' own `Deserialize`, which must
//!   work with any serde format, as a [`Value`]. A value of the wrong type for its typed field
//!   (an `email_verified` of `"yes"`), or nested beyond serde_json's limit, makes the claims
//!   not fit the crate's types, exactly as the types' derived `Deserialize` refused them, while
//!   a caller's own claims type, which may read it otherwise, still gets the token.
//!
//! Any named claim given twice refuses the payload. A claim the types do not name (its name
//! borrowed from the text unless it has escapes) goes to their `extra` map (and `custom:*`
//! string attributes of an ID token to `custom`).

use std::{
    borrow::Cow,
    cell::Cell,
    collections::{BTreeMap, BTreeSet},
    fmt,
    marker::PhantomData,
};

use serde::{
    Deserialize, Deserializer,
    de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor},
};
use serde_json::{Map, Value, value::RawValue};

use super::StandardClaims;
use crate::{
    error::{Error, ErrorKind},
    token_use::TokenUse,
};

/// The most audiences an `aud` array may name.
pub(crate) const MAX_AUDIENCES: usize = 16;

/// The prefix of an ID token's custom attributes.
pub(super) const CUSTOM_PREFIX: &str = "custom:";

/// A member captured in the pass, read later.
pub(crate) trait Captured: Sized {
    /// The member read as `T`; `None` when it does not fit `T`.
    fn read<T: DeserializeOwned>(self) -> Option<T>;

    /// True when the member is an array of strings.
    fn is_string_array(&self) -> bool;
}

impl Captured for &RawValue {
    fn read<T: DeserializeOwned>(self) -> Option<T> {
        serde_json::from_str(self.get()).ok()
    }

    fn is_string_array(&self) -> bool {
        // Each element checked and dropped: a `Vec` of a zero-sized type never allocates, so
        // an unsigned token's thousands of groups cost no allocation before the signature.
        serde_json::from_str::<Vec<AnyString>>(self.get()).is_ok()
    }
}

impl Captured for Value {
    fn read<T: DeserializeOwned>(self) -> Option<T> {
        T::deserialize(self).ok()
    }

    fn is_string_array(&self) -> bool {
        matches!(self, Value::Array(items) if items.iter().all(Value::is_string))
    }
}

/// A string, checked and dropped.
struct AnyString;

impl<'de> Deserialize<'de> for AnyString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Self)
    }
}

impl Visitor<'_> for AnyString {
    type Value = Self;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self, E> {
        Ok(self)
    }
}

/// A string, borrowed from the input when it has no escapes: member names, and the string
/// claims read into something else.
#[derive(Deserialize)]
#[serde(transparent)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// `token_use` as read: `"id"`, `"access"`, or `""` for any other string, which no use
/// matches (refused by step 9, not by the parse, so that the error says what is wrong).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UseClaim(&'static str);

impl<'de> Deserialize<'de> for UseClaim {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Text(text) = Text::deserialize(d)?;
        Ok(Self(
            TokenUse::from_claim(&text).map_or("", TokenUse::as_str),
        ))
    }
}

/// `scope`, a string of space-separated scopes, as the payload has it (borrowed when it has no
/// escapes): split into the set [`AccessClaims::scope`](super::AccessClaims::scope) holds only
/// after the signature.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(crate) struct ScopeClaim<'a>(#[serde(borrow)] Cow<'a, str>);

impl ScopeClaim<'_> {
    /// Each scope once, sorted.
    pub(super) fn scopes(&self) -> BTreeSet<String> {
        let scopes = self.0.split(' ').filter(|s| !s.is_empty());
        scopes.map(str::to_owned).collect()
    }
}

/// `aud` (RFC 7519): one string, or an array of 1 to [`MAX_AUDIENCES`] strings; anything else
/// refuses the payload. An ID token's must be one string, its app client.
#[derive(Debug)]
pub(crate) enum AudClaim<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl<'de> Deserialize<'de> for AudClaim<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AudVisitor)
    }
}

struct AudVisitor;

impl<'de> Visitor<'de> for AudVisitor {
    type Value = AudClaim<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string or an array of 1 to {MAX_AUDIENCES} strings")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(AudClaim::One(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(AudClaim::One(Cow::Owned(text.to_owned())))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut all = Vec::new();
        while let Some(Text(one)) = seq.next_element()? {
            if all.len() == MAX_AUDIENCES {
                return Err(de::Error::invalid_length(MAX_AUDIENCES + 1, &self));
            }
            all.push(one);
        }
        if all.is_empty() {
            return Err(de::Error::invalid_length(0, &self));
        }
        Ok(AudClaim::Many(all))
    }
}

impl AudClaim<'_> {
    /// The one string `aud` names: an ID token's app client.
    pub(super) fn single(&self) -> Option<&str> {
        match self {
            Self::One(one) => Some(one),
            Self::Many(_) => None,
        }
    }

    pub(super) fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(one) => vec![one.into_owned()],
            Self::Many(all) => all.into_iter().map(Cow::into_owned).collect(),
        }
    }
}

/// `cognito:groups` as captured, known to be an array of strings: its strings are built only
/// after the signature.
#[derive(Debug)]
pub(crate) struct GroupsClaim<C>(C);

impl<'de, C: Captured + Deserialize<'de>> Deserialize<'de> for GroupsClaim<C> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let groups = C::deserialize(d)?;
        if !groups.is_string_array() {
            return Err(de::Error::custom(
                "`cognito:groups` is not an array of strings",
            ));
        }
        Ok(Self(groups))
    }
}

impl<C: Captured> GroupsClaim<C> {
    pub(super) fn into_groups(self) -> Vec<String> {
        self.0.read().unwrap_or_default()
    }
}

/// Declares the payload's named members once, each with the type it is read as (`C`: captured):
/// the [`Payload`] that holds them and the pass that reads each at most once.
macro_rules! payload_members {
    ($($member:ident: $ty:ty = $name:literal,)*) => {
        /// Every claim of a user-pool token, read in one pass; see the module docs. `C` is how
        /// the members the checks do not read are captured.
        #[derive(Debug)]
        pub(crate) struct Payload<'a, C> {
            $(pub(crate) $member: Option<$ty>,)*
            /// Every other member, `custom:*` included, in the payload's order; a name is
            /// borrowed unless it has escapes.
            pub(super) rest: Vec<(Cow<'a, str>, C)>,
        }

        /// The named members, each the number of its bit in the set of members seen.
        #[allow(non_camel_case_types)]
        enum Member {
            $($member,)*
        }

        impl<'de, C: Captured + Deserialize<'de>> Visitor<'de> for PayloadVisitor<'_, C> {
            type Value = Payload<'de, C>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of claims")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Payload<'de, C>, A::Error> {
                let mut p = Payload {
                    $($member: None,)*
                    rest: Vec::new(),
                };
                // A second one is refused, `null` or not (`null` reads as absent, as
                // `#[serde(default)] Option<T>` reads it). Fewer than 64 members.
                let mut seen: u64 = 0;
                let mut first = |member: Member, name| -> Result<(), A::Error> {
                    let bit = 1 << member as u32;
                    if seen & bit != 0 {
                        return Err(de::Error::duplicate_field(name));
                    }
                    seen |= bit;
                    Ok(())
                };
                while let Some(Text(key)) = map.next_key()? {
                    match &*key {
                        $($name => {
                            let read = first(Member::$member, $name).and_then(|()| map.next_value());
                            p.$member = read.inspect_err(|_| self.culprit.set(Some($name)))?;
                        })*
                        _ => {
                            let value = map.next_value::<C>()?;
                            p.rest.push((key, value));
                        }
                    }
                }
                Ok(p)
            }
        }
    };
}

payload_members! {
    // Checked claims.
    iss: String = "iss",
    sub: String = "sub",
    exp: i64 = "exp",
    nbf: i64 = "nbf",
    token_use: UseClaim = "token_use",
    aud: AudClaim<'a> = "aud",
    client_id: String = "client_id",
    scope: ScopeClaim<'a> = "scope",
    groups: GroupsClaim<C> = "cognito:groups",
    username: String = "username",
    cognito_username: String = "cognito:username",
    jti: String = "jti",
    origin_jti: String = "origin_jti",
    iat: i64 = "iat",
    auth_time: i64 = "auth_time",
    // Members of the typed claims only, as captured.
    roles: C = "cognito:roles",
    preferred_role: C = "cognito:preferred_role",
    email: C = "email",
    email_verified: C = "email_verified",
    phone_number: C = "phone_number",
    phone_number_verified: C = "phone_number_verified",
    name: C = "name",
    given_name: C = "given_name",
    family_name: C = "family_name",
    identities: C = "identities",
    event_id: C = "event_id",
    at_hash: C = "at_hash",
    nonce: C = "nonce",
    version: C = "version",
}

/// The payload of a token being verified: other members captured as raw text.
pub(crate) type TokenPayload<'a> = Payload<'a, &'a RawValue>;

/// Reads a payload, noting in `culprit` the named claim that refused it, if one did.
struct PayloadVisitor<'c, C> {
    culprit: &'c Cell<Option<&'static str>>,
    captured: PhantomData<C>,
}

impl<'de, C: Captured + Deserialize<'de>> Deserialize<'de> for Payload<'de, C> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(PayloadVisitor {
            culprit: &Cell::new(None),
            captured: PhantomData,
        })
    }
}

/// Whether the claims fit the crate's types; what does not fit is left out of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    Fits,
    /// A required claim is missing or another claim does not fit its field; `what` says
    /// which (the first found).
    DoesNotFit(&'static str),
}

/// Fits captured members to the fields of a claims type, noting the first misfit, and gathers
/// the members the type does not name in its `extra`.
pub(super) struct Fitting {
    pub(super) fit: Fit,
    pub(super) extra: Map<String, Value>,
}

impl Fitting {
    /// Starts with the members no claims type names: into `extra`, but for the `custom:*`
    /// strings, which go to `custom` without their prefix when it is given.
    pub(super) fn new(
        rest: Vec<(Cow<'_, str>, impl Captured)>,
        mut custom: Option<&mut BTreeMap<String, String>>,
    ) -> Self {
        let mut fitting = Self {
            fit: Fit::Fits,
            extra: Map::new(),
        };
        for (key, value) in rest {
            let Some(value) = fitting.read(value, "extra") else {
                continue;
            };
            match (
                key.strip_prefix(CUSTOM_PREFIX),
                value,
                custom.as_deref_mut(),
            ) {
                (Some(name), Value::String(text), Some(custom)) => {
                    custom.insert(name.to_owned(), text);
                }
                (_, value, _) => {
                    fitting.extra.insert(key.into_owned(), value);
                }
            }
        }
        fitting
    }

    /// Notes `what` as the first misfit, if none was noted yet; `None`, for the field.
    fn misfit<T>(&mut self, what: &'static str) -> Option<T> {
        if self.fit == Fit::Fits {
            self.fit = Fit::DoesNotFit(what);
        }
        None
    }

    pub(super) fn required<T: Default>(&mut self, value: Option<T>, what: &'static str) -> T {
        (value.or_else(|| self.misfit(what))).unwrap_or_default()
    }

    /// A member read as `T` (`null` reads as absent, as `#[serde(default)]` fields read it).
    pub(super) fn field<T: DeserializeOwned>(
        &mut self,
        value: Option<impl Captured>,
        what: &'static str,
    ) -> Option<T> {
        (value?.read::<Option<T>>()).unwrap_or_else(|| self.misfit(what))
    }

    /// `email_verified` / `phone_number_verified`: a boolean, or `"true"` / `"false"`.
    pub(super) fn flag(
        &mut self,
        value: Option<impl Captured>,
        what: &'static str,
    ) -> Option<bool> {
        match self.field::<Value>(value, what)? {
            Value::Bool(flag) => Some(flag),
            Value::String(text) if text == "true" => Some(true),
            Value::String(text) if text == "false" => Some(false),
            _ => self.misfit(what),
        }
    }

    /// A member as a JSON value, for `extra` (`null` kept).
    fn read(&mut self, value: impl Captured, what: &'static str) -> Option<Value> {
        value.read::<Value>().or_else(|| self.misfit(what))
    }

    /// Puts a captured member the type does not name into `extra`, as the payload had it.
    pub(super) fn keep(&mut self, name: &'static str, value: Option<impl Captured>) {
        if let Some(value) = value.and_then(|value| self.read(value, name)) {
            self.extra.insert(name.to_owned(), value);
        }
    }

    /// Puts a checked claim the type does not name into `extra`.
    pub(super) fn keep_checked(&mut self, name: &str, value: Option<impl Into<Value>>) {
        if let Some(value) = value {
            self.extra.insert(name.to_owned(), value.into());
        }
    }
}

impl<'a> TokenPayload<'a> {
    /// Parses a token's payload, which must be a JSON object.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidClaims`], naming the claim to blame when one is (of the wrong type,
    /// given twice, an ID token's `aud` that is not one string).
    pub(crate) fn parse(json: &'a str) -> Result<Self, Error> {
        let culprit = Cell::new(None);
        let mut d = serde_json::Deserializer::from_str(json);
        let visitor = PayloadVisitor {
            culprit: &culprit,
            captured: PhantomData,
        };
        let payload = d
            .deserialize_map(visitor)
            .and_then(|payload| d.end().map(|()| payload))
            .map_err(|_| {
                culprit
                    .get()
                    .map_or(Error::new(ErrorKind::InvalidClaims), Error::invalid_claim)
            })?;
        if payload.token_use == Some(UseClaim("id"))
            && matches!(payload.aud, Some(AudClaim::Many(_)))
        {
            return Err(Error::invalid_claim("aud"));
        }
        Ok(payload)
    }
}

impl<C> Payload<'_, C> {
    /// The view the standard checks read.
    pub(crate) fn standard(&self) -> StandardClaims<'_> {
        StandardClaims {
            iss: self.iss.as_deref(),
            sub: self.sub.as_deref(),
            exp: self.exp,
            nbf: self.nbf,
            token_use: self.token_use.map(|UseClaim(claim)| claim),
            aud: self.aud.as_ref().and_then(AudClaim::single),
            client_id: self.client_id.as_deref(),
        }
    }
}

/// `Deserialize` for a claims type with a `from_payload`: read in one pass, as a verification
/// reads them (`token_use` must be `id` or `access`, a named claim given twice is refused).
macro_rules! deserialize_by_payload {
    ($claims:ty) => {
        /// Read in one pass (`claims/payload.rs`), as a verification reads them: `token_use`
        /// must be `id` or `access`, a named claim given twice is refused.
        impl<'de> serde::Deserialize<'de> for $claims {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                payload::deserialize_fitted(d, <$claims>::from_payload)
            }
        }
    };
}

pub(crate) use deserialize_by_payload;

/// For the claims types' `Deserialize`: the payload's own `token_use` (required, one of the
/// two), then the fitted claims, refused when they do not fit.
pub(crate) fn deserialize_fitted<'de, D, T>(
    d: D,
    fit: impl FnOnce(Payload<'de, Value>, TokenUse) -> (T, Fit),
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let payload = Payload::<'de, Value>::deserialize(d)?;
    let Some(UseClaim(claim)) = payload.token_use else {
        return Err(de::Error::missing_field("token_use"));
    };
    let token_use = TokenUse::from_claim(claim)
        .ok_or_else(|| de::Error::custom("`token_use` is neither `id` nor `access`"))?;
    match fit(payload, token_use) {
        (claims, Fit::Fits) => Ok(claims),
        (_, Fit::DoesNotFit(what)) => Err(de::Error::custom(format_args!(
            "the claim `{what}` is missing or of the wrong type"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_members_are_rejected() {
        for payload in [
            r#"{"iss":"a","iss":"b"}"#,
            r#"{"exp":1,"exp":2}"#,
            r#"{"exp":null,"exp":2}"#,
            r#"{"exp":2,"exp":null}"#,
            r#"{"token_use":"id","token_use":"access"}"#,
            r#"{"cognito:groups":[],"cognito:groups":["admins"]}"#,
            r#"{"jti":"a","jti":"b"}"#,
            r#"{"iat":1,"iat":2}"#,
            r#"{"email":"a","email":"b"}"#,
            r#"{"version":2,"version":2}"#,
        ] {
            assert!(TokenPayload::parse(payload).is_err(), "{payload}");
        }
    }

    /// The counterpart of the two tests below: the same members once, with their types, parse.
    #[test]
    fn each_member_once_with_its_type_parses() {
        for payload in [
            r#"{"iss":"a"}"#,
            r#"{"exp":1}"#,
            r#"{"exp":null}"#,
            r#"{"token_use":"id"}"#,
            r#"{"cognito:groups":["admins"]}"#,
            r#"{"jti":"a"}"#,
            r#"{"iat":1}"#,
            r#"{"email":"a"}"#,
            r#"{"version":2}"#,
            r#"{"aud":"a"}"#,
            r#"{"scope":"a b"}"#,
            r#"{"email":5,"deep":[[[]]],"other":{"x":1}}"#,
            r#"{}"#,
        ] {
            assert!(TokenPayload::parse(payload).is_ok(), "{payload}");
        }
    }

    #[test]
    fn checked_claims_of_the_wrong_type_are_rejected() {
        for payload in [
            r#"{"exp":"1700000000"}"#,
            r#"{"exp":1.5}"#,
            r#"{"exp":99999999999999999999999}"#,
            r#"{"iss":5}"#,
            r#"{"token_use":5}"#,
            r#"{"scope":["a"]}"#,
            r#"{"cognito:groups":"admins"}"#,
            r#"{"cognito:groups":[1]}"#,
            r#"[]"#,
            r#""text""#,
            r#"{"#,
        ] {
            assert!(TokenPayload::parse(payload).is_err(), "{payload}");
        }
    }

    #[test]
    fn aud_is_a_string_or_a_short_array_of_strings() {
        let sixteen = serde_json::to_string(&vec!["r"; MAX_AUDIENCES]).unwrap();
        for (aud, audiences) in [
            (r#""a""#.to_owned(), 1),
            (r#"["a","b"]"#.to_owned(), 2),
            (sixteen, MAX_AUDIENCES),
        ] {
            let json = format!(r#"{{"token_use":"access","aud":{aud}}}"#);
            let payload = TokenPayload::parse(&json).unwrap();
            assert_eq!(payload.aud.unwrap().into_vec().len(), audiences, "{aud}");
        }
        let seventeen = serde_json::to_string(&vec!["r"; MAX_AUDIENCES + 1]).unwrap();
        for aud in [
            "[]",
            "5",
            "{}",
            r#"[1]"#,
            r#"["a",null]"#,
            r#"[["a"]]"#,
            &seventeen,
        ] {
            let json = format!(r#"{{"token_use":"access","sub":"s","aud":{aud}}}"#);
            let error = TokenPayload::parse(&json).unwrap_err();
            assert_eq!(
                (error.kind(), error.claim_name()),
                (ErrorKind::InvalidClaims, Some("aud")),
                "{aud}"
            );
        }
        // An ID token's `aud` is its app client: one string.
        let error = TokenPayload::parse(r#"{"token_use":"id","aud":["web"]}"#).unwrap_err();
        assert_eq!(error.claim_name(), Some("aud"));
        let payload = TokenPayload::parse(r#"{"token_use":"id","aud":"web"}"#).unwrap();
        assert_eq!(payload.standard().aud, Some("web"));
    }

    #[test]
    fn the_malformed_claim_is_named() {
        for (payload, claim) in [
            (r#"{"sub":"s","exp":"1"}"#, Some("exp")),
            (r#"{"iss":"a","iss":"a"}"#, Some("iss")),
            (r#"{"cognito:groups":[1]}"#, Some("cognito:groups")),
            (r#"{"email":1,"scope":5}"#, Some("scope")),
            (r#"{"sub":"s"} x"#, None),
            (r#"[]"#, None),
        ] {
            assert_eq!(
                TokenPayload::parse(payload).unwrap_err().claim_name(),
                claim,
                "{payload}"
            );
        }
    }

    /// The member names and string claims read through `Text` are not copied.
    #[test]
    fn strings_without_escapes_are_borrowed() {
        let Text(text) = serde_json::from_str::<Text<'_>>(r#""iss""#).unwrap();
        assert!(matches!(text, Cow::Borrowed("iss")));
        let Text(text) = serde_json::from_str::<Text<'_>>(r#""i\u0073s""#).unwrap();
        assert!(matches!(text, Cow::Owned(_)));
    }

    #[test]
    fn member_names_with_escapes_are_read() {
        let payload = TokenPayload::parse(r#"{"i\u0073s":"a","sub":"s\u00e9"}"#).unwrap();
        assert_eq!(payload.standard().iss, Some("a"));
        assert_eq!(payload.standard().sub, Some("s\u{e9}"));
    }

    #[test]
    fn another_token_use_reads_as_no_use() {
        let payload = TokenPayload::parse(r#"{"token_use":"refresh"}"#).unwrap();
        assert_eq!(payload.standard().token_use, Some(""));
    }
}
