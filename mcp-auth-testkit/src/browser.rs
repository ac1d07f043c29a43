//! A browser for OAuth tests: its own cookie jar, redirects shown rather than
//! followed, and the steps of proxy mode's login flows (consent, the trip
//! through the upstream, the callback). Two `Browser`s are two people.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// One browser: the cookies it holds, no redirect followed.
pub struct Browser {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Default for Browser {
    fn default() -> Self {
        Browser {
            http: crate::no_redirects(),
            cookies: BTreeMap::new(),
        }
    }
}

/// The `Location` of a redirect, or an empty string.
pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The query pairs of a URL, by name.
pub fn query_of(url: &str) -> BTreeMap<String, String> {
    url::Url::parse(url)
        .expect("a URL")
        .query_pairs()
        .into_owned()
        .collect()
}

/// The `name=value` pairs of a response's `Set-Cookie` headers.
pub fn set_cookies(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect()
}

/// The browser-binding cookie (`mcp-auth-binding=…`, as `name=value`) that
/// proxy mode sets with every redirect upstream.
pub fn binding_cookie(resp: &reqwest::Response) -> String {
    set_cookies(resp)
        .into_iter()
        .find(|c| c.starts_with("mcp-auth-binding="))
        .expect("a binding cookie comes with every redirect upstream")
}

/// A hidden input's value in an HTML form.
pub fn hidden_input(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker).expect("hidden input") + marker.len();
    let end = html[start..].find('"').expect("end quote");
    html[start..start + end].to_owned()
}

impl Browser {
    /// Whether the browser holds a cookie called `name`.
    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, resp: &reqwest::Response) {
        for value in resp.headers().get_all("set-cookie") {
            let pair = value.to_str().expect("ascii cookie").split(';').next();
            if let Some((k, v)) = pair.and_then(|p| p.split_once('=')) {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
    }

    /// GET `url` with this browser's cookies; keeps the cookies it sets.
    pub async fn get(&mut self, url: &str) -> reqwest::Response {
        let resp = self
            .http
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.keep(&resp);
        resp
    }

    /// POST a form to `url` with this browser's cookies.
    pub async fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let resp = self
            .http
            .post(url)
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .expect("POST");
        self.keep(&resp);
        resp
    }

    /// Approves the consent page `resp` shows (the broker's); returns the
    /// redirect that follows (upstream).
    pub async fn approve(&mut self, base: &str, page: reqwest::Response) -> reqwest::Response {
        assert_eq!(page.status(), 200, "a consent page");
        let html = page.text().await.expect("html");
        self.answer_consent(base, &html, "approve").await
    }

    /// Posts the form of the proxy's consent page `html` (its `consent_id` and
    /// `csrf_token`) to `{base}/oauth/consent` with `decision` (`approve` or
    /// `deny`), from this browser, which need not be the one that was shown the
    /// page; the answer, not followed.
    pub async fn answer_consent(
        &mut self,
        base: &str,
        html: &str,
        decision: &str,
    ) -> reqwest::Response {
        let consent_id = hidden_input(html, "consent_id");
        let csrf_token = hidden_input(html, "csrf_token");
        self.post_form(
            &format!("{base}/oauth/consent"),
            &[
                ("consent_id", &consent_id),
                ("csrf_token", &csrf_token),
                ("decision", decision),
            ],
        )
        .await
    }

    /// From a redirect to the upstream's authorization endpoint (which answers
    /// at once) to our callback: the callback's answer.
    pub async fn through_upstream(&mut self, to_upstream: &reqwest::Response) -> reqwest::Response {
        let resp = self.get(&location(to_upstream)).await;
        let callback = location(&resp);
        assert!(callback.contains("/oauth/callback"), "{callback}");
        self.get(&callback).await
    }
}

/// A client of proxy mode at `base`, public, with one redirect URI.
pub struct ProxyClient {
    /// Our server's base URL.
    pub base: String,
    /// The client id it registered under.
    pub client_id: String,
    /// Its redirect URI.
    pub redirect_uri: String,
    /// Its PKCE verifier.
    pub verifier: String,
}

impl ProxyClient {
    /// Registers at `{base}/register`.
    pub async fn register(base: &str, redirect_uri: &str) -> Self {
        let resp = crate::no_redirects()
            .post(format!("{base}/register"))
            .json(&json!({"client_name": "Test MCP client", "redirect_uris": [redirect_uri]}))
            .send()
            .await
            .expect("POST /register");
        assert_eq!(resp.status(), 201, "registration");
        let body: Value = resp.json().await.expect("json");
        ProxyClient {
            base: base.to_owned(),
            client_id: body["client_id"].as_str().expect("client_id").to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            verifier: "proxy-client-verifier-0123456789-abcdefghijklmnopqrst".to_owned(),
        }
    }

    /// A client identified by URL (a Client ID Metadata Document at
    /// `client_id`): nothing to register.
    pub fn by_url(base: &str, client_id: &str, redirect_uri: &str) -> Self {
        ProxyClient {
            base: base.to_owned(),
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            verifier: "proxy-client-verifier-0123456789-abcdefghijklmnopqrst".to_owned(),
        }
    }

    /// Our `/authorize` URL for this client with `extra` parameters.
    pub fn authorize_url(&self, extra: &[(&str, &str)]) -> String {
        let challenge = crate::s256_challenge(&self.verifier);
        let mut url = url::Url::parse(&format!("{}/authorize", self.base)).expect("url");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", "client-state")
            .extend_pairs(extra);
        url.into()
    }

    /// Redeems `code` at our `/token`: status and JSON body.
    pub async fn redeem(&self, code: &str) -> (u16, Value) {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", &self.verifier),
            ("redirect_uri", &self.redirect_uri),
        ])
        .await
    }

    /// POSTs `form` (plus this client's id) to our `/token`.
    pub async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let mut form = form.to_vec();
        form.push(("client_id", &self.client_id));
        let resp = crate::no_redirects()
            .post(format!("{}/token", self.base))
            .form(&form)
            .send()
            .await
            .expect("POST /token");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json"))
    }

    /// The whole login in `browser` (consent first when the server asks for
    /// it), ending with the code at the client: the client's redirect.
    pub async fn log_in(
        &self,
        browser: &mut Browser,
        extra: &[(&str, &str)],
    ) -> BTreeMap<String, String> {
        let mut resp = browser.get(&self.authorize_url(extra)).await;
        if resp.status() == 200 {
            resp = browser.approve(&self.base, resp).await;
        }
        assert!(
            resp.status().is_redirection(),
            "to the upstream: {}",
            resp.status()
        );
        let back = browser.through_upstream(&resp).await;
        let target = location(&back);
        assert!(
            target.starts_with(&self.redirect_uri),
            "{} {target}",
            back.status()
        );
        query_of(&target)
    }
}
