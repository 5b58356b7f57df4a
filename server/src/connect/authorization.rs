//! Where a token may come from, parsed strictly: one `Authorization` header
//! with the scheme `JWT` or `Bearer` (case-insensitive, RFC 7235), one space,
//! then the token; or, for iframe page loads only, one `jwt` query
//! parameter. A token in two places, or two headers, is refused (I-19, C-09).

use url::form_urlencoded;

use super::token::{RawToken, TokenError};

/// The token of an `Authorization` header, if there is one.
pub(crate) fn from_authorization<'a>(values: &[&'a str]) -> Result<Option<RawToken<'a>>, TokenError> {
    match values {
        [] => Ok(None),
        [value] => parse_scheme(value).map(Some),
        _ => Err(TokenError::Ambiguous),
    }
}

fn parse_scheme(value: &str) -> Result<RawToken<'_>, TokenError> {
    let (scheme, token) = value.split_once(' ').ok_or(TokenError::Malformed)?;
    if !(scheme.eq_ignore_ascii_case("JWT") || scheme.eq_ignore_ascii_case("Bearer")) {
        return Err(TokenError::Malformed);
    }
    RawToken::parse(token)
}

/// How many `jwt` parameters a query string carries, and the first one.
pub(crate) fn jwt_query_param(query: Option<&str>) -> Result<Option<String>, TokenError> {
    let Some(query) = query else { return Ok(None) };
    let mut values = form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k == "jwt").map(|(_, v)| v.into_owned());
    let first = values.next();
    if values.next().is_some() {
        return Err(TokenError::Ambiguous);
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJhIn0.c2ln";

    #[test]
    fn jwt_and_bearer_schemes_are_accepted_in_any_case() {
        for value in [format!("JWT {T}"), format!("jwt {T}"), format!("Bearer {T}"), format!("bearer {T}")] {
            let parsed = from_authorization(&[value.as_str()]).unwrap().unwrap();
            assert_eq!(parsed.as_str(), T);
        }
        assert!(from_authorization(&[]).unwrap().is_none());
    }

    #[test]
    fn odd_spacing_other_schemes_and_two_headers_are_refused() {
        for value in [format!("JWT  {T}"), format!("JWT {T} "), format!("Basic {T}"), T.to_string(), "JWT".into()] {
            assert!(from_authorization(&[value.as_str()]).is_err(), "{value:?}");
        }
        let one = format!("JWT {T}");
        assert_eq!(from_authorization(&[one.as_str(), one.as_str()]).err(), Some(TokenError::Ambiguous));
    }

    #[test]
    fn a_repeated_jwt_query_parameter_is_ambiguous() {
        assert_eq!(jwt_query_param(Some("a=1&jwt=x")).unwrap().as_deref(), Some("x"));
        assert_eq!(jwt_query_param(Some("jwt=x&jwt=y")).err(), Some(TokenError::Ambiguous));
        assert_eq!(jwt_query_param(None).unwrap(), None);
    }
}
