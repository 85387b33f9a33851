//! Claim values as API Gateway writes them (every one a string), read back as their types.

use serde_json::Value;

use crate::error::Error;

/// Which API Gateway wrote the strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// HTTP API (payload 2.0): lists as `[a b]`, times as seconds.
    HttpApi,
    /// REST API (payload 1.0): lists as `a,b`, `exp` and `iat` as `Tue Apr 04 18:39:39 UTC 2023`.
    RestApi,
}

/// The claims read as numbers: seconds since the epoch, and the access token's `version`.
const NUMBERS: [&str; 5] = ["exp", "iat", "nbf", "auth_time", "version"];
/// The claims read as lists of strings.
const LISTS: [&str; 2] = ["cognito:groups", "cognito:roles"];

/// `text`, the value of the claim `name`, as the claim's type: a number, a list, or the
/// string itself for any claim the crate does not type (`scope` is split where it is read).
///
/// # Errors
///
/// [`InvalidClaims`](crate::ErrorKind::InvalidClaims) naming the claim, when the text is not
/// of its type.
pub(super) fn typed(name: &str, text: String, format: Format) -> Result<Value, Error> {
    if let Some(&claim) = NUMBERS.iter().find(|n| **n == name) {
        let seconds = text.parse::<i64>().ok().or_else(|| match format {
            Format::RestApi => date_seconds(&text),
            Format::HttpApi => None,
        });
        return seconds.map(Value::from).ok_or(Error::invalid_claim(claim));
    }
    if let Some(&claim) = LISTS.iter().find(|n| **n == name) {
        return list(&text, format).ok_or(Error::invalid_claim(claim));
    }
    // An access token bound to several resources: its `aud` array, flattened as a list is.
    if name == "aud" && format == Format::HttpApi && text.starts_with('[') {
        return list(&text, format).ok_or(Error::invalid_claim("aud"));
    }
    Ok(Value::String(text))
}

/// `[a b]` (HTTP API) or `a,b` (REST API); a single `a` from either. Group and role names have
/// no spaces, brackets or commas at their ends, so a name that does is a malformed list.
fn list(text: &str, format: Format) -> Option<Value> {
    let items: Vec<&str> = match (format, text.strip_prefix('[')) {
        (Format::HttpApi, Some(inner)) => inner.strip_suffix(']')?.split_whitespace().collect(),
        (Format::HttpApi, None) => vec![text],
        (Format::RestApi, _) => text.split(',').collect(),
    };
    let malformed = |item: &&str| item.is_empty() || item.contains(['[', ']', ' ']);
    if text.is_empty() || items.iter().any(malformed) {
        return None;
    }
    Some(items.into_iter().map(Value::from).collect())
}

/// Seconds since the epoch of a time as Java prints a date in UTC: `Tue Apr 04 18:39:39 UTC
/// 2023` (the REST API's `exp` and `iat`). Another zone, or anything out of range, is `None`.
fn date_seconds(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let fields: Vec<&str> = text.split(' ').collect();
    let [_weekday, month, day, time, "UTC" | "GMT", year] = fields[..] else {
        return None;
    };
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let number = |s: &str, max: i64| s.parse::<i64>().ok().filter(|n| (0..=max).contains(n));
    let (day, year) = (number(day, 31).filter(|d| *d > 0)?, number(year, 9999)?);
    let hms: Vec<i64> = time
        .split(':')
        .map(|t| number(t, 60))
        .collect::<Option<_>>()?;
    let [hours, minutes, seconds] = hms[..] else {
        return None;
    };
    Some(days_from_civil(year, month, day) * 86_400 + hours * 3600 + minutes * 60 + seconds)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A value read back, or the claim its error names.
    type Read = Result<Value, Option<&'static str>>;

    fn read(name: &str, text: &str, format: Format) -> Read {
        typed(name, text.into(), format).map_err(|e| e.claim_name())
    }

    #[test]
    fn strings_read_back_as_their_types() {
        use Format::*;
        #[rustfmt::skip]
        let cases: &[(&str, &str, Format, Read)] = &[
            ("exp", "1765130400", HttpApi, Ok(json!(1_765_130_400))),
            ("exp", "Tue Apr 04 18:39:39 UTC 2023", RestApi, Ok(json!(1_680_633_579))),
            ("iat", "Thu Jan 01 00:00:00 UTC 1970", RestApi, Ok(json!(0))),
            ("iat", "Tue Feb 29 12:00:00 GMT 2028", RestApi, Ok(json!(1_835_438_400))),
            ("exp", "Tue Apr 04 18:39:39 CET 2023", RestApi, Err(Some("exp"))),
            ("exp", "Tue Apr 04 18:39:39 UTC 2023", HttpApi, Err(Some("exp"))),
            ("exp", "Tue Apr 32 18:39:39 UTC 2023", RestApi, Err(Some("exp"))),
            ("exp", "Tue Apr 04 18:39 UTC 2023", RestApi, Err(Some("exp"))),
            ("exp", "soon", HttpApi, Err(Some("exp"))),
            ("exp", "", RestApi, Err(Some("exp"))),
            ("auth_time", "1e9", HttpApi, Err(Some("auth_time"))),
            ("version", "2", HttpApi, Ok(json!(2))),
            ("cognito:groups", "[admins readers]", HttpApi, Ok(json!(["admins", "readers"]))),
            ("cognito:groups", "admins", HttpApi, Ok(json!(["admins"]))),
            ("cognito:groups", "admins,readers", RestApi, Ok(json!(["admins", "readers"]))),
            ("cognito:groups", "[admins readers", HttpApi, Err(Some("cognito:groups"))),
            ("cognito:groups", "[]", HttpApi, Ok(json!([]))),
            ("cognito:groups", "[a [b]]", HttpApi, Err(Some("cognito:groups"))),
            ("cognito:groups", "a,,b", RestApi, Err(Some("cognito:groups"))),
            ("cognito:groups", "", RestApi, Err(Some("cognito:groups"))),
            ("cognito:roles", "[arn:aws:iam::1:role/a arn:aws:iam::1:role/b]", HttpApi, Ok(json!(["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]))),
            ("scope", "orders/read openid", HttpApi, Ok(json!("orders/read openid"))),
            ("custom:team", "[not a list]", HttpApi, Ok(json!("[not a list]"))),
        ];
        for (name, text, format, expected) in cases {
            assert_eq!(&read(name, text, *format), expected, "{name} = {text:?}");
        }
    }
}
