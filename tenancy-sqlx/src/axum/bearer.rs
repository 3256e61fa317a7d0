//! Reading the API key from `Authorization: Bearer <key>`.

use ::axum::http::{HeaderMap, header};

use super::TenantRejection;

/// Longer tokens are refused before they are hashed or logged.
const MAX_TOKEN_LEN: usize = 1024;

/// The bearer token of the request, checked for form only: exactly one
/// `Authorization` header, the `Bearer` scheme (any case), and a token of
/// RFC 6750 `b64token` characters.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, TenantRejection> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next().ok_or(TenantRejection::MissingCredential)?;
    if values.next().is_some() {
        return Err(malformed("more than one Authorization header"));
    }
    let value = value
        .to_str()
        .map_err(|_| malformed("the header holds characters other than visible ASCII"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(TenantRejection::WrongScheme {
            scheme: scheme.chars().take(32).collect(),
        });
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(malformed("the Bearer token is empty"));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(malformed("the Bearer token is longer than 1024 characters"));
    }
    if !is_b64token(token) {
        return Err(malformed(
            "the Bearer token holds characters other than letters, digits and -._~+/=",
        ));
    }
    Ok(token)
}

fn malformed(reason: &'static str) -> TenantRejection {
    TenantRejection::MalformedCredential { reason }
}

/// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use ::axum::http::HeaderValue;

    use super::*;

    fn token_of(values: &[&'static str]) -> Result<String, String> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::AUTHORIZATION, HeaderValue::from_static(value));
        }
        bearer_token(&headers)
            .map(str::to_owned)
            .map_err(|rejection| rejection.to_string())
    }

    #[test]
    fn accepts_bearer_tokens_in_any_case() {
        assert_eq!(
            token_of(&["Bearer tk_live.abc-123"]),
            Ok("tk_live.abc-123".into())
        );
        assert_eq!(token_of(&["bearer  a+b/c=="]), Ok("a+b/c==".into()));
    }

    #[test]
    fn says_what_is_wrong() {
        let err = |values: &[&'static str]| token_of(values).unwrap_err();
        assert!(err(&[]).starts_with("missing credential"));
        assert!(err(&["Basic dXNlcjpwYXNz"]).contains("scheme `Basic`"));
        assert!(err(&["Bearer"]).contains("token is empty"));
        assert!(err(&["Bearer  "]).contains("token is empty"));
        assert!(err(&["Bearer a b"]).contains("characters other than"));
        assert!(err(&["Bearer ==="]).contains("characters other than"));
        assert!(err(&["Bearer a", "Bearer b"]).contains("more than one"));
    }
}
