//! A load balancer key id: a UUID, checked before it goes into a URL.

/// The text of a canonical UUID: 36 characters, hex digits (either case, as RFC 9562 reads
/// them) in groups of 8-4-4-4-12 joined by `-`. Nothing else can reach a key URL, so a `kid`
/// of `../`, `%2e%2e`, `?`, `#`, `/` or an absolute URL never does. Kept in lower case (the
/// form the load balancer writes and its key URLs use): both cases of one UUID name one key,
/// one cache slot and one fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct AlbKeyId([u8; 36]);

impl AlbKeyId {
    pub(crate) fn parse(kid: &str) -> Option<Self> {
        let mut bytes: [u8; 36] = kid.as_bytes().try_into().ok()?;
        bytes.make_ascii_lowercase();
        let canonical = bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
        canonical.then_some(Self(bytes))
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII hex digits and `-` were accepted.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_uuids() {
        for kid in [
            "12345678-9abc-def0-1234-56789abcdef0",
            "12345678-9ABC-DEF0-1234-56789ABCDEF0",
        ] {
            let parsed = AlbKeyId::parse(kid).unwrap();
            assert_eq!(parsed.as_str(), "12345678-9abc-def0-1234-56789abcdef0");
        }
        let ten_kb = "a".repeat(10 * 1024);
        for kid in [
            "",
            "../../etc/passwd",
            "%2e%2e%2f%2e%2e",
            "https://attacker.example/key.pem",
            "12345678-9abc-def0-1234-56789abcdef",
            "12345678-9abc-def0-1234-56789abcdef01",
            "123456789abc-def0-1234-56789abcdef0-",
            "12345678_9abc_def0_1234_56789abcdef0",
            "1234567g-9abc-def0-1234-56789abcdef0",
            "12345678-9abc-def0-1234-56789abcde/0",
            "12345678-9abc-def0-1234-56789abcd%2f",
            "{2345678-9abc-def0-1234-56789abcdef0}",
            "123456789abcdef0123456789abcdef0",
            "12345678-9abc-def0-1234-56789abcdéf",
            ten_kb.as_str(),
        ] {
            assert_eq!(AlbKeyId::parse(kid), None, "{kid}");
        }
    }
}
