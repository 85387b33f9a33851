//! API Gateway events for a Lambda function's tests (feature `lambda`): the claims of a token
//! as API Gateway's authorizers write them, in the event `lambda_http` converts.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use super::TestIssuer;

/// Which event [`TestIssuer::api_gateway_event`] makes.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiGatewayEvent {
    /// HTTP API (payload 2.0) with a JWT authorizer: the claims, every value a string, in
    /// `requestContext.authorizer.jwt.claims` (lists as `[a b]`).
    HttpJwtAuthorizer,
    /// HTTP API (payload 2.0), a route without an authorizer: the token only in
    /// `Authorization`, for the function to verify.
    HttpNoAuthorizer,
    /// REST API (payload 1.0) with a Cognito user-pool authorizer: the claims, every value a
    /// string, in `requestContext.authorizer.claims` (lists as `a,b`, `exp` and `iat` as
    /// `Tue Apr 04 18:39:39 UTC 2023`).
    RestCognitoAuthorizer,
}

impl TestIssuer {
    /// An API Gateway event for `method` `path` with `token` in `Authorization: Bearer` and,
    /// for an authorizer, the token's claims as that authorizer hands them to the function.
    /// The claims are read from the token without a check: a test can pass any token, or edit
    /// the event to send claims of the wrong shape.
    ///
    /// # Panics
    ///
    /// For an authorizer, when `token`'s payload is not a base64url JSON object.
    pub fn api_gateway_event(
        &self,
        shape: ApiGatewayEvent,
        method: &str,
        path: &str,
        token: &str,
    ) -> Value {
        let rest = shape == ApiGatewayEvent::RestCognitoAuthorizer;
        let claims = || -> Map<String, Value> {
            let payload = token.split('.').nth(1).expect("a JWT");
            let payload = URL_SAFE_NO_PAD.decode(payload).expect("base64url");
            let claims: Map<String, Value> = serde_json::from_slice(&payload).expect("JSON object");
            (claims.into_iter())
                .map(|(name, value)| {
                    let text = as_api_gateway_writes(&name, value, rest);
                    (name, Value::String(text))
                })
                .collect()
        };
        let bearer = format!("Bearer {token}");
        match shape {
            ApiGatewayEvent::RestCognitoAuthorizer => json!({
                "resource": "/{proxy+}", "path": path, "httpMethod": method,
                "headers": {"Authorization": bearer},
                "multiValueHeaders": {"Authorization": [bearer]},
                "requestContext": {
                    "accountId": "123456789012", "apiId": "test", "stage": "$default",
                    "requestId": "request", "resourcePath": "/{proxy+}", "httpMethod": method,
                    "path": path, "identity": {"sourceIp": "127.0.0.1"},
                    "authorizer": {"claims": claims()},
                },
                "isBase64Encoded": false,
            }),
            _ => {
                let authorizer = (shape == ApiGatewayEvent::HttpJwtAuthorizer)
                    .then(|| json!({"jwt": {"claims": claims(), "scopes": null}}));
                json!({
                    "version": "2.0", "routeKey": "$default", "rawPath": path,
                    "rawQueryString": "", "headers": {"authorization": bearer},
                    "requestContext": {
                        "accountId": "123456789012", "apiId": "test", "stage": "$default",
                        "requestId": "request", "routeKey": "$default", "time": "",
                        "timeEpoch": 0, "domainName": "test.execute-api.eu-west-1.amazonaws.com",
                        "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                 "sourceIp": "127.0.0.1", "userAgent": "test"},
                        "authorizer": authorizer,
                    },
                    "isBase64Encoded": false,
                })
            }
        }
    }

    /// [`api_gateway_event`](Self::api_gateway_event) through `lambda_http`'s own conversion:
    /// the request a function's router gets, with the request context in its extensions.
    pub fn api_gateway_request(
        &self,
        shape: ApiGatewayEvent,
        method: &str,
        path: &str,
        token: &str,
    ) -> lambda_http::Request {
        let event = self.api_gateway_event(shape, method, path, token);
        lambda_http::request::from_str(&event.to_string()).expect("an API Gateway event")
    }
}

/// A claim's value as API Gateway writes it: a string; lists as `[a b]` (HTTP API) or `a,b`
/// (REST API, which also writes `exp` and `iat` as dates).
fn as_api_gateway_writes(name: &str, value: Value, rest: bool) -> String {
    match value {
        Value::String(text) => text,
        Value::Number(n) if rest && matches!(name, "exp" | "iat") => {
            n.as_i64().map_or_else(|| n.to_string(), java_date)
        }
        Value::Array(items) => {
            let items: Vec<String> = (items.into_iter())
                .map(|item| as_api_gateway_writes("", item, rest))
                .collect();
            match rest {
                true => items.join(","),
                false => format!("[{}]", items.join(" ")),
            }
        }
        other => other.to_string(),
    }
}

/// `Tue Apr 04 18:39:39 UTC 2023` for seconds since the epoch, as Java prints a UTC date.
fn java_date(seconds: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{} {} {day:02} {:02}:{:02}:{:02} UTC {year}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_as_java_prints_them() {
        assert_eq!(
            super::java_date(1_680_633_579),
            "Tue Apr 04 18:39:39 UTC 2023"
        );
        assert_eq!(super::java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(
            super::java_date(1_835_438_400),
            "Tue Feb 29 12:00:00 UTC 2028"
        );
    }
}
