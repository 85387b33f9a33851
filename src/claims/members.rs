//! The members every claims type has, written once: declared in the type
//! ([`claims_type!`]) and fitted from a payload ([`fitted!`]), each in the same place among the
//! type's own members.

/// A claims type: `sub` and `iss` first, then the type's own `head` members, then `auth_time`
/// to `event_id`, then its own `tail` members, then `extra`; with `in_group`.
macro_rules! claims_type {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($head:tt)* } { $($tail:tt)* }
    ) => {
        $(#[$meta])*
        pub struct $name {
            /// The user's unique, stable identifier (`sub`); for a machine-to-machine access
            /// token, the app client id.
            pub sub: String,
            /// The issuer: the user pool's URL (`iss`).
            pub iss: String,
            $($head)*
            /// When the user authenticated (`auth_time`, seconds since the epoch).
            #[serde(skip_serializing_if = "Option::is_none")]
            pub auth_time: Option<i64>,
            /// When the token was issued (`iat`).
            #[serde(skip_serializing_if = "Option::is_none")]
            pub iat: Option<i64>,
            /// When the token expires (`exp`).
            pub exp: i64,
            /// The token's id (`jti`).
            #[serde(skip_serializing_if = "Option::is_none")]
            pub jti: Option<String>,
            /// The id of the sign-in session's first token (`origin_jti`); absent from
            /// machine-to-machine access tokens.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub origin_jti: Option<String>,
            /// `event_id`.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub event_id: Option<String>,
            $($tail)*
            /// Every other claim.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl $name {
            /// True when `cognito:groups` holds `group`.
            pub fn in_group(&self, group: &str) -> bool {
                self.groups.iter().any(|g| g == group)
            }
        }
    };
}

/// A claims type fitted from the payload `$p` with the [`Fitting`](super::payload::Fitting)
/// `$f`: the members every claims type has, read the same way, around the type's own (`head`
/// after `iss`, `tail` after `event_id`), in field order, which is the order misfits are
/// found in.
macro_rules! fitted {
    ($p:ident, $f:ident, { $($head:tt)* }, { $($tail:tt)* }) => {
        Self {
            sub: $f.required($p.sub, "sub"),
            iss: $f.required($p.iss, "iss"),
            $($head)*
            groups: $p.groups.map(GroupsClaim::into_groups).unwrap_or_default(),
            auth_time: $p.auth_time,
            iat: $p.iat,
            exp: $f.required($p.exp, "exp"),
            jti: $p.jti,
            origin_jti: $p.origin_jti,
            event_id: $f.field($p.event_id, "event_id"),
            $($tail)*
            extra: $f.extra,
        }
    };
}

pub(super) use {claims_type, fitted};

/// The members every claims type has, as serde's derive reads them: the part of the reference
/// readings (`wire_reading`, compared with the one-pass reading) that every type flattens in.
#[cfg(test)]
#[derive(serde::Deserialize)]
pub(super) struct WireMembers {
    pub(super) sub: String,
    pub(super) iss: String,
    pub(super) token_use: crate::token_use::TokenUse,
    #[serde(rename = "cognito:groups", default)]
    pub(super) groups: Option<Vec<String>>,
    #[serde(default)]
    pub(super) auth_time: Option<i64>,
    #[serde(default)]
    pub(super) iat: Option<i64>,
    pub(super) exp: i64,
    #[serde(default)]
    pub(super) jti: Option<String>,
    #[serde(default)]
    pub(super) origin_jti: Option<String>,
    #[serde(default)]
    pub(super) event_id: Option<String>,
}

/// The claims type `$ty` of a reference reading: the [`WireMembers`] `$m`, and the type's own
/// members given.
#[cfg(test)]
macro_rules! from_wire {
    ($ty:ident, $m:expr, { $($own:tt)* }) => {{
        let m: WireMembers = $m;
        $ty {
            sub: m.sub,
            iss: m.iss,
            token_use: m.token_use,
            groups: m.groups.unwrap_or_default(),
            auth_time: m.auth_time,
            iat: m.iat,
            exp: m.exp,
            jti: m.jti,
            origin_jti: m.origin_jti,
            event_id: m.event_id,
            $($own)*
        }
    }};
}

#[cfg(test)]
pub(super) use from_wire;
