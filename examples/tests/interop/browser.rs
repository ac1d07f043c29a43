//! A headless stand-in for the user's browser: follows an authorization URL's
//! redirects with a cookie jar and answers each HTML page by submitting its form
//! (login and consent pages alike), until the authorization server redirects to the
//! client's `redirect_uri`.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

/// One HTTP exchange the browser made: method, URL, status.
pub type Exchange = (String, String, u16);

/// Follows `authorization_url` as user `login` and returns the URL the
/// authorization server finally redirected to (it starts with `redirect_uri`),
/// with every exchange on the way.
pub async fn authorize(
    authorization_url: &str,
    redirect_uri: &str,
    login: &str,
) -> (String, Vec<Exchange>) {
    let client = reqwest::Client::builder()
        .cookie_provider(Arc::new(reqwest::cookie::Jar::default()))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("browser client");
    let mut trace = Vec::new();
    let mut next = Request::Get(parse(authorization_url));
    for _ in 0..20 {
        let (method, url, resp) = match next {
            Request::Get(url) => ("GET", url.clone(), client.get(url).send().await),
            Request::Post(url, form) => (
                "POST",
                url.clone(),
                client.post(url).form(&form).send().await,
            ),
        };
        let resp = resp.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status();
        trace.push((method.to_owned(), url.to_string(), status.as_u16()));
        if status.is_redirection() {
            let location = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{method} {url}: {status} without Location"));
            let target = url
                .join(location)
                .unwrap_or_else(|e| panic!("bad Location {location:?}: {e}"));
            if target.as_str().starts_with(redirect_uri) {
                return (target.to_string(), trace);
            }
            next = Request::Get(target);
            continue;
        }
        let body = resp.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "{method} {url} answered {status}: {body}\ntrace: {trace:?}"
        );
        let form = Form::parse(&body)
            .unwrap_or_else(|| panic!("{method} {url}: a page without a form: {body}"));
        let action = url
            .join(&form.action)
            .unwrap_or_else(|e| panic!("bad form action {:?}: {e}", form.action));
        next = Request::Post(action, form.answer(login));
    }
    panic!("no redirect to {redirect_uri} after 20 steps: {trace:?}");
}

enum Request {
    Get(Url),
    Post(Url, Vec<(String, String)>),
}

fn parse(url: &str) -> Url {
    Url::parse(url).unwrap_or_else(|e| panic!("bad authorization URL {url:?}: {e}"))
}

/// The first `<form>` of a page: its action, its hidden inputs, whether it asks
/// for a login, and the first named submit button (the "approve" of a consent page).
/// The user grants what the client asks for: every `grant_scope` checkbox (the
/// dev issuer's scopes that need an explicit grant, such as `admin`) is ticked.
struct Form {
    action: String,
    hidden: Vec<(String, String)>,
    granted: Vec<(String, String)>,
    asks_login: bool,
    asks_password: bool,
    submit: Option<(String, String)>,
}

impl Form {
    fn parse(html: &str) -> Option<Form> {
        let start = html.find("<form")?;
        let end = html[start..]
            .find("</form>")
            .map_or(html.len(), |e| start + e);
        let form = &html[start..end];
        let open_end = form.find('>')?;
        let action = attribute(&form[..open_end], "action").unwrap_or_default();
        let mut parsed = Form {
            action,
            hidden: Vec::new(),
            granted: Vec::new(),
            asks_login: false,
            asks_password: false,
            submit: None,
        };
        for tag in tags(form, "<input").chain(tags(form, "<button")) {
            let name = attribute(tag, "name");
            let kind = attribute(tag, "type").unwrap_or_default();
            let value = attribute(tag, "value").unwrap_or_default();
            let is_button = tag.starts_with("<button");
            match (name, kind.as_str()) {
                (Some(name), "hidden") => parsed.hidden.push((name, value)),
                (Some(name), "checkbox") if name == "grant_scope" => {
                    parsed.granted.push((name, value));
                }
                (Some(name), _) if name == "login" => parsed.asks_login = true,
                (Some(name), _) if name == "password" => parsed.asks_password = true,
                (Some(name), "submit") | (Some(name), "")
                    if (is_button || kind == "submit") && parsed.submit.is_none() =>
                {
                    parsed.submit = Some((name, value));
                }
                _ => {}
            }
        }
        Some(parsed)
    }

    /// The form as submitted by `login`.
    fn answer(self, login: &str) -> Vec<(String, String)> {
        let mut fields = self.hidden;
        fields.extend(self.granted);
        if self.asks_login {
            fields.push(("login".into(), login.into()));
        }
        if self.asks_password {
            fields.push(("password".into(), "interop".into()));
        }
        fields.extend(self.submit);
        fields
    }
}

/// Each `opening…>` tag of `html`.
fn tags<'a>(html: &'a str, opening: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    html.match_indices(opening).filter_map(move |(at, _)| {
        let rest = &html[at..];
        rest.find('>').map(|end| &rest[..end])
    })
}

/// The value of `name="…"` (or single-quoted) in a tag, HTML entities decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    for quote in ['"', '\''] {
        let needle = format!(" {name}={quote}");
        if let Some(at) = tag.find(&needle) {
            let rest = &tag[at + needle.len()..];
            let end = rest.find(quote)?;
            return Some(
                rest[..end]
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&#x27;", "'")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            );
        }
    }
    None
}
