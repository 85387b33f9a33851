//! Hostile tokens, one table: each row goes through a real axum `Router` with
//! `CognitoAuthLayer` (401 with `WWW-Authenticate`, never 500, never a panic) and straight to
//! the verifier, which must name the check that refused it. Keys come from `TestIssuer`s on
//! 127.0.0.1: `home` is the pool the tokens claim, `other` a second trusted pool, `attacker` a
//! pool nobody trusts whose JWKS URL is planted in `jku` and `x5u` headers.

mod common;

use std::time::Duration;

use aws_lc_rs::hmac;
use axum::{Router, routing::get};
use axum_cognito::{
    Access, CognitoAuthLayer, CognitoClaims, CognitoVerifier, ErrorKind, Id, TokenUse,
    test_util::{SigningKey, TestIssuer},
};
use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD},
};
use common::{b64, call, kind, now, rs256, segments, verified_sub, verifier, with_token};
use http::StatusCode;
use serde_json::{Map, Value, json};

const TEN_MB: usize = 10 * 1024 * 1024;

/// `header.payload`, HMAC-signed with `secret`: the algorithm-confusion attack.
fn hmac_signed(algorithm: hmac::Algorithm, secret: &[u8], header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let tag = hmac::sign(&hmac::Key::new(algorithm, secret), input.as_bytes());
    format!("{input}.{}", b64(tag))
}

/// The JSON text of `claims` with `extra` members appended as written.
fn with_members(claims: &Map<String, Value>, extra: &str) -> String {
    let text = Value::Object(claims.clone()).to_string();
    format!("{},{extra}}}", &text[..text.len() - 1])
}

/// A token of `claims` signed by `key`, padded with a `pad` claim (and, where base64 lengths
/// need it, a `pad` header member) to exactly `length` bytes.
fn token_of_length(key: &SigningKey, claims: &Map<String, Value>, length: usize) -> String {
    let signature = key.sign_b64(b"any message").len();
    let mut claims = claims.clone();
    claims.insert("pad".to_owned(), json!(""));
    let bare = Value::Object(claims.clone()).to_string().len();
    // An unpadded base64 text is never 1 more than a multiple of 4 long: the header's length
    // changes which payload lengths exist.
    for header_pad in 0..4 {
        let header = json!({"kid": key.kid(), "alg": "RS256", "pad": "h".repeat(header_pad)});
        let fixed = b64(header.to_string()).len() + 1 + 1 + signature;
        for filler in 0..length {
            let encoded = (4 * (bare + filler)).div_ceil(3);
            if fixed + encoded > length {
                break;
            }
            if fixed + encoded == length {
                claims.insert("pad".to_owned(), json!("p".repeat(filler)));
                let token = rs256(key, &header.to_string(), &Value::Object(claims).to_string());
                assert_eq!(token.len(), length);
                return token;
            }
        }
    }
    unreachable!("no padding gives {length} bytes")
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    if content.len() < 0x80 {
        out.push(u8::try_from(content.len()).unwrap());
    } else {
        let len = content.len().to_be_bytes();
        let first = len.iter().position(|b| *b != 0).unwrap();
        out.push(0x80 | u8::try_from(len.len() - first).unwrap());
        out.extend_from_slice(&len[first..]);
    }
    out.extend_from_slice(content);
    out
}

/// A PKCS#1 `RSAPublicKey` wrapped as an X.509 `SubjectPublicKeyInfo`.
fn spki(pkcs1: &[u8]) -> Vec<u8> {
    const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let algorithm = der(
        0x30,
        &[der(0x06, RSA_ENCRYPTION), vec![0x05, 0x00]].concat(),
    );
    let bits = der(0x03, &[&[0u8][..], pkcs1].concat());
    der(0x30, &[algorithm, bits].concat())
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// The characters RFC 6750 allows in a Bearer credential; anything else is refused by the
/// header parser (`invalid_request`) before the verifier sees it.
fn is_token68(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Kinds whose check comes before or at the signature: the error must never carry claims.
fn before_signature(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::TokenTooLarge
            | ErrorKind::Malformed
            | ErrorKind::InvalidHeader
            | ErrorKind::UnsupportedAlgorithm
            | ErrorKind::CriticalHeader
            | ErrorKind::MissingKeyId
            | ErrorKind::InvalidClaims
            | ErrorKind::InvalidIssuer
            | ErrorKind::UnknownKeyId
            | ErrorKind::InvalidSignature
    )
}

struct Row {
    case: String,
    token: String,
    kind: ErrorKind,
}

struct Table(Vec<Row>);

impl Table {
    fn row(&mut self, case: impl Into<String>, token: impl Into<String>, kind: ErrorKind) {
        self.0.push(Row {
            case: case.into(),
            token: token.into(),
            kind,
        });
    }
}

/// Everything a row needs: three issuers and the pieces of a valid home token.
struct Fixture {
    home: TestIssuer,
    other: TestIssuer,
    attacker: TestIssuer,
    key: SigningKey,
    header: String,
    claims: Map<String, Value>,
}

impl Fixture {
    fn kid(&self) -> &str {
        self.key.kid()
    }

    fn header_with(&self, members: Value) -> String {
        let mut header = json!({"kid": self.kid(), "alg": "RS256"});
        for (name, value) in members.as_object().unwrap() {
            header[name] = value.clone();
        }
        header.to_string()
    }

    fn claims_text(&self) -> String {
        Value::Object(self.claims.clone()).to_string()
    }

    /// Valid claims with one member replaced (`Some`) or removed (`None`).
    fn claims_with(&self, name: &str, value: Option<Value>) -> String {
        let mut claims = self.claims.clone();
        match value {
            Some(value) => claims.insert(name.to_owned(), value),
            None => claims.remove(name),
        };
        Value::Object(claims).to_string()
    }

    /// A token signed by the home key with this header text and the valid claims.
    fn header_signed(&self, header: &str) -> String {
        rs256(&self.key, header, &self.claims_text())
    }

    /// A token signed by the home key with the usual header and this payload text.
    fn payload_signed(&self, payload: &str) -> String {
        rs256(&self.key, &self.header, payload)
    }
}

fn algorithm_rows(t: &mut Table, f: &Fixture) {
    let claims = f.claims_text();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = f.header_with(json!({"alg": alg}));
        // The textbook attack leaves the signature empty; a signature does not help either.
        t.row(
            format!("alg {alg}, empty signature"),
            format!("{}.{}.", b64(&header), b64(&claims)),
            ErrorKind::Malformed,
        );
        t.row(
            format!("alg {alg}, signed"),
            f.header_signed(&header),
            ErrorKind::UnsupportedAlgorithm,
        );
    }
    for alg in [
        "RS384", "RS512", "PS256", "ES256", "EdDSA", "rs256", "RS256 ", "",
    ] {
        t.row(
            format!("alg {alg:?} over a valid RS256 signature"),
            f.header_signed(&f.header_with(json!({"alg": alg}))),
            ErrorKind::UnsupportedAlgorithm,
        );
    }
    t.row(
        "alg null",
        f.header_signed(&f.header_with(json!({"alg": null}))),
        ErrorKind::UnsupportedAlgorithm,
    );
    t.row(
        "alg an array",
        f.header_signed(&f.header_with(json!({"alg": ["RS256"]}))),
        ErrorKind::InvalidHeader,
    );

    // Key confusion: the RSA public key, in every form an attacker might find it, as an HMAC
    // secret.
    let pkcs1 = f.key.public_key_der();
    let modulus = URL_SAFE_NO_PAD
        .decode(f.key.jwk()["n"].as_str().unwrap())
        .unwrap();
    let secrets: [(&str, Vec<u8>); 6] = [
        ("PKCS#1 PEM", pem("RSA PUBLIC KEY", &pkcs1).into_bytes()),
        ("SPKI PEM", pem("PUBLIC KEY", &spki(&pkcs1)).into_bytes()),
        ("PKCS#1 DER", pkcs1.clone()),
        ("SPKI DER", spki(&pkcs1)),
        ("raw modulus", modulus),
        ("JWK text", f.key.jwk().to_string().into_bytes()),
    ];
    for (alg, algorithm) in [
        ("HS256", hmac::HMAC_SHA256),
        ("HS384", hmac::HMAC_SHA384),
        ("HS512", hmac::HMAC_SHA512),
    ] {
        let header = f.header_with(json!({"alg": alg, "typ": "JWT"}));
        for (form, secret) in &secrets {
            t.row(
                format!("{alg} with the public key as {form}"),
                hmac_signed(algorithm, secret, &header, &claims),
                ErrorKind::UnsupportedAlgorithm,
            );
        }
    }
}

fn key_rows(t: &mut Table, f: &Fixture) {
    let stranger = SigningKey::generate();
    t.row(
        "valid RS256 signature of a key not in the set",
        f.home.access_token().signed_with(&stranger).sign(),
        ErrorKind::UnknownKeyId,
    );
    let impostor = SigningKey::generate_with_kid(f.kid());
    t.row(
        "valid RS256 signature of another key under the published kid",
        f.home.access_token().signed_with(&impostor).sign(),
        ErrorKind::InvalidSignature,
    );
    // The pool is chosen by `iss` before the key lookup: another trusted pool's key never
    // vouches for a token that names this one, nor the reverse.
    let other_key = f.other.signing_key();
    t.row(
        "kid and key of another trusted pool, home iss",
        f.home.access_token().signed_with(&other_key).sign(),
        ErrorKind::UnknownKeyId,
    );
    t.row(
        "home kid, signed by another trusted pool's key",
        f.home
            .access_token()
            .signed_with(&other_key)
            .header("kid", f.kid())
            .sign(),
        ErrorKind::InvalidSignature,
    );
    t.row(
        "kid and key of home, other pool's iss",
        f.other.access_token().signed_with(&f.key).sign(),
        ErrorKind::UnknownKeyId,
    );

    // 8,000 characters fit under the 16 KiB cap once encoded; 100,000 do not.
    for (case, kid, kind) in [
        ("huge kid", "k".repeat(8_000), ErrorKind::UnknownKeyId),
        ("100 KB kid", "k".repeat(100_000), ErrorKind::TokenTooLarge),
        ("empty kid", String::new(), ErrorKind::UnknownKeyId),
        (
            "kid in another case",
            f.kid().to_lowercase(),
            ErrorKind::UnknownKeyId,
        ),
        (
            "kid with a NUL",
            format!("{}\u{0}", f.kid()),
            ErrorKind::UnknownKeyId,
        ),
    ] {
        t.row(
            case,
            f.header_signed(&f.header_with(json!({"kid": kid}))),
            kind,
        );
    }
    for kid in [
        "../../../../etc/passwd",
        "/etc/passwd",
        "..\\..\\boot.ini",
        "file:///etc/passwd",
        "http://127.0.0.1:9/jwks.json",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/dev/zero",
        "' OR '1'='1",
    ] {
        t.row(
            format!("path-like kid {kid}"),
            f.header_signed(&f.header_with(json!({"kid": kid}))),
            ErrorKind::UnknownKeyId,
        );
    }
    for kid in [
        json!(7),
        json!(1.5),
        json!(true),
        json!(["k"]),
        json!({"k": 1}),
    ] {
        t.row(
            format!("kid {kid}"),
            f.header_signed(&f.header_with(json!({"kid": kid}))),
            ErrorKind::InvalidHeader,
        );
    }
    t.row(
        "kid null",
        f.header_signed(&f.header_with(json!({"kid": null}))),
        ErrorKind::MissingKeyId,
    );

    // Key-carrying headers are never read: the attacker's key, kid and URLs get nowhere.
    let evil = f.attacker.signing_key();
    let planted = json!({
        "jku": f.attacker.jwks_url(),
        "x5u": f.attacker.jwks_url(),
        "jwk": evil.jwk(),
        "x5c": [STANDARD.encode(evil.public_key_der())],
    });
    let mut attacker_kid = f.home.access_token().signed_with(&evil);
    let mut home_kid = f
        .home
        .access_token()
        .signed_with(&evil)
        .header("kid", f.kid());
    for (name, value) in planted.as_object().unwrap() {
        attacker_kid = attacker_kid.header(name, value.clone());
        home_kid = home_kid.header(name, value.clone());
    }
    t.row(
        "attacker's kid, key in jwk, x5c, and JWKS at jku and x5u",
        attacker_kid.sign(),
        ErrorKind::UnknownKeyId,
    );
    t.row(
        "home kid, signed by the key embedded in jwk",
        home_kid.sign(),
        ErrorKind::InvalidSignature,
    );

    for crit in [
        json!(["exp"]),
        json!([]),
        json!("b64"),
        json!(["b64"]),
        json!(null),
    ] {
        let header = f.header_with(json!({"crit": crit, "b64": false}));
        t.row(
            format!("crit {crit}"),
            f.header_signed(&header),
            ErrorKind::CriticalHeader,
        );
    }
}

fn duplicate_rows(t: &mut Table, f: &Fixture) {
    let kid = json!(f.kid()).to_string();
    for header in [
        format!(r#"{{"alg":"RS256","kid":{kid},"alg":"none"}}"#),
        format!(r#"{{"alg":"none","kid":{kid},"alg":"RS256"}}"#),
        format!(r#"{{"kid":"unknown","alg":"RS256","kid":{kid}}}"#),
        format!(r#"{{"alg":"RS256","kid":{kid},"a\u006cg":"HS256"}}"#),
        format!(r#"{{"alg":"RS256","kid":{kid},"crit":["x"],"crit":[]}}"#),
        // Names written with escapes are duplicates once unescaped, as serde reads them.
        format!(r#"{{"alg":"RS256","kid":{kid},"\u0061lg":"none"}}"#),
        format!(r#"{{"\u0061lg":"none","alg":"RS256","kid":{kid}}}"#),
        format!(r#"{{"alg":"RS256","kid":{kid},"\u0061\u006c\u0067":"HS256"}}"#),
        format!(r#"{{"alg":"RS256","kid":{kid},"\u006bid":"unknown"}}"#),
        format!(r#"{{"alg":"RS256","\u006Bid":"unknown","kid":{kid}}}"#),
        format!(r#"{{"alg":"RS256","kid":{kid},"\u006bid":{kid}}}"#),
    ] {
        t.row(
            format!("header {header}"),
            f.header_signed(&header),
            ErrorKind::InvalidHeader,
        );
    }
    let iss = f.home.issuer();
    let exp = now() + 600;
    for extra in [
        r#""iss":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Evil12345""#.to_owned(),
        format!(r#""iss":"{iss}""#),
        format!(r#""i\u0073s":"{iss}/""#),
        r#""token_use":"id""#.to_owned(),
        format!(r#""exp":{}"#, exp + 86_400),
        r#""sub":"someone-else""#.to_owned(),
        r#""client_id":"another-client""#.to_owned(),
        r#""cognito:groups":["admins"],"cognito:groups":[]"#.to_owned(),
        // The same members with their names escaped: duplicates once unescaped.
        r#""\u0074oken_use":"id""#.to_owned(),
        r#""\u0074\u006f\u006b\u0065\u006e\u005f\u0075\u0073\u0065":"id""#.to_owned(),
        r#""token\u005Fuse":"access""#.to_owned(),
        r#""\u0069ss":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Evil12345""#
            .to_owned(),
        format!(r#""\u0069ss":"{iss}""#),
        format!(r#""\u0065xp":{}"#, exp + 86_400),
        format!(r#""e\u0078\u0070":{exp}"#),
        r#""\u0073ub":"someone-else""#.to_owned(),
        r#""client\u005fid":"another-client""#.to_owned(),
        r#""\u0075sername":"admin""#.to_owned(),
        r#""cognito:groups":[],"cognito\u003agroups":["admins"]"#.to_owned(),
    ] {
        t.row(
            format!("payload with a second {extra}"),
            f.payload_signed(&with_members(&f.claims, &extra)),
            ErrorKind::InvalidClaims,
        );
    }
}

fn claim_rows(t: &mut Table, f: &Fixture) {
    let id = f.home.id_token();
    for token_use in ["ID", "Id", "Access", "ACCESS", "access ", ""] {
        t.row(
            format!("token_use {token_use:?}"),
            f.payload_signed(&f.claims_with("token_use", Some(json!(token_use)))),
            ErrorKind::InvalidTokenUse,
        );
    }
    // Lookalikes: letters of other scripts, fullwidth forms, invisible characters. The claim
    // is compared byte for byte, never normalized.
    for token_use in [
        "\u{430}\u{441}\u{441}ess",
        "a\u{441}cess",
        "acce\u{455}s",
        "\u{ff41}\u{ff43}\u{ff43}\u{ff45}\u{ff53}\u{ff53}",
        "access\u{200b}",
        "\u{200b}access",
        "\u{feff}access",
        "acc\u{ad}ess",
        "access\u{0}",
        "a\u{301}ccess",
        "\u{456}d",
        "\u{131}d",
        "\u{ff49}\u{ff44}",
        "id\u{200b}",
    ] {
        t.row(
            format!("token_use lookalike {token_use:?}"),
            f.payload_signed(&f.claims_with("token_use", Some(json!(token_use)))),
            ErrorKind::InvalidTokenUse,
        );
    }
    t.row(
        "token_use a number",
        f.payload_signed(&f.claims_with("token_use", Some(json!(1)))),
        ErrorKind::InvalidClaims,
    );
    let client = f.home.client_id();
    for aud in [json!([client]), json!([client, "another"]), json!({})] {
        t.row(
            format!("aud {aud}"),
            id.clone().claim("aud", aud).sign(),
            ErrorKind::InvalidClaims,
        );
    }
    t.row(
        "client_id an array",
        f.payload_signed(&f.claims_with("client_id", Some(json!([client])))),
        ErrorKind::InvalidClaims,
    );

    let exp = now() + 600;
    for (case, value, kind) in [
        ("a string", json!(exp.to_string()), ErrorKind::InvalidClaims),
        ("a float", json!(exp as f64 + 0.5), ErrorKind::InvalidClaims),
        ("a whole float", json!(exp as f64), ErrorKind::InvalidClaims),
        ("a boolean", json!(true), ErrorKind::InvalidClaims),
        ("negative", json!(-1), ErrorKind::Expired),
        ("i64::MIN", json!(i64::MIN), ErrorKind::Expired),
        ("zero", json!(0), ErrorKind::Expired),
        ("u64::MAX", json!(u64::MAX), ErrorKind::InvalidClaims),
        ("null", json!(null), ErrorKind::MissingClaim),
    ] {
        t.row(
            format!("exp {case}"),
            f.payload_signed(&f.claims_with("exp", Some(value))),
            kind,
        );
    }
    // Numbers serde_json cannot even hold, written as text.
    let without_exp = {
        let mut claims = f.claims.clone();
        claims.remove("exp");
        claims
    };
    for exp in ["9223372036854775808", "1e999", "-1e999", "1E3"] {
        t.row(
            format!("exp {exp} as text"),
            f.payload_signed(&with_members(&without_exp, &format!(r#""exp":{exp}"#))),
            ErrorKind::InvalidClaims,
        );
    }

    for claim in ["exp", "iss", "sub", "token_use", "client_id"] {
        t.row(
            format!("missing {claim}"),
            f.payload_signed(&f.claims_with(claim, None)),
            ErrorKind::MissingClaim,
        );
    }
    t.row(
        "missing aud",
        id.clone().without("aud").sign(),
        ErrorKind::MissingClaim,
    );

    let iss = f.home.issuer();
    for other in [
        format!("{iss}/"),
        iss.replacen("https://", "http://", 1),
        f.home.updated_issuer().replacen("https://", "http://", 1),
        iss.replacen("us-east-1.", "eu-west-1.", 1),
        iss.replacen(f.home.pool_id(), "us-east-1_Nobody123", 1),
        iss.to_uppercase(),
        format!("{iss} "),
        format!("{iss}?"),
        format!("{iss}#"),
        format!("https://evil.example.com/{}", f.home.pool_id()),
        f.home.pool_id().to_owned(),
    ] {
        t.row(
            format!("iss {other}"),
            f.payload_signed(&f.claims_with("iss", Some(json!(other)))),
            ErrorKind::InvalidIssuer,
        );
    }
    // Lookalikes of the issuer: Cyrillic letters, fullwidth forms, invisible characters.
    for other in [
        iss.replacen("cognito", "c\u{43e}gnito", 1),
        iss.replacen("amazonaws", "\u{430}mazonaws", 1),
        iss.replacen("https", "\u{ff48}ttps", 1),
        iss.replacen("cognito-idp", "cognito\u{ff0d}idp", 1),
        iss.replacen(".com/", ".com\u{ff0f}", 1),
        iss.replacen("us-east-1_", "us-east-1\u{ff3f}", 1),
        iss.replacen("_TestPool01", "_TestPool\u{ff10}1", 1),
        format!("{iss}\u{200b}"),
        format!("\u{200b}{iss}"),
        format!("\u{feff}{iss}"),
        iss.replacen("cognito", "cog\u{ad}nito", 1),
        iss.replacen("cognito", "co\u{200d}gnito", 1),
        format!("{iss}\u{0}"),
    ] {
        assert_ne!(other, iss);
        t.row(
            format!("iss lookalike {other:?}"),
            f.payload_signed(&f.claims_with("iss", Some(json!(other)))),
            ErrorKind::InvalidIssuer,
        );
    }
    t.row(
        "iss a number",
        f.payload_signed(&f.claims_with("iss", Some(json!(1)))),
        ErrorKind::InvalidClaims,
    );

    let claims = f.claims_text();
    for payload in [
        "[]".to_owned(),
        format!("[{claims}]"),
        r#""a string""#.to_owned(),
        "42".to_owned(),
        "null".to_owned(),
        "true".to_owned(),
        " ".to_owned(),
        format!("{claims}{claims}"),
        format!("{claims} trailing"),
    ] {
        t.row(
            format!("payload {}", &payload[..payload.len().min(40)]),
            f.payload_signed(&payload),
            ErrorKind::InvalidClaims,
        );
    }
    // 5,000 levels of nesting in a member nobody reads: the parsers skip it without recursing,
    // and the token, not signed by the pool, is refused at the signature.
    let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let stranger = SigningKey::generate_with_kid(f.kid());
    t.row(
        "header nested 5,000 deep",
        rs256(
            &stranger,
            &f.header_with(json!({"x": "NEST"}))
                .replacen(r#""NEST""#, &deep, 1),
            &claims,
        ),
        ErrorKind::InvalidSignature,
    );
    t.row(
        "payload nested 5,000 deep",
        rs256(
            &stranger,
            &f.header,
            &with_members(&f.claims, &format!(r#""deep":{deep}"#)),
        ),
        ErrorKind::InvalidSignature,
    );
    t.row(
        "payload nested 5,000 deep, without iss",
        rs256(&stranger, &f.header, &format!(r#"{{"deep":{deep}}}"#)),
        ErrorKind::MissingClaim,
    );
}

fn shape_rows(t: &mut Table, f: &Fixture) {
    let token = f.home.access_token().sign();
    let (header, payload, signature) = segments(&token);
    for (case, bad) in [
        ("a trailing =", format!("{token}=")),
        ("a trailing ==", format!("{token}==")),
        (
            "a padded header",
            format!("{header}=.{payload}.{signature}"),
        ),
        (
            "a padded payload",
            format!("{header}.{payload}==.{signature}"),
        ),
        ("four segments", format!("{token}.{signature}")),
        (
            "five segments (JWE)",
            format!("{header}.{payload}.{signature}.{payload}.{signature}"),
        ),
        ("a trailing dot", format!("{token}.")),
        ("a leading dot", format!(".{token}")),
        ("two segments", format!("{header}.{payload}")),
        ("an empty payload", format!("{header}..{signature}")),
        ("one segment", header.to_owned()),
    ] {
        t.row(case, bad, ErrorKind::Malformed);
    }

    // Claims whose standard-alphabet encoding surely has `/` and `+`: six `?` and six `~` in a
    // row hold a whole base64 group of each, at any offset.
    let claims = f
        .home
        .access_token()
        .claim("note", "??????~~~~~~")
        .claims()
        .clone();
    let text = Value::Object(claims).to_string();
    let good = f.payload_signed(&text);
    let standard = STANDARD_NO_PAD.encode(&text);
    assert!(standard.contains('/') && standard.contains('+'));
    let (head, tail) = good.split_once('.').unwrap();
    let signature = tail.split_once('.').unwrap().1;
    t.row(
        "payload in the standard alphabet",
        format!("{head}.{standard}.{signature}"),
        ErrorKind::Malformed,
    );
    t.row(
        "payload in the padded standard alphabet",
        format!("{head}.{}.{signature}", STANDARD.encode(&text)),
        ErrorKind::Malformed,
    );

    // A sound token, validly signed, one byte over the cap (the same token at the cap passes:
    // `a_valid_token_of_exactly_the_size_cap_is_accepted`).
    t.row(
        "valid token of DEFAULT_MAX_TOKEN_BYTES + 1",
        token_of_length(
            &f.key,
            &f.claims,
            axum_cognito::defaults::DEFAULT_MAX_TOKEN_BYTES + 1,
        ),
        ErrorKind::TokenTooLarge,
    );

    // 10 MB headers: refused for their size, before anything is decoded.
    t.row(
        "10 MB header of A",
        format!("{}.{payload}.{signature}", "A".repeat(TEN_MB)),
        ErrorKind::TokenTooLarge,
    );
    t.row(
        "10 MB header of + (not base64url)",
        format!("{}.{payload}.{signature}", "+".repeat(TEN_MB)),
        ErrorKind::TokenTooLarge,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_tokens_are_refused_with_401_and_their_own_error_kind() {
    let home = TestIssuer::start().await;
    let other = TestIssuer::start_with("us-east-1_OtherPool2", "other-client").await;
    let attacker = TestIssuer::start_with("us-east-1_Attacker1", "test-client").await;
    // A long cooldown: however many unknown kids the table holds, one refetch per pool.
    let verifier = CognitoVerifier::builder()
        .user_pool(home.user_pool())
        .user_pool(other.user_pool())
        .any_token_use()
        .unknown_kid_cooldown(Duration::from_secs(600))
        // The one refetch per pool must not time out on a busy machine.
        .fetch_timeout(Duration::from_secs(10))
        .build()
        .await
        .unwrap();
    let terse = Router::new()
        .route("/", get(verified_sub))
        .layer(CognitoAuthLayer::new(verifier.clone()));
    let verbose = Router::new()
        .route("/", get(verified_sub))
        .layer(CognitoAuthLayer::new(verifier.clone()).verbose());
    let key = home.signing_key();
    let fixture = Fixture {
        header: json!({"kid": key.kid(), "alg": "RS256"}).to_string(),
        claims: home.access_token().claims().clone(),
        key,
        home,
        other,
        attacker,
    };
    let f = &fixture;
    let requests = (f.home.jwks_requests(), f.other.jwks_requests());

    // The pieces are sound: valid tokens of both pools pass, by hand as by the builder.
    for token in [
        f.header_signed(&f.header),
        f.home.id_token().sign(),
        f.other.access_token().sign(),
    ] {
        assert!(verifier.verify(&token).await.is_ok(), "{token}");
        let reply = call(&terse, with_token("/", &token)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }

    let mut table = Table(Vec::new());
    algorithm_rows(&mut table, f);
    key_rows(&mut table, f);
    duplicate_rows(&mut table, f);
    claim_rows(&mut table, f);
    shape_rows(&mut table, f);
    assert!(table.0.len() >= 140, "{} rows", table.0.len());

    for Row { case, token, kind } in &table.0 {
        let error = verifier
            .verify(token)
            .await
            .expect_err(&format!("{case}: accepted"));
        assert_eq!(error.kind(), *kind, "{case}: {error}");
        if before_signature(*kind) {
            assert_eq!(error.verified_claims_json(), None, "{case}");
        }

        let reply = call(&terse, with_token("/", token)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(reply.body, "Unauthorized", "{case}");
        let www = reply.www_authenticate().unwrap_or_default();
        let expected = if is_token68(token) {
            r#"Bearer error="invalid_token""#
        } else {
            r#"Bearer error="invalid_request""#
        };
        assert_eq!(www, expected, "{case}");

        let reply = call(&verbose, with_token("/", token)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{case}");
        let reason = if is_token68(token) {
            error.to_string()
        } else {
            "Malformed Bearer credentials".to_owned()
        };
        assert_eq!(reply.body, reason, "{case}");
    }

    // Unknown kids by the dozen, one refetch per pool; the attacker's JWKS was never asked.
    assert!(f.home.jwks_requests() <= requests.0 + 1);
    assert!(f.other.jwks_requests() <= requests.1 + 1);
    assert_eq!(f.attacker.jwks_requests(), 0, "jku or x5u was followed");
}

#[tokio::test]
async fn key_carrying_headers_are_ignored_so_a_validly_signed_token_still_verifies() {
    let home = TestIssuer::start().await;
    let attacker = TestIssuer::start_with("us-east-1_Attacker1", "test-client").await;
    let verifier = verifier(&home).await;
    let app = Router::new()
        .route("/", get(verified_sub))
        .layer(CognitoAuthLayer::new(verifier.clone()));
    let evil = attacker.signing_key();
    // Signed by the home key: the planted members change nothing, in either direction.
    let token = home
        .access_token()
        .sub("real-user")
        .header("jku", attacker.jwks_url())
        .header("x5u", attacker.jwks_url())
        .header("jwk", evil.jwk())
        .header("x5c", json!([STANDARD.encode(evil.public_key_der())]))
        .header("x5t", "AAAA")
        .sign();
    let reply = call(&app, with_token("/", &token)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, "real-user");
    assert_eq!(verifier.verify(&token).await.unwrap().sub(), "real-user");
    assert_eq!(attacker.jwks_requests(), 0);
}

#[tokio::test]
async fn the_size_cap_refuses_a_10_mb_header_before_decoding_it() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let token = issuer.access_token().sign();
    let rest = token.split_once('.').unwrap().1;
    // `!` is in no base64 alphabet: had anything been decoded, the error would be Malformed,
    // as it is for the same header under the cap.
    let small = format!("{}.{rest}", "!".repeat(100));
    assert_eq!(
        verifier.verify(&small).await.unwrap_err().kind(),
        ErrorKind::Malformed
    );
    let huge = format!("{}.{rest}", "!".repeat(TEN_MB));
    assert_eq!(
        verifier.verify(&huge).await.unwrap_err().kind(),
        ErrorKind::TokenTooLarge
    );
    assert_eq!(
        verifier.verify_sync(&huge).unwrap_err().kind(),
        ErrorKind::TokenTooLarge
    );
    // One byte over the cap is enough.
    let cap = axum_cognito::defaults::DEFAULT_MAX_TOKEN_BYTES;
    let over = format!("{}.{rest}", "!".repeat(cap + 1 - rest.len() - 1));
    assert_eq!(over.len(), cap + 1);
    assert_eq!(
        verifier.verify(&over).await.unwrap_err().kind(),
        ErrorKind::TokenTooLarge
    );
    let at = &over[1..];
    assert_eq!(
        verifier.verify(at).await.unwrap_err().kind(),
        ErrorKind::Malformed
    );
}

/// A handler that reads the crate's access claims type.
async fn access_sub(claims: CognitoClaims<Access>) -> String {
    claims.sub.clone()
}

/// A handler that reads the crate's ID claims type.
async fn id_username(claims: CognitoClaims<Id>) -> String {
    claims.username.clone()
}

/// `/raw` takes the `VerifiedToken` the layer verified; `/access` and `/id` read typed claims.
fn typed_app(verifier: &CognitoVerifier) -> Router {
    Router::new()
        .route("/raw", get(verified_sub))
        .route("/access", get(access_sub))
        .route("/id", get(id_username))
        .layer(CognitoAuthLayer::new(verifier.clone()))
}

#[tokio::test]
async fn a_lone_escaped_member_name_is_just_that_member_and_the_token_is_accepted() {
    // serde unescapes member names: `"\u0074oken_use"` alone is `token_use`, no duplicate, and
    // the token is an ordinary access token.
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let app = typed_app(&verifier);
    let key = issuer.signing_key();
    let kid = json!(key.kid()).to_string();
    let plain_header = json!({"kid": key.kid(), "alg": "RS256"}).to_string();
    let claims = issuer.access_token().sub("escaped-user").claims().clone();
    let without = |name: &str| {
        let mut claims = claims.clone();
        claims.remove(name).expect("a claim of the token");
        claims
    };
    let iss = json!(issuer.issuer()).to_string();
    let exp = claims["exp"].clone();
    let plain = Value::Object(claims.clone()).to_string();
    for (case, header, payload) in [
        (
            r#""\u0074oken_use":"access""#,
            plain_header.clone(),
            with_members(&without("token_use"), r#""\u0074oken_use":"access""#),
        ),
        (
            "token_use with every character escaped",
            plain_header.clone(),
            with_members(
                &without("token_use"),
                r#""\u0074\u006f\u006b\u0065\u006e\u005f\u0075\u0073\u0065":"access""#,
            ),
        ),
        (
            r#""token_use":"\u0061ccess" (an escaped value)"#,
            plain_header.clone(),
            with_members(&without("token_use"), r#""token_use":"\u0061ccess""#),
        ),
        (
            r#""\u0069ss""#,
            plain_header.clone(),
            with_members(&without("iss"), &format!(r#""\u0069ss":{iss}"#)),
        ),
        (
            r#""\u0065xp""#,
            plain_header.clone(),
            with_members(&without("exp"), &format!(r#""\u0065xp":{exp}"#)),
        ),
        (
            r#""\u0073ub""#,
            plain_header.clone(),
            with_members(&without("sub"), r#""\u0073ub":"escaped-user""#),
        ),
        (
            r#"header "\u0061lg":"RS256""#,
            format!(r#"{{"kid":{kid},"\u0061lg":"RS256"}}"#),
            plain.clone(),
        ),
        (
            r#"header "\u006bid""#,
            format!(r#"{{"\u006bid":{kid},"alg":"RS256"}}"#),
            plain.clone(),
        ),
    ] {
        let token = rs256(&key, &header, &payload);
        let claims = verifier
            .verify_access(&token)
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(claims.sub, "escaped-user", "{case}");
        assert_eq!(claims.token_use, TokenUse::Access, "{case}");
        for path in ["/raw", "/access"] {
            let reply = call(&app, with_token(path, &token)).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{case} {path}: {}",
                reply.body
            );
            assert_eq!(reply.body, "escaped-user", "{case} {path}");
        }
    }
}

#[tokio::test]
async fn a_valid_token_of_exactly_the_size_cap_is_accepted() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let app = typed_app(&verifier);
    let cap = axum_cognito::defaults::DEFAULT_MAX_TOKEN_BYTES;
    assert_eq!(cap, 16_384);
    let claims = issuer.access_token().sub("big-user").claims().clone();
    let key = issuer.signing_key();

    let at = token_of_length(&key, &claims, cap);
    assert_eq!(verifier.verify_access(&at).await.unwrap().sub, "big-user");
    assert_eq!(verifier.verify_sync(&at).unwrap().sub(), "big-user");
    for path in ["/raw", "/access"] {
        let reply = call(&app, with_token(path, &at)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        assert_eq!(reply.body, "big-user", "{path}");
    }

    let over = token_of_length(&key, &claims, cap + 1);
    assert_eq!(
        kind(verifier.verify_access(&over).await),
        ErrorKind::TokenTooLarge
    );
    assert_eq!(kind(verifier.verify_sync(&over)), ErrorKind::TokenTooLarge);
    for path in ["/raw", "/access"] {
        let reply = call(&app, with_token(path, &over)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            reply.www_authenticate(),
            Some(r#"Bearer error="invalid_token""#),
            "{path}"
        );
    }
}

/// The JSON types a claim can be given that it must not have.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// A string.
    Text,
    /// An integer of seconds.
    Number,
    /// An array of strings.
    Texts,
    /// `"id"` or `"access"`.
    Use,
    /// A boolean, or the string `"true"` / `"false"`.
    Flag,
}

impl Shape {
    fn wrong_values(self) -> Vec<Value> {
        match self {
            Shape::Text => vec![
                json!(7),
                json!(1.5),
                json!(true),
                json!(["x"]),
                json!({"x": "y"}),
            ],
            Shape::Number => vec![
                json!("1700000000"),
                json!(1.5),
                json!(true),
                json!([1]),
                json!({"n": 1}),
                json!(u64::MAX),
            ],
            Shape::Texts => vec![
                json!("admins"),
                json!(1),
                json!(true),
                json!({"0": "admins"}),
                json!([1]),
                json!([["admins"]]),
                json!([null]),
            ],
            Shape::Use => vec![
                json!(1),
                json!(true),
                json!(["access"]),
                json!({"id": true}),
            ],
            Shape::Flag => vec![
                json!(1),
                json!(0),
                json!("yes"),
                json!("TRUE"),
                json!(""),
                json!(["true"]),
                json!({"true": true}),
            ],
        }
    }
}

/// Every typed field of `AccessClaims`.
const ACCESS_FIELDS: &[(&str, Shape)] = &[
    ("sub", Shape::Text),
    ("iss", Shape::Text),
    ("client_id", Shape::Text),
    ("token_use", Shape::Use),
    ("scope", Shape::Text),
    ("username", Shape::Text),
    ("cognito:groups", Shape::Texts),
    ("auth_time", Shape::Number),
    ("iat", Shape::Number),
    ("exp", Shape::Number),
    ("jti", Shape::Text),
    ("origin_jti", Shape::Text),
    ("event_id", Shape::Text),
    ("version", Shape::Number),
];

/// Every typed field of `IdClaims` but `identities`, which holds any JSON.
const ID_FIELDS: &[(&str, Shape)] = &[
    ("sub", Shape::Text),
    ("iss", Shape::Text),
    ("aud", Shape::Text),
    ("token_use", Shape::Use),
    ("cognito:username", Shape::Text),
    ("cognito:groups", Shape::Texts),
    ("cognito:roles", Shape::Texts),
    ("cognito:preferred_role", Shape::Text),
    ("email", Shape::Text),
    ("email_verified", Shape::Flag),
    ("phone_number", Shape::Text),
    ("phone_number_verified", Shape::Flag),
    ("name", Shape::Text),
    ("given_name", Shape::Text),
    ("family_name", Shape::Text),
    ("auth_time", Shape::Number),
    ("iat", Shape::Number),
    ("exp", Shape::Number),
    ("jti", Shape::Text),
    ("origin_jti", Shape::Text),
    ("event_id", Shape::Text),
    ("at_hash", Shape::Text),
    ("nonce", Shape::Text),
];

/// The claims the verifier's own checks read (as a struct: any wrong type fails them), so that
/// a route taking only the `VerifiedToken` refuses them too. Every other claim is read only by
/// the typed extractors.
const READ_BY_THE_CHECKS: &[&str] = &[
    "sub",
    "iss",
    "client_id",
    "aud",
    "token_use",
    "exp",
    "scope",
    "username",
    "cognito:username",
    "cognito:groups",
    // Read for revocation: a second or mistyped `jti` cannot slip past a revoked one.
    "jti",
    "origin_jti",
    "iat",
    "auth_time",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_of_the_wrong_type_is_refused_with_401_by_the_typed_extractors() {
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let app = typed_app(&verifier);
    for (path, token) in [
        ("/access", issuer.access_token().sign()),
        ("/id", issuer.id_token().sign()),
    ] {
        let reply = call(&app, with_token(path, &token)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
    }

    let mut cases = 0;
    for (path, fields) in [("/access", ACCESS_FIELDS), ("/id", ID_FIELDS)] {
        for (field, shape) in fields {
            for value in shape.wrong_values() {
                let case = format!("{path} {field}: {value}");
                let token = match path {
                    "/access" => issuer.access_token(),
                    _ => issuer.id_token(),
                }
                .claim(field, value)
                .sign();
                let typed = match path {
                    "/access" => verifier.verify_access(&token).await.map(|_| ()),
                    _ => verifier.verify_id(&token).await.map(|_| ()),
                };
                assert_eq!(kind(typed), ErrorKind::InvalidClaims, "{case}");
                assert_eq!(
                    kind(verifier.verify(&token).await),
                    ErrorKind::InvalidClaims
                );

                let reply = call(&app, with_token(path, &token)).await;
                assert_eq!(
                    reply.status,
                    StatusCode::UNAUTHORIZED,
                    "{case}: {}",
                    reply.body
                );
                assert_eq!(
                    reply.www_authenticate(),
                    Some(r#"Bearer error="invalid_token""#),
                    "{case}"
                );
                let raw = call(&app, with_token("/raw", &token)).await;
                let expected = if READ_BY_THE_CHECKS.contains(field) {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::OK
                };
                assert_eq!(raw.status, expected, "{case} via /raw: {}", raw.body);
                cases += 1;
            }
        }
    }
    assert!(cases >= 190, "{cases} cases");
}

#[tokio::test]
async fn deep_nesting_in_a_claim_nobody_reads_never_answers_5xx() {
    // Validly signed tokens with `depth` nested arrays in an extra claim. Observed: the
    // verifier's checks skip an unknown member without recursing, so a route taking the
    // `VerifiedToken` accepts any depth. The typed claims keep unknown members (`extra`), each
    // read from its own raw text under serde_json's recursion limit of 128 levels: 127 arrays
    // pass, 128 and more are refused with 401 `InvalidClaims`, for access and ID tokens alike.
    // A header member nobody reads is skipped at any depth.
    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let app = typed_app(&verifier);
    let key = issuer.signing_key();
    let header = json!({"kid": key.kid(), "alg": "RS256"}).to_string();
    let access = issuer.access_token().sub("deep-user").claims().clone();
    let id = issuer
        .id_token()
        .sub("deep-user")
        .username("deep-user")
        .claims()
        .clone();
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    for (depth, typed) in [
        (100, StatusCode::OK),
        (127, StatusCode::OK),
        (128, StatusCode::UNAUTHORIZED),
        (200, StatusCode::UNAUTHORIZED),
        (1_000, StatusCode::UNAUTHORIZED),
    ] {
        let deep = format!(r#""deep":{}"#, nested(depth));
        for (path, claims) in [("/access", &access), ("/id", &id)] {
            let case = format!("{depth} levels via {path}");
            let token = rs256(&key, &header, &with_members(claims, &deep));
            let raw = call(&app, with_token("/raw", &token)).await;
            assert_eq!(raw.status, StatusCode::OK, "{case} (raw): {}", raw.body);
            assert_eq!(raw.body, "deep-user", "{case}");
            let reply = call(&app, with_token(path, &token)).await;
            assert_eq!(reply.status, typed, "{case}: {}", reply.body);
            let verified = verifier.verify(&token).await;
            if typed == StatusCode::OK {
                assert_eq!(reply.body, "deep-user", "{case}");
                assert_eq!(verified.unwrap().sub(), "deep-user", "{case}");
            } else {
                assert_eq!(kind(verified), ErrorKind::InvalidClaims, "{case}");
                assert_eq!(
                    reply.www_authenticate(),
                    Some(r#"Bearer error="invalid_token""#),
                    "{case}"
                );
            }
        }

        let deep_header = json!({"kid": key.kid(), "alg": "RS256", "x": "NEST"})
            .to_string()
            .replacen(r#""NEST""#, &nested(depth), 1);
        let token = rs256(
            &key,
            &deep_header,
            &Value::Object(access.clone()).to_string(),
        );
        for path in ["/raw", "/access"] {
            let reply = call(&app, with_token(path, &token)).await;
            assert_eq!(reply.status, StatusCode::OK, "header {depth} via {path}");
        }
        assert!(
            verifier.verify_access(&token).await.is_ok(),
            "header {depth}"
        );
    }
}

/// A log sink for the test's own thread.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_token_reaches_the_logs() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("axum_cognito=trace")
        .with_writer({
            let captured = captured.clone();
            move || captured.clone()
        })
        .finish();
    // Global: a subscriber for this thread alone misses events whose callsites other tests'
    // threads registered first. The other tests' events land here too, and must hold no token
    // either.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let issuer = TestIssuer::start().await;
    let verifier = verifier(&issuer).await;
    let app = Router::new()
        .route("/", get(verified_sub))
        .layer(CognitoAuthLayer::new(verifier.clone()).verbose());
    let stranger = SigningKey::generate();
    let tokens = [
        issuer.access_token().sign(),
        issuer.access_token().expired().sign(),
        issuer.access_token().claim("token_use", "ID").sign(),
        issuer.access_token().signed_with(&stranger).sign(),
        issuer
            .access_token()
            .signed_with(&SigningKey::generate_with_kid(issuer.signing_key().kid()))
            .sign(),
        issuer.access_token().header("alg", "none").sign(),
        issuer.access_token().header("crit", json!(["exp"])).sign(),
    ];
    let mut statuses = Vec::new();
    for token in &tokens {
        statuses.push(call(&app, with_token("/", token)).await.status);
        let _ = verifier.verify(token).await;
    }
    assert_eq!(statuses[0], StatusCode::OK);
    assert!(statuses[1..].iter().all(|s| *s == StatusCode::UNAUTHORIZED));

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("cognito: request refused"), "{logs}");
    assert!(logs.contains("cognito: token accepted"), "{logs}");
    for token in &tokens {
        for segment in token.split('.') {
            assert!(
                !logs.contains(segment),
                "a token segment in the logs: {logs}"
            );
        }
    }
}
