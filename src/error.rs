//! The one application error type. Each variant maps to an HTTP status and a message that is safe
//! to show; details that could leak internals go to the log (with the request id), never here.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("you need to sign in")]
    Unauthorized,
    #[error("you don't have permission to do this (requires `{0}`)")]
    Forbidden(String),
    #[error("page not found")]
    NotFound,
    #[error("the identity provider answered with an error; please try again")]
    ProviderError,
    #[error("the identity provider is unreachable right now; please try again in a moment")]
    ProviderUnavailable,
    #[error("something went wrong on our side")]
    Internal,
    /// Transport or encoding failure between browser and server function.
    #[error("the request could not be completed: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound => 404,
            AppError::ProviderError => 502,
            AppError::ProviderUnavailable => 503,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use axum::response::{IntoResponse, Response};
    use http::StatusCode;

    use super::AppError;

    impl AppError {
        pub fn status(&self) -> StatusCode {
            StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }

    /// Plain axum handlers answer with a small JSON body; pages render their own error views.
    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let body = serde_json::json!({ "error": self.to_string() });
            let mut response = (self.status(), axum::Json(body)).into_response();
            response.headers_mut().insert(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            );
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn e1_each_error_maps_to_its_status() {
        let cases = [
            (AppError::BadRequest("x".into()), 400),
            (AppError::Unauthorized, 401),
            (AppError::Forbidden("organization:settings".into()), 403),
            (AppError::NotFound, 404),
            (AppError::ProviderError, 502),
            (AppError::ProviderUnavailable, 503),
            (AppError::Internal, 500),
        ];
        for (error, status) in cases {
            assert_eq!(error.status_code(), status, "{error:?}");
        }
    }
}
