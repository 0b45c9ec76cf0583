//! The server: the app's pages with sign-in around them. Without `SCALEKIT_ENVIRONMENT_URL` it
//! signs in against the development provider, mounted in-process at `/dev-idp`.

use std::sync::Arc;

use axum::Router;
use leptos::prelude::*;
use leptos_axum::{file_and_error_handler_with_context, generate_route_list};
use minimal::app::{shell, App};
use scalekit_auth::{Auth, AuthSettings, Key, Secret};
use scalekit_dev_idp::settings::{DEV_CLIENT_ID, DEV_CLIENT_SECRET};
use scalekit_dev_idp::{DevIdp, IN_APP_MOUNT_PATH};
use scalekit_leptos::{provide_sign_in_context, SignIn, SignInRoutes};

#[tokio::main]
async fn main() -> Result<(), String> {
    let options = get_configuration(None)
        .map_err(|e| e.to_string())?
        .leptos_options;
    let addr = options.site_addr;
    let app_url = std::env::var("APP_URL").unwrap_or_else(|_| format!("http://{addr}"));
    // Sessions survive a restart only with a fixed key: COOKIE_SECRET, 64 bytes or more.
    let key = match std::env::var("COOKIE_SECRET") {
        Ok(secret) => Key::try_from(secret.as_bytes()).map_err(|e| e.to_string())?,
        Err(_) => Key::generate(),
    };
    let (settings, dev_idp) = match std::env::var("SCALEKIT_ENVIRONMENT_URL") {
        Ok(url) => {
            let id = std::env::var("SCALEKIT_CLIENT_ID").map_err(|_| "SCALEKIT_CLIENT_ID")?;
            let secret =
                std::env::var("SCALEKIT_CLIENT_SECRET").map_err(|_| "SCALEKIT_CLIENT_SECRET")?;
            let settings = AuthSettings::new(&url, &id, Secret::new(secret), &app_url, key);
            (settings, None)
        }
        // No Scalekit environment: the development provider, in this process.
        Err(_) => {
            let secret = Secret::new(DEV_CLIENT_SECRET);
            let url = format!("{app_url}{IN_APP_MOUNT_PATH}");
            let settings = AuthSettings::new(&url, DEV_CLIENT_ID, secret, &app_url, key);
            let keys = std::env::temp_dir().join("minimal-dev-idp-keys.json");
            let uris = (settings.redirect_uri(), settings.post_logout_redirect_uri());
            let idp = DevIdp::in_app(&app_url, uris.0, uris.1, &keys)?;
            (settings, Some(Arc::new(idp)))
        }
    };
    let auth = Auth::new(settings)?;
    let sign_in = SignIn::new(auth.clone(), &app_url);
    let mut app = Router::new().leptos_routes_with_sign_in(
        &options,
        &sign_in,
        generate_route_list(App),
        || (),
        {
            let options = options.clone();
            move || shell(options.clone())
        },
    );
    if let Some(idp) = dev_idp {
        app = scalekit_dev_idp::mount(app, idp);
    }
    let not_found =
        file_and_error_handler_with_context(move || provide_sign_in_context(&auth), shell);
    let app = app.fallback(not_found).with_state(options);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| e.to_string())?;
    println!("listening on {app_url}");
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}
