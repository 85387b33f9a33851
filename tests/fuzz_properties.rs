//! Property tests of hostile input through a real axum `Router` with `CognitoAuthLayer`:
//! arbitrary bytes in the `Authorization` header, and arbitrary mutations of a valid token
//! (bit flips, byte changes, truncation, insertions, removals, segment swaps, edits inside the
//! decoded JSON). Never a panic; always 401 or 503; 200 only for the token left as it was.
//! The long-running counterpart is the cargo-fuzz target in `fuzz/` (see SECURITY.md).

mod common;

use std::sync::LazyLock;

use axum::{Router, routing::get};
use axum_cognito::{CognitoAuthLayer, CognitoVerifier, test_util::TestIssuer};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use common::{b64, call, request, verifier};
use http::{HeaderValue, StatusCode};
use proptest::{prelude::*, sample::Index};

/// One issuer, verifier and router for every case, on a runtime that outlives the tests.
struct World {
    runtime: tokio::runtime::Runtime,
    // Kept so that its JWKS server keeps serving.
    _issuer: TestIssuer,
    verifier: CognitoVerifier,
    app: Router,
    token: String,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (issuer, verifier) = runtime.block_on(async {
        let issuer = TestIssuer::start().await;
        let verifier = verifier(&issuer).await;
        (issuer, verifier)
    });
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(CognitoAuthLayer::new(verifier.clone()));
    let token = issuer
        .id_token()
        .groups(["admins"])
        .custom("tenant", "acme")
        .sign();
    World {
        runtime,
        _issuer: issuer,
        verifier,
        app,
        token,
    }
});

impl World {
    /// The status for this `Authorization` value.
    fn status(&self, authorization: HeaderValue) -> StatusCode {
        let request = request("/", &[authorization]);
        self.runtime.block_on(call(&self.app, request)).status
    }
}

fn refused(status: StatusCode) -> bool {
    status == StatusCode::UNAUTHORIZED || status == StatusCode::SERVICE_UNAVAILABLE
}

/// Bytes a header value may hold: visible ASCII, space, tab, and obs-text.
fn header_byte() -> impl Strategy<Value = u8> {
    prop_oneof![0x20u8..=0x7e, Just(b'\t'), 0x80u8..=0xff]
}

/// Mostly characters a token is made of, sometimes anything.
fn token_byte() -> impl Strategy<Value = u8> {
    const TOKEN68: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/=";
    prop_oneof![
        4 => prop::sample::select(TOKEN68),
        1 => any::<u8>(),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit {
        at: Index,
        bit: u8,
    },
    SetByte {
        at: Index,
        byte: u8,
    },
    Truncate {
        at: Index,
    },
    Insert {
        at: Index,
        bytes: Vec<u8>,
    },
    Remove {
        at: Index,
        len: usize,
    },
    SwapSegments {
        a: Index,
        b: Index,
    },
    DuplicateSegment {
        at: Index,
    },
    DropSegment {
        at: Index,
    },
    /// A byte of the decoded header or payload JSON, re-encoded: gets past base64 into the
    /// JSON parser and the claim checks.
    EditJson {
        segment: bool,
        at: Index,
        byte: u8,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        (any::<Index>(), token_byte()).prop_map(|(at, byte)| Mutation::SetByte { at, byte }),
        any::<Index>().prop_map(|at| Mutation::Truncate { at }),
        (any::<Index>(), prop::collection::vec(token_byte(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<Index>(), 1usize..32).prop_map(|(at, len)| Mutation::Remove { at, len }),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapSegments { a, b }),
        any::<Index>().prop_map(|at| Mutation::DuplicateSegment { at }),
        any::<Index>().prop_map(|at| Mutation::DropSegment { at }),
        (any::<bool>(), any::<Index>(), any::<u8>())
            .prop_map(|(segment, at, byte)| Mutation::EditJson { segment, at, byte }),
    ]
}

fn split(token: &[u8]) -> Vec<Vec<u8>> {
    token.split(|b| *b == b'.').map(<[u8]>::to_vec).collect()
}

fn join(segments: &[Vec<u8>]) -> Vec<u8> {
    segments.join(&b'.')
}

impl Mutation {
    fn apply(&self, token: &mut Vec<u8>) {
        let len = token.len();
        match self {
            Self::FlipBit { at, bit } if len > 0 => token[at.index(len)] ^= 1 << bit,
            Self::SetByte { at, byte } if len > 0 => token[at.index(len)] = *byte,
            Self::Truncate { at } => token.truncate(at.index(len + 1)),
            Self::Insert { at, bytes } => {
                let at = at.index(len + 1);
                token.splice(at..at, bytes.iter().copied());
            }
            Self::Remove { at, len: n } if len > 0 => {
                let at = at.index(len);
                token.drain(at..(at + n).min(len));
            }
            Self::SwapSegments { a, b } => {
                let mut segments = split(token);
                let n = segments.len();
                segments.swap(a.index(n), b.index(n));
                *token = join(&segments);
            }
            Self::DuplicateSegment { at } => {
                let mut segments = split(token);
                let i = at.index(segments.len());
                segments.insert(i, segments[i].clone());
                *token = join(&segments);
            }
            Self::DropSegment { at } => {
                let mut segments = split(token);
                let i = at.index(segments.len());
                segments.remove(i);
                *token = join(&segments);
            }
            Self::EditJson { segment, at, byte } => {
                let mut segments = split(token);
                let i = usize::from(*segment);
                if let Some(mut json) = segments
                    .get(i)
                    .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
                    .filter(|json| !json.is_empty())
                {
                    let n = json.len();
                    json[at.index(n)] = *byte;
                    segments[i] = b64(json).into_bytes();
                    *token = join(&segments);
                }
            }
            // Nothing to change in an empty token.
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn arbitrary_authorization_bytes_are_refused(
        bytes in prop::collection::vec(header_byte(), 0..600),
    ) {
        let world = &*WORLD;
        let value = HeaderValue::from_bytes(&bytes).expect("header bytes only");
        let status = world.status(value);
        prop_assert!(refused(status), "{status} for {:?}", String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_bearer_credentials_are_refused(
        credentials in prop::collection::vec(token_byte(), 0..600),
        scheme in prop::sample::select(vec!["Bearer ", "bearer ", "BEARER ", "Bearer  ", ""]),
    ) {
        let world = &*WORLD;
        let mut bytes = scheme.as_bytes().to_vec();
        bytes.extend_from_slice(&credentials);
        if let Ok(text) = std::str::from_utf8(&credentials) {
            // Straight to the verifier too: any text, no panic.
            let _ = world.verifier.verify_sync(text);
        }
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            let status = world.status(value);
            prop_assert!(refused(status), "{status} for {:?}", String::from_utf8_lossy(&bytes));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_500))]

    #[test]
    fn mutated_tokens_are_refused_and_only_the_original_passes(
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let world = &*WORLD;
        let original = world.token.as_bytes();
        let mut token = original.to_vec();
        for mutation in &mutations {
            mutation.apply(&mut token);
        }
        if let Ok(text) = std::str::from_utf8(&token) {
            let verified = world.verifier.verify_sync(text);
            prop_assert_eq!(verified.is_ok(), token == original);
        }
        let mut value = b"Bearer ".to_vec();
        value.extend_from_slice(&token);
        // Bytes no header can carry never reach a server.
        if let Ok(value) = HeaderValue::from_bytes(&value) {
            let status = world.status(value);
            if token == original {
                prop_assert_eq!(status, StatusCode::OK);
            } else {
                prop_assert!(
                    refused(status),
                    "{} for {:?}",
                    status,
                    String::from_utf8_lossy(&token)
                );
            }
        }
    }
}
