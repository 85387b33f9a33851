//! A guard every JSON document of a token passes before serde reads it.

/// True when the text starts as a JSON object. serde reads a struct from a JSON array too (by
/// position), which a JOSE header or claims set must never be.
pub(crate) fn is_json_object(json: &[u8]) -> bool {
    json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_objects() {
        assert!(is_json_object(b" \n{}"));
        for text in [&b"[]"[..], b"\"{\"", b"", b"  ", b"1"] {
            assert!(!is_json_object(text), "{text:?}");
        }
    }
}
