//! Logout-token validation, OpenID Connect Back-Channel Logout 1.0 §2.4 and §2.6: the token the
//! provider POSTs to our back-channel logout endpoint to end a provider session (`sid`) or every
//! session of a user (`sub`). One pure function, tested below under the OpenID conformance suite's
//! RP back-channel module names (`oidcc-client-test-rp-backchannel-rpinitlogout-*`).
//!
//! The replay check (§2.6 step 7, "jti not seen before") is not here: it needs state shared by
//! every instance, so the caller records [`LogoutClaims::jti`] until
//! [`LogoutClaims::remember_until`] and refuses a jti it already holds.

use serde_json::{Map, Value};

use super::id_token::LEEWAY_SECS;
use super::jwt::{check_not_before, verify_rs256, JwtError};
use super::keys::KeySet;
use crate::log_text::untrusted;

/// The member of `events` that makes a JWT a logout token (§2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The oldest a logout token may be, by its `iat`. The provider sends it the moment the session
/// ends (§2.5), so a fresh token is seconds old; five minutes leaves room for clock skew (up to
/// [`LEEWAY_SECS`]), a slow or retried delivery, and matches the window ID tokens get
/// (`IAT_WINDOW_SECS`). It also bounds the replay check: each jti is remembered at most this
/// long, so the store holds at most five minutes of logouts, and a token captured in transit is
/// worthless after it even if the store lost its records (a restart).
pub const MAX_AGE_SECS: u64 = 5 * 60;

/// The largest token read, in bytes. Real logout tokens are well under 2 KB; the cap keeps a
/// forged giant from being base64-decoded and parsed at all.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The longest `jti` accepted, in bytes: it is stored for the replay check, so its size is ours to
/// bound (provider jtis are UUIDs or similar, far shorter).
pub const MAX_JTI_BYTES: usize = 256;

/// What the token must match.
pub struct LogoutExpected<'a> {
    /// The discovered issuer, compared exactly.
    pub issuer: &'a str,
    /// Our client id: it must be among the audiences, and be `azp` when the token has several
    /// audiences (then `azp` is required, as for ID tokens: §2.6 step 3).
    pub client_id: &'a str,
    /// Seconds since the epoch; the one clock for every time check.
    pub now: u64,
}

/// What a valid logout token names: the provider session and/or the user, and its jti for the
/// replay check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutClaims {
    /// The provider's session id: end the sessions signed in through it.
    pub sid: Option<String>,
    /// The user: without `sid`, end every session of theirs.
    pub sub: Option<String>,
    /// The token's unique id, non-empty and at most `MAX_JTI_BYTES` long: the key of the replay
    /// check.
    pub jti: String,
    /// Issue time (`iat`), in seconds since the epoch: a logout naming only the user ends the
    /// sessions signed in at or before it.
    pub iat: u64,
    /// When the jti may be forgotten (seconds since the epoch): the first second at which this
    /// token fails the time checks anyway, `min(iat + MAX_AGE_SECS, exp + LEEWAY_SECS) + 1`. Not
    /// `exp` itself: the leeway keeps an expired token acceptable a little longer, and its jti
    /// must be remembered for as long.
    pub remember_until: u64,
}

/// Why a logout token was refused, one variant per rule of §2.6 (plus the size and format
/// checks). Any token-supplied text in a variant is in its loggable form ([`untrusted`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoutTokenError {
    /// The token is longer than `MAX_TOKEN_BYTES`; refused before anything is decoded.
    #[error("the logout token is larger than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    /// Not a parseable JWT, or an `nbf` that is not a whole number.
    #[error("the logout token is not a well-formed JWT")]
    Malformed,
    /// The header's `alg` is not RS256.
    #[error("the logout token uses algorithm `{0}`, which is not allowed")]
    AlgorithmNotAllowed(String),
    /// The caller refetches the provider's keys once and retries (the provider may have rotated).
    #[error("the logout token names key `{0}`, which the provider does not publish")]
    UnknownKey(String),
    /// No key could be chosen: the set is empty, or the token has no `kid` and the set holds
    /// several.
    #[error("no provider key fits the logout token")]
    NoKey,
    /// The signature does not verify with the provider's key.
    #[error("the logout token's signature is invalid")]
    BadSignature,
    /// The header's `typ` is neither `logout+jwt` nor the generic `JWT` (with or without the
    /// `application/` prefix, in any case).
    #[error("the logout token's type is `{0}`, not `logout+jwt`")]
    WrongType(String),
    /// `iss` or `aud` is absent.
    #[error("the logout token lacks the `{0}` claim")]
    MissingClaim(String),
    /// `iat`, `exp`, `sid` or `sub` is present but not what it must be: a whole number, or a
    /// non-empty string.
    #[error("the logout token's `{0}` claim has the wrong type or is empty")]
    BadClaim(&'static str),
    /// `iss` is not exactly the expected issuer (an array containing it is refused too).
    #[error("the logout token was issued by someone else")]
    WrongIssuer,
    /// Our client id is not among the audiences.
    #[error("the logout token is not meant for this application")]
    WrongAudience,
    /// The token has several audiences and no `azp`, or one that is not our client id.
    #[error("the logout token's authorized party is another client")]
    WrongAuthorizedParty,
    /// `iat` is absent.
    #[error("the logout token has no issue time")]
    MissingIssuedAt,
    /// `iat` is more than `LEEWAY_SECS` ahead of now.
    #[error("the logout token is issued in the future")]
    IssuedInTheFuture,
    /// `iat` is more than `MAX_AGE_SECS` in the past.
    #[error("the logout token is older than {MAX_AGE_SECS} seconds")]
    TooOld,
    /// `exp` is present and passed more than `LEEWAY_SECS` ago.
    #[error("the logout token has expired")]
    Expired,
    /// `nbf` is present and more than `LEEWAY_SECS` ahead of now.
    #[error("the logout token is not valid yet (nbf)")]
    NotYetValid,
    /// `jti` is absent, empty or not a string.
    #[error("the logout token has no jti")]
    MissingJti,
    /// `jti` is longer than `MAX_JTI_BYTES`.
    #[error("the logout token's jti is longer than {MAX_JTI_BYTES} bytes")]
    JtiTooLong,
    /// `events` is absent.
    #[error("the logout token has no events claim")]
    MissingEvents,
    /// `events` has no `BACKCHANNEL_LOGOUT_EVENT` member, or its value is not an object.
    #[error("the logout token's events claim does not declare a back-channel logout")]
    WrongEvent,
    /// The token carries a `nonce`, which §2.4 prohibits so that a logout token can never pass as
    /// an ID token.
    #[error("the logout token carries a nonce, which logout tokens must not")]
    NoncePresent,
    /// Neither `sid` nor `sub` is present.
    #[error("the logout token names neither a session (sid) nor a user (sub)")]
    NoSessionOrSubject,
}

impl LogoutTokenError {
    /// A short, stable name for this refusal (`expired`, `bad_signature`…), for metrics and
    /// logs: never anything from the token.
    pub fn reason(&self) -> &'static str {
        match self {
            LogoutTokenError::TooLarge => "too_large",
            LogoutTokenError::Malformed => "malformed",
            LogoutTokenError::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            LogoutTokenError::UnknownKey(_) => "unknown_key",
            LogoutTokenError::NoKey => "no_key",
            LogoutTokenError::BadSignature => "bad_signature",
            LogoutTokenError::WrongType(_) => "wrong_type",
            LogoutTokenError::MissingClaim(_) => "missing_claim",
            LogoutTokenError::BadClaim(_) => "bad_claim",
            LogoutTokenError::WrongIssuer => "wrong_issuer",
            LogoutTokenError::WrongAudience => "wrong_audience",
            LogoutTokenError::WrongAuthorizedParty => "wrong_authorized_party",
            LogoutTokenError::MissingIssuedAt => "missing_issued_at",
            LogoutTokenError::IssuedInTheFuture => "issued_in_the_future",
            LogoutTokenError::TooOld => "too_old",
            LogoutTokenError::Expired => "expired",
            LogoutTokenError::NotYetValid => "not_yet_valid",
            LogoutTokenError::MissingJti => "missing_jti",
            LogoutTokenError::JtiTooLong => "jti_too_long",
            LogoutTokenError::MissingEvents => "missing_events",
            LogoutTokenError::WrongEvent => "wrong_event",
            LogoutTokenError::NoncePresent => "nonce_present",
            LogoutTokenError::NoSessionOrSubject => "no_session_or_subject",
        }
    }
}

impl From<JwtError> for LogoutTokenError {
    fn from(e: JwtError) -> LogoutTokenError {
        match e {
            JwtError::Malformed => LogoutTokenError::Malformed,
            JwtError::AlgorithmNotAllowed(alg) => LogoutTokenError::AlgorithmNotAllowed(alg),
            JwtError::UnknownKey(kid) => LogoutTokenError::UnknownKey(kid),
            JwtError::NoKey => LogoutTokenError::NoKey,
            JwtError::BadSignature => LogoutTokenError::BadSignature,
            JwtError::WrongIssuer => LogoutTokenError::WrongIssuer,
            JwtError::WrongAudience => LogoutTokenError::WrongAudience,
            JwtError::MissingClaim(claim) => LogoutTokenError::MissingClaim(claim),
            JwtError::Expired => LogoutTokenError::Expired,
            JwtError::NotYetValid => LogoutTokenError::NotYetValid,
        }
    }
}

/// Validates a logout token (§2.6), in this order: size; algorithm (RS256 only), key by `kid`,
/// signature, issuer and audience (one step, [`verify_rs256`]: the signature is checked before
/// any claim); `typ`; the exact issuer; `azp`; `iat`; `exp`; `nbf`; `jti`; `events`; no `nonce`;
/// `sid` or `sub`. The jti replay check is the caller's (see the module docs); on
/// [`LogoutTokenError::UnknownKey`] the caller refetches the keys once
/// (`JwksCache::check_with_keys`).
pub fn validate_logout_token(
    token: &str,
    keys: &KeySet,
    expected: &LogoutExpected,
) -> Result<LogoutClaims, LogoutTokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(LogoutTokenError::TooLarge);
    }
    // §2.6 step 2 (as for ID tokens): allowed algorithm, the provider's key, the signature; and
    // step 3's iss and aud (ours among the audiences). A logout token may lack `sub` and `exp`.
    let claims = verify_rs256(token, keys, &[expected.issuer], expected.client_id, &[])?;

    // §2.4: `typ: logout+jwt` is RECOMMENDED, not required, and many providers omit it, so its
    // absence is accepted: what keeps an ID token from passing as a logout token is the required
    // `events` claim and the prohibited `nonce`, both checked below whatever the header says.
    // Present, it must say logout token, or be the generic `JWT` many libraries write by default
    // (Scalekit does not document which it sends, and refusing it would silently break every
    // back-channel logout); a token typed as another kind (an access token's `at+jwt`) is refused.
    let header = jsonwebtoken::decode_header(token).map_err(|_| LogoutTokenError::Malformed)?;
    if let Some(typ) = header.typ.as_deref() {
        if !is_logout_type(typ) {
            return Err(LogoutTokenError::WrongType(untrusted(typ).into_owned()));
        }
    }

    // The library also accepts an `iss` array containing ours; the issuer is one exact string.
    if claims.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(LogoutTokenError::WrongIssuer);
    }
    // Ours is among the audiences (checked above); with several, an `azp` must be present and be
    // us (§2.6 step 3 validates `aud` as for ID tokens, where OIDC Core §3.1.3.7 asks for it).
    if let Some(Value::Array(audiences)) = claims.get("aud") {
        let azp = claims.get("azp").and_then(Value::as_str);
        if audiences.len() > 1 && azp != Some(expected.client_id) {
            return Err(LogoutTokenError::WrongAuthorizedParty);
        }
    }

    // iat: present, not in the future beyond the leeway, and fresh (delivered at once).
    let iat = numeric_date(&claims, "iat")?.ok_or(LogoutTokenError::MissingIssuedAt)?;
    if iat > expected.now.saturating_add(LEEWAY_SECS) {
        return Err(LogoutTokenError::IssuedInTheFuture);
    }
    let mut last_valid = iat.saturating_add(MAX_AGE_SECS);
    if last_valid < expected.now {
        return Err(LogoutTokenError::TooOld);
    }
    // exp is optional in a logout token; present, it binds (with the leeway).
    if let Some(exp) = numeric_date(&claims, "exp")? {
        let exp_with_leeway = exp.saturating_add(LEEWAY_SECS);
        if exp_with_leeway < expected.now {
            return Err(LogoutTokenError::Expired);
        }
        last_valid = last_valid.min(exp_with_leeway);
    }
    check_not_before(&claims, expected.now)?;

    let jti = match claims.get("jti") {
        Some(Value::String(jti)) if !jti.is_empty() => jti,
        _ => return Err(LogoutTokenError::MissingJti),
    };
    if jti.len() > MAX_JTI_BYTES {
        return Err(LogoutTokenError::JtiTooLong);
    }

    // §2.4: events is an object with the back-channel logout member, whose value is an object.
    let events = claims
        .get("events")
        .ok_or(LogoutTokenError::MissingEvents)?;
    if !events
        .get(BACKCHANNEL_LOGOUT_EVENT)
        .is_some_and(Value::is_object)
    {
        return Err(LogoutTokenError::WrongEvent);
    }

    // §2.4: a nonce is prohibited, so that a logout token can never pass as an ID token.
    if claims.contains_key("nonce") {
        return Err(LogoutTokenError::NoncePresent);
    }

    let sid = optional_text(&claims, "sid")?;
    let sub = optional_text(&claims, "sub")?;
    if sid.is_none() && sub.is_none() {
        return Err(LogoutTokenError::NoSessionOrSubject);
    }

    Ok(LogoutClaims {
        sid,
        sub,
        jti: jti.clone(),
        iat,
        remember_until: last_valid.saturating_add(1),
    })
}

/// `logout+jwt`, with or without the `application/` prefix (RFC 7515 §4.1.9), in any case (media
/// types are case-insensitive).
fn is_logout_type(typ: &str) -> bool {
    const PREFIX: &str = "application/";
    let typ = match typ.get(..PREFIX.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(PREFIX) => &typ[PREFIX.len()..],
        _ => typ,
    };
    typ.eq_ignore_ascii_case("logout+jwt") || typ.eq_ignore_ascii_case("jwt")
}

/// A time claim: absent, or a whole number of seconds since the epoch.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<u64>, LogoutTokenError> {
    claims
        .get(name)
        .map(|value| value.as_u64().ok_or(LogoutTokenError::BadClaim(name)))
        .transpose()
}

/// `sid` or `sub`: absent, or a non-empty string (an empty or non-string one is refused rather
/// than read as absent, so a malformed `sid` cannot turn a session logout into a user logout).
fn optional_text(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, LogoutTokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(text)) if !text.is_empty() => Ok(Some(text.clone())),
        Some(_) => Err(LogoutTokenError::BadClaim(name)),
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::json;

    use super::*;
    use crate::test_keys::{jwk, key_set, keys, provider_keys, sign_typed, TestKey};

    const ISSUER: &str = "https://acme.scalekit.dev";
    const CLIENT: &str = "skc_123";
    const NOW: u64 = 1_800_000_000;

    fn good_claims() -> Value {
        json!({
            "iss": ISSUER,
            "aud": CLIENT,
            "iat": NOW,
            "jti": "bcl_1",
            "sid": "ses_1",
            "sub": "usr_1",
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
        })
    }

    fn expected_at(now: u64) -> LogoutExpected<'static> {
        LogoutExpected {
            issuer: ISSUER,
            client_id: CLIENT,
            now,
        }
    }

    fn check_at(token: &str, now: u64) -> Result<LogoutClaims, LogoutTokenError> {
        validate_logout_token(token, &provider_keys(), &expected_at(now))
    }

    fn check(token: &str) -> Result<LogoutClaims, LogoutTokenError> {
        check_at(token, NOW)
    }

    /// Signed by `key` under the provider's kid, with the given `typ` header.
    fn sign_typed_with(key: &TestKey, typ: Option<&str>, claims: &Value) -> String {
        sign_typed(key, Some(keys().0.kid), typ, claims)
    }

    /// What the provider sends: its key, `typ: logout+jwt`.
    fn sign_logout(claims: &Value) -> String {
        sign_typed_with(&keys().0, Some("logout+jwt"), claims)
    }

    fn with(change: impl FnOnce(&mut Value)) -> String {
        let mut claims = good_claims();
        change(&mut claims);
        sign_logout(&claims)
    }

    fn without(claim: &str) -> String {
        with(|c| {
            c.as_object_mut().unwrap().remove(claim);
        })
    }

    /// A JWT with a hand-written header and no valid signature.
    fn hand_made(header: &str, claims: &Value, signature: &str) -> String {
        format!(
            "{}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    // oidcc-client-test-rp-backchannel-rpinitlogout: the valid token.
    #[test]
    fn backchannel_a_valid_token_names_sid_and_sub() {
        let claims = check(&sign_logout(&good_claims())).unwrap();
        assert_eq!(
            claims,
            LogoutClaims {
                sid: Some("ses_1".into()),
                sub: Some("usr_1".into()),
                jti: "bcl_1".into(),
                iat: NOW,
                remember_until: NOW + MAX_AGE_SECS + 1,
            }
        );
        // An array audience, and other events alongside ours, are fine too.
        let token = with(|c| {
            c["aud"] = json!([CLIENT]);
            c["events"]["https://example.com/other-event"] = json!({ "x": 1 });
        });
        assert!(check(&token).is_ok());
    }

    // oidcc-client-test-rp-backchannel-rpinitlogout-alg-none.
    #[test]
    fn backchannel_alg_none_is_refused() {
        for header in [
            r#"{"alg":"none","typ":"logout+jwt"}"#,
            r#"{"alg":"none","kid":"snk_provider"}"#,
        ] {
            let token = hand_made(header, &good_claims(), "");
            assert_eq!(
                check(&token).unwrap_err(),
                LogoutTokenError::AlgorithmNotAllowed("none".into())
            );
        }
    }

    // oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg: HS256 "signed" with the provider's
    // public key (the classic confusion attack), and another algorithm by hand.
    #[test]
    fn backchannel_hs256_is_refused() {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(keys().0.kid.into());
        header.typ = Some("logout+jwt".into());
        let token = jsonwebtoken::encode(
            &header,
            &good_claims(),
            &EncodingKey::from_secret(keys().0.public_pem.as_bytes()),
        )
        .unwrap();
        assert_eq!(
            check(&token).unwrap_err(),
            LogoutTokenError::AlgorithmNotAllowed("HS256".into())
        );
        let token = hand_made(
            r#"{"alg":"ES256","kid":"snk_provider"}"#,
            &good_claims(),
            "c2ln",
        );
        assert_eq!(
            check(&token).unwrap_err(),
            LogoutTokenError::AlgorithmNotAllowed("ES256".into())
        );
        // Token-supplied text reaches the error only in its loggable form.
        let token = hand_made(r#"{"alg":"RS256\nFAKE"}"#, &good_claims(), "c2ln");
        assert_eq!(
            check(&token).unwrap_err(),
            LogoutTokenError::AlgorithmNotAllowed("RS256\\nFAKE".into())
        );
    }

    #[test]
    fn backchannel_a_bad_signature_is_refused() {
        let token = sign_logout(&good_claims());
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut signature = URL_SAFE_NO_PAD.decode(&parts[2]).unwrap();
        signature[10] ^= 0x01;
        parts[2] = URL_SAFE_NO_PAD.encode(signature);
        assert_eq!(
            check(&parts.join(".")).unwrap_err(),
            LogoutTokenError::BadSignature
        );
        // Signed by a stranger's key that claims the provider's kid.
        let forged = sign_typed_with(&keys().1, Some("logout+jwt"), &good_claims());
        assert_eq!(check(&forged).unwrap_err(), LogoutTokenError::BadSignature);
        // The claims swapped after signing.
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut claims = good_claims();
        claims["sub"] = json!("usr_admin");
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert_eq!(
            check(&parts.join(".")).unwrap_err(),
            LogoutTokenError::BadSignature
        );
        assert_eq!(check("not.a.jwt").unwrap_err(), LogoutTokenError::Malformed);
        assert_eq!(check("").unwrap_err(), LogoutTokenError::Malformed);
    }

    // oidcc-client-test-rp-backchannel-rpinitlogout-wrong-iss.
    #[test]
    fn backchannel_wrong_iss_is_refused() {
        for iss in [
            json!("https://evil.example.com"),
            json!("https://acme.scalekit.dev/"),
            json!([ISSUER]),
            json!([ISSUER, "https://evil.example.com"]),
        ] {
            let token = with(|c| c["iss"] = iss.clone());
            assert_eq!(
                check(&token).unwrap_err(),
                LogoutTokenError::WrongIssuer,
                "{iss}"
            );
        }
        assert_eq!(
            check(&without("iss")).unwrap_err(),
            LogoutTokenError::MissingClaim("iss".into())
        );
    }

    // oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud.
    #[test]
    fn backchannel_wrong_aud_is_refused() {
        for aud in [json!("skc_other"), json!(["skc_other"]), json!([])] {
            let token = with(|c| c["aud"] = aud.clone());
            assert_eq!(
                check(&token).unwrap_err(),
                LogoutTokenError::WrongAudience,
                "{aud}"
            );
        }
        assert_eq!(
            check(&without("aud")).unwrap_err(),
            LogoutTokenError::MissingClaim("aud".into())
        );
        // Several audiences: an azp must be present, and be us.
        let token = with(|c| {
            c["aud"] = json!([CLIENT, "skc_other"]);
            c["azp"] = json!("skc_other");
        });
        assert_eq!(
            check(&token).unwrap_err(),
            LogoutTokenError::WrongAuthorizedParty
        );
        let token = with(|c| {
            c["aud"] = json!([CLIENT, "skc_other"]);
            c["azp"] = json!(CLIENT);
        });
        assert!(check(&token).is_ok());
        let token = with(|c| c["aud"] = json!([CLIENT, "skc_other"]));
        assert_eq!(
            check(&token).unwrap_err(),
            LogoutTokenError::WrongAuthorizedParty,
            "several audiences need an azp"
        );
        let token = with(|c| c["aud"] = json!([CLIENT]));
        assert!(check(&token).is_ok(), "with one audience azp is optional");
    }

    // oidcc-client-test-rp-backchannel-rpinitlogout-no-event.
    #[test]
    fn backchannel_missing_event_is_refused() {
        assert_eq!(
            check(&without("events")).unwrap_err(),
            LogoutTokenError::MissingEvents
        );
    }

    // oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event.
    #[test]
    fn backchannel_wrong_event_is_refused() {
        for events in [
            // The event's value is not an object.
            json!({ BACKCHANNEL_LOGOUT_EVENT: "logout" }),
            json!({ BACKCHANNEL_LOGOUT_EVENT: [] }),
            json!({ BACKCHANNEL_LOGOUT_EVENT: null }),
            json!({ BACKCHANNEL_LOGOUT_EVENT: true }),
            // Another event only.
            json!({ "http://schemas.openid.net/event/backchannel-login": {} }),
            json!({ "https://schemas.openid.net/event/backchannel-logout": {} }),
            json!({}),
            // events itself not an object.
            json!([BACKCHANNEL_LOGOUT_EVENT]),
            json!(BACKCHANNEL_LOGOUT_EVENT),
            json!(null),
        ] {
            let token = with(|c| c["events"] = events.clone());
            assert_eq!(
                check(&token).unwrap_err(),
                LogoutTokenError::WrongEvent,
                "{events}"
            );
        }
    }

    // oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce.
    #[test]
    fn backchannel_a_nonce_is_refused() {
        for nonce in [json!("n-0S6_WzA2Mj"), json!(""), json!(null)] {
            let token = with(|c| c["nonce"] = nonce.clone());
            assert_eq!(
                check(&token).unwrap_err(),
                LogoutTokenError::NoncePresent,
                "{nonce}"
            );
        }
    }

    #[test]
    fn backchannel_neither_sid_nor_sub_is_refused() {
        let token = with(|c| {
            let c = c.as_object_mut().unwrap();
            c.remove("sid");
            c.remove("sub");
        });
        assert_eq!(
            check(&token).unwrap_err(),
            LogoutTokenError::NoSessionOrSubject
        );
        // An empty or non-string one is refused, not read as absent.
        for (claim, value) in [("sid", json!("")), ("sub", json!("")), ("sid", json!(7))] {
            let token = with(|c| c[claim] = value.clone());
            assert_eq!(
                check(&token).unwrap_err(),
                LogoutTokenError::BadClaim(claim),
                "{claim}: {value}"
            );
        }
    }

    #[test]
    fn backchannel_only_sid_or_only_sub_is_accepted() {
        let claims = check(&without("sub")).unwrap();
        assert_eq!(
            (claims.sid.as_deref(), claims.sub.as_deref()),
            (Some("ses_1"), None)
        );
        let claims = check(&without("sid")).unwrap();
        assert_eq!(
            (claims.sid.as_deref(), claims.sub.as_deref()),
            (None, Some("usr_1"))
        );
    }

    #[test]
    fn backchannel_missing_jti_is_refused() {
        assert_eq!(
            check(&without("jti")).unwrap_err(),
            LogoutTokenError::MissingJti
        );
        for jti in [json!(""), json!(42), json!(null), json!(["bcl_1"])] {
            let token = with(|c| c["jti"] = jti.clone());
            assert_eq!(
                check(&token).unwrap_err(),
                LogoutTokenError::MissingJti,
                "{jti}"
            );
        }
        let token = with(|c| c["jti"] = json!("j".repeat(MAX_JTI_BYTES + 1)));
        assert_eq!(check(&token).unwrap_err(), LogoutTokenError::JtiTooLong);
        let token = with(|c| c["jti"] = json!("j".repeat(MAX_JTI_BYTES)));
        assert_eq!(check(&token).unwrap().jti.len(), MAX_JTI_BYTES);
    }

    #[test]
    fn backchannel_an_old_or_future_iat_is_refused() {
        assert_eq!(
            check(&without("iat")).unwrap_err(),
            LogoutTokenError::MissingIssuedAt
        );
        for iat in [json!("1800000000"), json!(-1), json!(1.8e9)] {
            let token = with(|c| c["iat"] = iat.clone());
            assert_eq!(
                check(&token).unwrap_err(),
                LogoutTokenError::BadClaim("iat"),
                "{iat}"
            );
        }
        let token = with(|c| c["iat"] = json!(NOW + LEEWAY_SECS + 1));
        assert_eq!(
            check(&token).unwrap_err(),
            LogoutTokenError::IssuedInTheFuture
        );
        let token = with(|c| c["iat"] = json!(NOW + LEEWAY_SECS));
        assert!(check(&token).is_ok(), "clock skew within the leeway");

        let token = sign_logout(&good_claims());
        assert!(check_at(&token, NOW + MAX_AGE_SECS).is_ok());
        assert_eq!(
            check_at(&token, NOW + MAX_AGE_SECS + 1).unwrap_err(),
            LogoutTokenError::TooOld
        );
    }

    #[test]
    fn backchannel_expired_is_refused() {
        let token = with(|c| c["exp"] = json!(NOW - LEEWAY_SECS - 1));
        assert_eq!(check(&token).unwrap_err(), LogoutTokenError::Expired);
        let token = with(|c| c["exp"] = json!(NOW - LEEWAY_SECS));
        assert!(check(&token).is_ok(), "within the leeway");
        let token = with(|c| c["exp"] = json!("soon"));
        assert_eq!(
            check(&token).unwrap_err(),
            LogoutTokenError::BadClaim("exp")
        );
    }

    #[test]
    fn backchannel_a_future_nbf_is_refused() {
        let token = with(|c| c["nbf"] = json!(NOW + LEEWAY_SECS + 1));
        assert_eq!(check(&token).unwrap_err(), LogoutTokenError::NotYetValid);
        let token = with(|c| c["nbf"] = json!(NOW));
        assert!(check(&token).is_ok());
    }

    #[test]
    fn backchannel_the_jti_is_remembered_for_as_long_as_the_token_is_accepted() {
        for exp in [None, Some(NOW + 30), Some(NOW + 3600), Some(NOW - 10)] {
            let token = with(|c| {
                if let Some(exp) = exp {
                    c["exp"] = json!(exp);
                }
            });
            let until = check(&token).unwrap().remember_until;
            assert!(check_at(&token, until - 1).is_ok(), "{exp:?}");
            assert!(check_at(&token, until).is_err(), "{exp:?}");
        }
    }

    #[test]
    fn backchannel_wrong_typ_is_refused() {
        for typ in [
            "at+jwt",
            "application/at+jwt",
            "logout",
            "logout+jwt2",
            "JWS",
        ] {
            let token = sign_typed_with(&keys().0, Some(typ), &good_claims());
            assert_eq!(
                check(&token).unwrap_err(),
                LogoutTokenError::WrongType(typ.into()),
                "{typ}"
            );
        }
        let token = sign_typed_with(&keys().0, Some("x\nFAKE"), &good_claims());
        assert_eq!(
            check(&token).unwrap_err(),
            LogoutTokenError::WrongType("x\\nFAKE".into())
        );
        // Absent (many providers omit it), the generic `JWT`, and the spellings RFC 7515 allows.
        for typ in [
            None,
            Some("JWT"),
            Some("application/jwt"),
            Some("logout+jwt"),
            Some("Logout+JWT"),
            Some("application/logout+jwt"),
            Some("Application/LOGOUT+jwt"),
        ] {
            let token = sign_typed_with(&keys().0, typ, &good_claims());
            assert!(check(&token).is_ok(), "{typ:?}");
        }
    }

    #[test]
    fn backchannel_unknown_kid_asks_for_a_refetch() {
        // The provider rotated to a key we have not fetched yet.
        let token = sign_typed(
            &keys().1,
            Some(keys().1.kid),
            Some("logout+jwt"),
            &good_claims(),
        );
        assert_eq!(
            check(&token).unwrap_err(),
            LogoutTokenError::UnknownKey(keys().1.kid.into())
        );
        // After the refetch, the new key verifies it.
        let rotated = key_set(vec![jwk(&keys().0, true), jwk(&keys().1, true)]);
        assert!(validate_logout_token(&token, &rotated, &expected_at(NOW)).is_ok());
        // A forged kid is reported in its loggable form.
        let token = sign_typed(&keys().1, Some("k\nFAKE"), None, &good_claims());
        assert_eq!(
            check(&token).unwrap_err(),
            LogoutTokenError::UnknownKey("k\\nFAKE".into())
        );
        // No kid and several keys: no key fits (and no refetch would help).
        let token = hand_made(r#"{"alg":"RS256"}"#, &good_claims(), "c2ln");
        assert_eq!(
            validate_logout_token(&token, &rotated, &expected_at(NOW)).unwrap_err(),
            LogoutTokenError::NoKey
        );
    }

    #[test]
    fn backchannel_an_oversized_token_is_refused() {
        let token = with(|c| c["padding"] = json!("p".repeat(MAX_TOKEN_BYTES)));
        assert!(token.len() > MAX_TOKEN_BYTES);
        assert_eq!(check(&token).unwrap_err(), LogoutTokenError::TooLarge);
        // Refused before any decoding: garbage of that size gets the same answer.
        assert_eq!(
            check(&"a".repeat(MAX_TOKEN_BYTES + 1)).unwrap_err(),
            LogoutTokenError::TooLarge
        );
        let token = with(|c| c["padding"] = json!("p".repeat(MAX_TOKEN_BYTES / 2)));
        assert!(check(&token).is_ok(), "a large but allowed token");
    }

    // An ID token (nonce, no events) presented as a logout token.
    #[test]
    fn backchannel_an_id_token_is_not_a_logout_token() {
        let id_token = json!({
            "iss": ISSUER, "aud": [CLIENT], "azp": CLIENT, "sub": "usr_1", "sid": "ses_1",
            "iat": NOW, "exp": NOW + 300, "jti": "id_1", "nonce": "n-0S6_WzA2Mj",
        });
        let token = sign_typed_with(&keys().0, None, &id_token);
        assert_eq!(check(&token).unwrap_err(), LogoutTokenError::MissingEvents);
        let mut with_events = id_token.clone();
        with_events["events"] = json!({ BACKCHANNEL_LOGOUT_EVENT: {} });
        let token = sign_typed_with(&keys().0, None, &with_events);
        assert_eq!(check(&token).unwrap_err(), LogoutTokenError::NoncePresent);
    }
}
