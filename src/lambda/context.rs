//! The claims an API Gateway authorizer verified, read from `lambda_http`'s request context.

use http::Extensions;
use lambda_http::request::RequestContext;
use serde_json::{Map, Value};

use super::claim_values::{Format, typed};
use crate::error::Error;

/// The claims of a JWT authorizer (HTTP API) or a Cognito user-pool authorizer (REST API) as a
/// JSON object, their values read back from strings; `None` for any other request (no
/// context, no authorizer, an authorizer of another kind).
pub(crate) fn authorizer_claims(extensions: &Extensions) -> Option<Result<String, Error>> {
    match extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(context) => {
            let jwt = context.authorizer.as_ref()?.jwt.as_ref()?;
            let claims = jwt.claims.iter();
            Some(to_json(
                claims.map(|(name, value)| (name, Value::String(value.clone()))),
                Format::HttpApi,
            ))
        }
        // A Lambda authorizer's context holds strings, numbers and booleans only: an object
        // under `claims` is a Cognito authorizer's.
        RequestContext::ApiGatewayV1(context) => match context.authorizer.fields.get("claims")? {
            Value::Object(claims) => Some(to_json(
                claims.iter().map(|(name, value)| (name, value.clone())),
                Format::RestApi,
            )),
            _ => None,
        },
        _ => None,
    }
}

/// The claims as one JSON object, each string read back as its claim's type.
fn to_json<'a>(
    claims: impl Iterator<Item = (&'a String, Value)>,
    format: Format,
) -> Result<String, Error> {
    let mut object = Map::new();
    for (name, value) in claims {
        let value = match value {
            Value::String(text) => typed(name, text, format)?,
            other => other,
        };
        object.insert(name.clone(), value);
    }
    Ok(Value::Object(object).to_string())
}
