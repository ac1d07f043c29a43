//! Asking the user, and reading the answer: the consent step shared by the
//! broker (every client) and the relay (clients identified by URL).
//!
//! The request waiting for an answer is kept under a fresh single-use consent
//! id with the CSRF token of the browser it was shown to; the answer counts
//! only from that browser (its cookie), with that token repeated in the form.

use axum::response::{Html, IntoResponse, Response};
use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::consent_page::{ConsentView, page};
use super::state_key::same;
use super::{Core, FLOW_TTL, ProxyError, RecordKind};
use crate::oauth::client_metadata_document::all_loopback;
use crate::oauth::params::Params;
use crate::oauth::random::random_token;
use crate::oauth::routes::framing_blocked;
use crate::oauth::{ClientInfo, OAuthError};

/// A request waiting for the user's answer.
#[derive(Debug, Serialize, Deserialize)]
struct PendingConsent<T> {
    request: T,
    /// The CSRF token of the browser the page was shown to.
    csrf: String,
}

/// What the consent page asks about.
pub(super) struct Question<'a> {
    /// The client asking.
    pub client: &'a ClientInfo,
    /// Where the browser goes back to.
    pub redirect_uri: &'a str,
    /// The scopes asked for, if any.
    pub scope: Option<&'a str>,
}

/// The user's answer.
pub(super) enum Answer {
    /// Go on.
    Approve,
    /// Tell the client the user said no.
    Deny,
}

/// Stores `request` under a fresh consent id and shows the consent page.
pub(super) async fn ask<T: Serialize>(
    core: &Core,
    question: &Question<'_>,
    request: T,
    headers: &HeaderMap,
) -> Result<Response, ProxyError> {
    let (csrf, set_csrf) = core.cookies.csrf_token(headers)?;
    let consent_id = random_token(32);
    let html = page(&ConsentView {
        client_name: question.client.client_name.as_deref(),
        client_id: &question.client.client_id,
        loopback_only: all_loopback(&question.client.redirect_uris),
        redirect_uri: question.redirect_uri,
        scope: question.scope,
        server: &core.issuer,
        consent_id: &consent_id,
        csrf_token: &csrf,
    });
    let pending = PendingConsent { request, csrf };
    core.records
        .save(RecordKind::Consent, &consent_id, &pending, FLOW_TTL)
        .await?;
    let mut response = framing_blocked(Html(html).into_response());
    let h = response.headers_mut();
    // No `form-action`: browsers apply it to every redirect that follows the
    // form's submission, which would block the way upstream (and back).
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    if let Some(cookie) = set_csrf {
        h.append(SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Reads the answer posted to `/oauth/consent`: the single-use consent id, the
/// CSRF token repeated in the form and matching both the pending record and
/// the browser's cookie, and the decision. Anything else is an error page.
pub(super) async fn answer<T: DeserializeOwned>(
    core: &Core,
    headers: &HeaderMap,
    params: &Params,
) -> Result<(T, Answer), ProxyError> {
    let refused = || {
        OAuthError::invalid_request(
            "this consent form is invalid, expired or already answered; start again from the application",
        )
    };
    let consent_id = params.get("consent_id").ok_or_else(refused)?;
    let token = params.get("csrf_token").ok_or_else(refused)?;
    let pending: PendingConsent<T> = core
        .records
        .take(RecordKind::Consent, consent_id)
        .await?
        .ok_or_else(refused)?;
    if !same(&pending.csrf, token) || !core.cookies.csrf_matches(headers, token) {
        tracing::warn!("consent refused: CSRF check failed");
        return Err(refused().into());
    }
    let answer = match params.get("decision") {
        Some("approve") => Answer::Approve,
        Some("deny") => Answer::Deny,
        _ => return Err(OAuthError::invalid_request("decision must be approve or deny").into()),
    };
    Ok((pending.request, answer))
}
