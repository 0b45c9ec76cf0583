//! The example signs in over HTTP: its binary is started on a free loopback port against its
//! in-process development provider, and a plain HTTP client (no JavaScript, cookies by hand)
//! follows the sign-in to the protected page.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Client, Response};

/// The server, stopped when the test ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A browser without JavaScript: follows nothing by itself, keeps cookies per host.
struct Browser {
    http: Client,
    cookies: HashMap<String, String>,
}

impl Browser {
    async fn send(&mut self, request: reqwest::RequestBuilder) -> Response {
        let jar = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = request
            .header(COOKIE, jar)
            .send()
            .await
            .expect("the server answers");
        for header in response.headers().get_all(SET_COOKIE) {
            let pair = header.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        response
    }

    async fn get(&mut self, url: &str) -> Response {
        let request = self.http.get(url).header("accept", "text/html");
        self.send(request).await
    }

    async fn post_form(&mut self, url: &str, origin: &str, body: &'static str) -> Response {
        let request = self
            .http
            .post(url)
            .header("accept", "text/html")
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }
}

fn location(response: &Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

#[tokio::test]
async fn the_minimal_example_signs_in_and_shows_the_protected_page() {
    let addr = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{addr}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_minimal"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("LEPTOS_SITE_ADDR", &addr)
            // Its own name, not the name of whatever app's build this runs inside.
            .env("LEPTOS_OUTPUT_NAME", "minimal")
            .env_remove("SCALEKIT_ENVIRONMENT_URL")
            .stdout(Stdio::null())
            .spawn()
            .expect("the example starts"),
    );
    let mut browser = Browser {
        http: Client::builder().redirect(Policy::none()).build().unwrap(),
        cookies: HashMap::new(),
    };
    let mut home = None;
    for _ in 0..100 {
        if let Ok(response) = browser.http.get(&base).send().await {
            home = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let home = home
        .expect("the example listens within 10 s")
        .text()
        .await
        .unwrap();
    assert!(home.contains("Sign in"), "{home}");
    assert!(home.contains(r#"name="next" value="/me""#), "{home}");

    // The login page passes its query on (the guard's `next`, the routing parameters that
    // `/auth/initiate-login` hands over) to its sign-in form.
    let routed = browser
        .get(&format!(
            "{base}/login?next=/me&organization_id=org_100000000000000001&login_hint="
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        routed.contains(r#"name="organization_id" value="org_100000000000000001""#),
        "{routed}"
    );
    assert!(
        !routed.contains(r#"name="login_hint""#),
        "an empty one is not given"
    );

    // Signed out, the protected page is a real redirect to sign in.
    let me = browser.get(&format!("{base}/me")).await;
    assert_eq!(me.status(), 302);
    assert_eq!(location(&me), "/login?next=/me");

    // The sign-in form's post: a redirect to the provider, with the transaction in a cookie.
    let login = browser
        .post_form(
            &format!("{base}/_app/login"),
            &base,
            "next=%2Fme&login_hint=admin",
        )
        .await;
    assert_eq!(login.status(), 303);
    let authorize = location(&login);
    assert!(
        authorize.starts_with(&format!("{base}/dev-idp/oauth/authorize?")),
        "{authorize}"
    );

    // The provider signs the hinted persona in and sends the browser back to the callback.
    let at_provider = browser.get(&authorize).await;
    assert_eq!(at_provider.status(), 302);
    let callback = location(&at_provider);
    assert!(
        callback.starts_with(&format!("{base}/auth/callback?")),
        "{callback}"
    );
    let landed = browser.get(&callback).await;
    assert_eq!(landed.status(), 303, "{}", landed.text().await.unwrap());
    assert_eq!(location(&landed), "/me");

    let me = browser.get(&format!("{base}/me")).await;
    assert_eq!(me.status(), 200);
    let page = me.text().await.unwrap();
    let greeting = page
        .split("<h1>")
        .nth(1)
        .and_then(|h1| h1.split("</h1>").next());
    assert!(
        greeting.is_some_and(|h1| h1.starts_with("Hello, ") && h1.contains("Ada Admin")),
        "{page}"
    );
    assert!(!page.contains("eyJ"), "no token reaches the page");

    // Signing out ends it: the protected page redirects again.
    let logout = browser
        .post_form(&format!("{base}/_app/logout"), &base, "")
        .await;
    assert_eq!(logout.status(), 303);
    let me = browser.get(&format!("{base}/me")).await;
    assert_eq!(me.status(), 302);
}
