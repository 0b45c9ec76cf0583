//! The error of server functions and pages. Each variant maps to an HTTP status and a message that is safe
//! to show; details that could leak internals go to the log (with the request id), never here.

use serde::{Deserialize, Serialize};

/// A server function's or a page's error: an HTTP status and a message safe to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ServerError {
    /// 400: the input was refused, with why.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: not signed in, or the session has ended.
    #[error("you need to sign in")]
    Unauthorized,
    /// 403: signed in without the named permission.
    #[error("you don't have permission to do this (requires `{0}`)")]
    Forbidden(String),
    /// 404.
    #[error("page not found")]
    NotFound,
    /// 502: the provider refused or answered nonsense.
    #[error("the identity provider answered with an error; please try again")]
    ProviderError,
    /// 503: the provider or the session store cannot be reached; try again shortly.
    #[error("the identity provider is unreachable right now; please try again in a moment")]
    ProviderUnavailable,
    /// 500: a bug or a misconfiguration (the details are in the log).
    #[error("something went wrong on our side")]
    Internal,
    /// Transport or encoding failure between browser and server function.
    #[error("the request could not be completed: {0}")]
    Transport(String),
}

impl ServerError {
    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            ServerError::BadRequest(_) => 400,
            ServerError::Unauthorized => 401,
            ServerError::Forbidden(_) => 403,
            ServerError::NotFound => 404,
            ServerError::ProviderError => 502,
            ServerError::ProviderUnavailable => 503,
            ServerError::Internal | ServerError::Transport(_) => 500,
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for ServerError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        ServerError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use axum::response::{IntoResponse, Response};
    use http::StatusCode;

    use super::ServerError;

    impl ServerError {
        /// [`ServerError::status_code`] as an `http` status.
        pub fn status(&self) -> StatusCode {
            StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }

    /// Plain axum handlers answer with a small JSON body; pages render their own error views.
    impl IntoResponse for ServerError {
        fn into_response(self) -> Response {
            let body = serde_json::json!({ "error": self.to_string() });
            let mut response = (self.status(), axum::Json(body)).into_response();
            response
                .headers_mut()
                .insert(http::header::CACHE_CONTROL, scalekit_auth::NO_STORE);
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ServerError;

    #[test]
    fn e1_each_error_maps_to_its_status() {
        let cases = [
            (ServerError::BadRequest("x".into()), 400),
            (ServerError::Unauthorized, 401),
            (ServerError::Forbidden("organization:settings".into()), 403),
            (ServerError::NotFound, 404),
            (ServerError::ProviderError, 502),
            (ServerError::ProviderUnavailable, 503),
            (ServerError::Internal, 500),
        ];
        for (error, status) in cases {
            assert_eq!(error.status_code(), status, "{error:?}");
        }
    }
}
