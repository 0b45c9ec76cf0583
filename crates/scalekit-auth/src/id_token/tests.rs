//! ID-token validation, one case per checklist line, named after the OpenID conformance suite's
//! RP test modules where one exists. Tokens are minted with local RSA keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};

use super::*;
use crate::test_keys::*;

const ISSUER: &str = "https://acme.scalekit.dev";
const CLIENT: &str = "skc_123";
const NONCE: &str = "n-0S6_WzA2Mj";
const ACCESS_TOKEN: &str = "an-access-token";
const NOW: u64 = 1_800_000_000;

fn good_claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "usr_1",
        "aud": [CLIENT],
        "azp": CLIENT,
        "exp": NOW + 300,
        "iat": NOW,
        "nonce": NONCE,
        "at_hash": half_hash(ACCESS_TOKEN),
        "email": "ada@example.com",
    })
}

fn expected() -> Expected<'static> {
    Expected {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce: Some(NONCE),
        access_token: Some(ACCESS_TOKEN),
        now: NOW,
    }
}

fn check(token: &str) -> Result<IdTokenClaims, IdTokenError> {
    validate_id_token(token, &provider_keys(), &expected())
}

fn with(change: impl FnOnce(&mut Value)) -> String {
    let mut claims = good_claims();
    change(&mut claims);
    sign(&claims)
}

#[test]
fn oidcc_client_test_valid_token_is_accepted() {
    let claims = check(&sign(&good_claims())).unwrap();
    assert_eq!(claims.sub, "usr_1");
    assert_eq!(claims.other["email"], "ada@example.com");
}

#[test]
fn i1_oidcc_client_test_invalid_sig_rs256() {
    let token = sign(&good_claims());
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut signature = URL_SAFE_NO_PAD.decode(&parts[2]).unwrap();
    signature[10] ^= 0x01;
    parts[2] = URL_SAFE_NO_PAD.encode(signature);
    assert_eq!(
        check(&parts.join(".")).unwrap_err(),
        IdTokenError::BadSignature
    );
    // Signed by a stranger's key that claims the provider's kid.
    let forged = sign_with(&keys().1, Some(keys().0.kid), &good_claims());
    assert_eq!(check(&forged).unwrap_err(), IdTokenError::BadSignature);
}

#[test]
fn i2_oidcc_client_test_idtoken_sig_none() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(good_claims().to_string());
    let token = format!("{header}.{payload}.");
    assert_eq!(
        check(&token).unwrap_err(),
        IdTokenError::AlgorithmNotAllowed("none".into())
    );
}

#[test]
fn i2_oidcc_client_test_invalid_sig_hs256_signed_with_the_public_key() {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(keys().0.kid.into());
    let token = jsonwebtoken::encode(
        &header,
        &good_claims(),
        &EncodingKey::from_secret(keys().0.public_pem.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        check(&token).unwrap_err(),
        IdTokenError::AlgorithmNotAllowed("HS256".into())
    );
}

#[test]
fn i3_oidcc_client_test_kid_absent_single_jwks() {
    let token = sign_with(&keys().0, None, &good_claims());
    let single = key_set(vec![jwk(&keys().0, false)]);
    assert!(validate_id_token(&token, &single, &expected()).is_ok());
}

#[test]
fn i3_oidcc_client_test_kid_absent_multiple_jwks() {
    let token = sign_with(&keys().0, None, &good_claims());
    let several = key_set(vec![jwk(&keys().0, true), jwk(&keys().1, true)]);
    assert_eq!(
        validate_id_token(&token, &several, &expected()).unwrap_err(),
        IdTokenError::AmbiguousKey
    );
}

#[test]
fn i4_unknown_kid_is_reported_so_the_caller_refetches_the_jwks() {
    let rotated = sign_with(&keys().1, Some(keys().1.kid), &good_claims());
    assert_eq!(
        check(&rotated).unwrap_err(),
        IdTokenError::UnknownKey("snk_other".into())
    );
    // After the refetch the new key is there and the token validates.
    let refreshed = key_set(vec![jwk(&keys().0, true), jwk(&keys().1, true)]);
    assert!(validate_id_token(&rotated, &refreshed, &expected()).is_ok());
}

#[test]
fn i5_oidcc_client_test_invalid_iss() {
    assert_eq!(
        check(&with(|c| c["iss"] = json!("https://evil.example"))).unwrap_err(),
        IdTokenError::WrongIssuer
    );
    // Exact comparison: a trailing slash is another issuer.
    assert_eq!(
        check(&with(|c| c["iss"] = json!(format!("{ISSUER}/")))).unwrap_err(),
        IdTokenError::WrongIssuer
    );
}

#[test]
fn i6_oidcc_client_test_invalid_aud() {
    assert_eq!(
        check(&with(|c| c["aud"] = json!(["skc_other"]))).unwrap_err(),
        IdTokenError::WrongAudience
    );
}

#[test]
fn i6_oidcc_client_test_missing_aud() {
    let token = with(|c| {
        c.as_object_mut().unwrap().remove("aud");
    });
    assert_eq!(
        check(&token).unwrap_err(),
        IdTokenError::MissingClaim("aud".into())
    );
}

#[test]
fn i6_untrusted_extra_audience_is_refused() {
    let token = with(|c| c["aud"] = json!([CLIENT, "skc_someone_else"]));
    assert_eq!(check(&token).unwrap_err(), IdTokenError::UntrustedAudience);
}

#[test]
fn i6_aud_as_a_single_string_is_accepted() {
    assert!(check(&with(|c| c["aud"] = json!(CLIENT))).is_ok());
}

#[test]
fn i7_azp_must_be_our_client() {
    assert_eq!(
        check(&with(|c| c["azp"] = json!("skc_other"))).unwrap_err(),
        IdTokenError::WrongAuthorizedParty
    );
    let no_azp = with(|c| {
        c.as_object_mut().unwrap().remove("azp");
    });
    assert!(check(&no_azp).is_ok(), "a single audience needs no azp");
}

#[test]
fn i8_expired_token_is_refused_beyond_the_leeway() {
    assert_eq!(
        check(&with(|c| c["exp"] = json!(NOW - LEEWAY_SECS - 1))).unwrap_err(),
        IdTokenError::Expired
    );
    assert!(
        check(&with(|c| c["exp"] = json!(NOW - 10))).is_ok(),
        "ten seconds of skew is tolerated"
    );
}

#[test]
fn i9_oidcc_client_test_missing_iat() {
    let token = with(|c| {
        c.as_object_mut().unwrap().remove("iat");
    });
    assert_eq!(
        check(&token).unwrap_err(),
        IdTokenError::MissingClaim("iat".into())
    );
}

#[test]
fn i9_iat_far_from_now_is_refused() {
    let future = with(|c| c["iat"] = json!(NOW + IAT_WINDOW_SECS + 1));
    assert_eq!(
        check(&future).unwrap_err(),
        IdTokenError::IssuedAtOutOfRange
    );
    let past = with(|c| c["iat"] = json!(NOW - IAT_WINDOW_SECS - 1));
    assert_eq!(check(&past).unwrap_err(), IdTokenError::IssuedAtOutOfRange);
}

#[test]
fn i10_oidcc_client_test_missing_sub() {
    let token = with(|c| {
        c.as_object_mut().unwrap().remove("sub");
    });
    assert_eq!(
        check(&token).unwrap_err(),
        IdTokenError::MissingClaim("sub".into())
    );
    assert_eq!(
        check(&with(|c| c["sub"] = json!(""))).unwrap_err(),
        IdTokenError::MissingClaim("sub".into())
    );
}

#[test]
fn i11_oidcc_client_test_nonce_invalid() {
    assert_eq!(
        check(&with(|c| c["nonce"] = json!("another"))).unwrap_err(),
        IdTokenError::NonceMismatch
    );
    let missing = with(|c| {
        c.as_object_mut().unwrap().remove("nonce");
    });
    assert_eq!(check(&missing).unwrap_err(), IdTokenError::NonceMismatch);
}

#[test]
fn i12_at_hash_must_match_the_access_token() {
    assert_eq!(
        check(&with(|c| c["at_hash"] = json!(half_hash("another token")))).unwrap_err(),
        IdTokenError::AccessTokenHashMismatch
    );
}

#[test]
fn malformed_tokens_are_refused_without_panicking() {
    for token in [
        "",
        "a",
        "a.b",
        "a.b.c",
        "....",
        "eyJhbGciOiJSUzI1NiJ9.%%%.sig",
    ] {
        assert!(check(token).is_err(), "{token:?}");
    }
}

#[test]
fn half_hash_matches_the_oidc_core_example() {
    assert_eq!(
        half_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
        "77QmUPtjPfzWtF2AnpK9RQ"
    );
}

/// Checklist I16: one table over the checks, named after the conformance suite's RP modules
/// where one exists, with locally minted keys and key sets; then every claim the validation
/// requires (`set_required_spec_claims(["exp","iat","iss","aud","sub"])`), each left out in turn.
#[test]
fn i16_one_table_over_the_conformance_cases_and_every_required_claim() {
    use IdTokenError::*;
    let without = |claim: &'static str| {
        with(move |c| {
            c.as_object_mut().unwrap().remove(claim);
        })
    };
    let (provider, stranger) = keys();
    let one_key = provider_keys();
    let one_key_without_kid = key_set(vec![jwk(provider, false)]);
    let two_keys = key_set(vec![jwk(provider, true), jwk(stranger, true)]);
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(good_claims().to_string())
    );
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(provider.kid.into());
    let hs256 = jsonwebtoken::encode(
        &hs_header,
        &good_claims(),
        &EncodingKey::from_secret(provider.public_pem.as_bytes()),
    )
    .unwrap();

    type Case<'a> = (&'a str, String, &'a KeySet, Result<(), IdTokenError>);
    let mut cases: Vec<Case> = vec![
        ("oidcc-client-test", sign(&good_claims()), &one_key, Ok(())),
        (
            "oidcc-client-test-invalid-sig-rs256",
            sign_with(stranger, Some(provider.kid), &good_claims()),
            &one_key,
            Err(BadSignature),
        ),
        (
            "oidcc-client-test-idtoken-sig-none",
            unsigned,
            &one_key,
            Err(AlgorithmNotAllowed("none".into())),
        ),
        (
            "oidcc-client-test-invalid-sig-hs256",
            hs256,
            &one_key,
            Err(AlgorithmNotAllowed("HS256".into())),
        ),
        (
            "oidcc-client-test-kid-absent-single-jwks",
            sign_with(provider, None, &good_claims()),
            &one_key_without_kid,
            Ok(()),
        ),
        (
            "oidcc-client-test-kid-absent-multiple-jwks",
            sign_with(provider, None, &good_claims()),
            &two_keys,
            Err(AmbiguousKey),
        ),
        (
            "oidcc-client-test-signing-key-rotation (before the refetch)",
            sign_with(stranger, Some(stranger.kid), &good_claims()),
            &one_key,
            Err(UnknownKey(stranger.kid.into())),
        ),
        (
            "oidcc-client-test-signing-key-rotation (after the refetch)",
            sign_with(stranger, Some(stranger.kid), &good_claims()),
            &two_keys,
            Ok(()),
        ),
        (
            "oidcc-client-test-invalid-iss",
            with(|c| c["iss"] = json!("https://evil.example")),
            &one_key,
            Err(WrongIssuer),
        ),
        (
            "oidcc-client-test-invalid-aud",
            with(|c| c["aud"] = json!(["skc_other"])),
            &one_key,
            Err(WrongAudience),
        ),
        (
            "oidcc-client-test-missing-aud",
            without("aud"),
            &one_key,
            Err(MissingClaim("aud".into())),
        ),
        (
            "I6 an untrusted extra audience",
            with(|c| c["aud"] = json!([CLIENT, "skc_someone_else"])),
            &one_key,
            Err(UntrustedAudience),
        ),
        (
            "I7 azp of another client",
            with(|c| c["azp"] = json!("skc_other")),
            &one_key,
            Err(WrongAuthorizedParty),
        ),
        (
            "I7 several audiences without azp",
            with(|c| {
                c["aud"] = json!([CLIENT, CLIENT]);
                c.as_object_mut().unwrap().remove("azp");
            }),
            &one_key,
            Err(WrongAuthorizedParty),
        ),
        (
            "I8 expired beyond the leeway",
            with(|c| c["exp"] = json!(NOW - LEEWAY_SECS - 1)),
            &one_key,
            Err(Expired),
        ),
        (
            "I8 expired within the leeway",
            with(|c| c["exp"] = json!(NOW - LEEWAY_SECS + 1)),
            &one_key,
            Ok(()),
        ),
        (
            "oidcc-client-test-missing-iat",
            without("iat"),
            &one_key,
            Err(MissingClaim("iat".into())),
        ),
        (
            "I9 iat too far ahead",
            with(|c| c["iat"] = json!(NOW + IAT_WINDOW_SECS + 1)),
            &one_key,
            Err(IssuedAtOutOfRange),
        ),
        (
            "oidcc-client-test-missing-sub",
            without("sub"),
            &one_key,
            Err(MissingClaim("sub".into())),
        ),
        (
            "oidcc-client-test-nonce-invalid",
            with(|c| c["nonce"] = json!("another")),
            &one_key,
            Err(NonceMismatch),
        ),
        (
            "I11 nonce missing",
            without("nonce"),
            &one_key,
            Err(NonceMismatch),
        ),
        (
            "I12 at_hash of another access token",
            with(|c| c["at_hash"] = json!(half_hash("another token"))),
            &one_key,
            Err(AccessTokenHashMismatch),
        ),
    ];
    for claim in ["exp", "iat", "iss", "aud", "sub"] {
        cases.push((
            claim,
            without(claim),
            &one_key,
            Err(MissingClaim(claim.into())),
        ));
    }
    for (name, token, jwks, want) in cases {
        let got = validate_id_token(&token, jwks, &expected()).map(|_| ());
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn i2_only_the_exact_jose_name_rs256_is_allowed() {
    use super::is_allowed_algorithm;
    assert!(is_allowed_algorithm("RS256"));
    for refused in [
        "rs256", "RS256 ", "RS384", "PS256", "HS256", "none", "ES256", "",
    ] {
        assert!(!is_allowed_algorithm(refused), "{refused:?}");
    }
}
