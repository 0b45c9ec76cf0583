//! Micro-benchmarks of what every authenticated request pays: opening the session cookie, checking
//! a bearer token with a warm key set (RSA) or from the verified-token cache, and turning claims
//! into the user summary and scopes. Run by `scripts/bench.sh` (or `cargo bench --features ssr`).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::jwk::JwkSet;
use scalekit_auth::bearer::VerifiedTokens;
use scalekit_auth::bearer::{scopes_of, validate_api_token, ApiExpected};
use scalekit_auth::protocol::summarize;
use scalekit_auth::protocol::KeySet;
use scalekit_auth::protocol::{open, seal};
use scalekit_auth::Session;
use scalekit_dev_idp::KeyRing;
use serde_json::{json, Map, Value};
use tower_cookies::Key;

const ISSUER: &str = "https://acme.scalekit.dev";
const AUDIENCE: &str = "https://app.example.com";
const NOW: u64 = 1_800_000_000;
const COOKIE: &str = "__Host-skit_session";

struct Fixture {
    keys: KeySet,
    api_token: String,
    sealed_session: String,
    cookie_key: Key,
    access_claims: Map<String, Value>,
    id_claims: Map<String, Value>,
}

fn fixture() -> Fixture {
    let dir = std::env::temp_dir().join(format!("leptos-scalekit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ring = KeyRing::load_or_create(&dir.join("keys.json")).expect("signing key");
    let jwks: JwkSet = serde_json::from_value(ring.jwks()).expect("JWKS");
    let keys = KeySet::from_jwks(&jwks);
    let access = json!({
        "iss": ISSUER, "aud": [AUDIENCE], "sub": "usr_100000000000000001",
        "oid": "org_100000000000000001", "sid": "ses_100000000000000001",
        "jti": "tkn_100000000000000001", "iat": NOW, "nbf": NOW, "exp": NOW + 300,
        "client_id": "skc_1", "roles": ["admin"],
        "permissions": ["organization:settings", "api_clients:manage", "organization:read"],
        "scope": "openid profile email offline_access",
    });
    let id = json!({
        "iss": ISSUER, "aud": ["skc_1"], "sub": "usr_100000000000000001",
        "email": "ada.admin@example.com", "name": "Ada Admin", "given_name": "Ada",
        "family_name": "Admin", "iat": NOW, "exp": NOW + 1800, "amr": ["conn_1"],
    });
    let api = json!({
        "iss": ISSUER, "aud": [AUDIENCE], "sub": "m2morg_1", "client_id": "m2morg_1",
        "oid": "org_100000000000000001", "jti": "tkn_2", "iat": NOW, "nbf": NOW,
        "exp": NOW + 3600, "scopes": ["read:deployments"], "scope": "read:deployments",
    });
    let access_token = ring.sign(&access).expect("sign");
    let id_token = ring.sign(&id).expect("sign");
    let session = json!({
        "id": "k7Hq2m9xP4vL1nR8sT3wYa", "issuer": ISSUER,
        "user": {"sub": "usr_100000000000000001", "name": "Ada Admin",
                 "email": "ada.admin@example.com", "organization_id": "org_100000000000000001",
                 "roles": ["admin"], "permissions": ["organization:settings"]},
        "access_token": access_token, "access_token_expires_at": NOW + 300,
        "refresh_token": "rt_Jx8bVf2kq9LmN3pR7sT1wYz5aC4dE6gH8iK0lMnOpQ",
        "id_token": id_token, "signed_in_at": NOW, "last_seen": NOW,
    });
    let session_json = session.to_string();
    let cookie_key = Key::generate();
    let sealed_session = seal(&cookie_key, COOKIE, &session_json);
    Fixture {
        keys,
        api_token: ring.sign(&api).expect("sign"),
        sealed_session,
        cookie_key,
        access_claims: access.as_object().cloned().unwrap_or_default(),
        id_claims: id.as_object().cloned().unwrap_or_default(),
    }
}

fn auth_path(c: &mut Criterion) {
    let f = fixture();
    let issuers = [ISSUER.to_string()];
    let expected = ApiExpected {
        issuers: &issuers,
        audience: AUDIENCE,
        now: NOW,
    };
    assert!(validate_api_token(&f.api_token, &f.keys, &expected).is_ok());
    let opened = open(&f.cookie_key, COOKIE, &f.sealed_session).expect("opens");
    let _: Session = serde_json::from_str(&opened).expect("a session");

    c.bench_function("session_cookie/open_and_parse", |b| {
        b.iter(|| {
            let json = open(&f.cookie_key, COOKIE, black_box(&f.sealed_session));
            let session: Option<Session> = json.and_then(|j| serde_json::from_str(&j).ok());
            black_box(session)
        })
    });
    c.bench_function("bearer/validate_rs256_warm_jwks", |b| {
        b.iter(|| {
            black_box(validate_api_token(
                black_box(&f.api_token),
                &f.keys,
                &expected,
            ))
        })
    });
    let cache = VerifiedTokens::new(10_000);
    let caller = validate_api_token(&f.api_token, &f.keys, &expected).expect("valid");
    cache.insert(&f.api_token, caller, NOW + 3600, NOW);
    c.bench_function("bearer/verified_token_cache_hit", |b| {
        b.iter(|| black_box(cache.get(black_box(&f.api_token), NOW)))
    });
    c.bench_function("claims/user_summary_and_scopes", |b| {
        b.iter(|| {
            let user = summarize(
                "usr_100000000000000001",
                black_box(&f.access_claims),
                black_box(&f.id_claims),
            );
            black_box((user, scopes_of(black_box(&f.access_claims))))
        })
    });
}

criterion_group!(benches, auth_path);
criterion_main!(benches);
