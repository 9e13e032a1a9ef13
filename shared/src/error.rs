//! Every failure a request can meet, and the JSON error response it becomes.

use lambda_http::http::StatusCode;

use crate::store::StoreError;

/// Seconds a client is asked to wait before retrying a 503.
pub const RETRY_AFTER_SECONDS: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("request body must be sent with Content-Type: application/json")]
    UnsupportedMediaType,
    /// Over a rate limit: nothing was done, and the same request may
    /// succeed after `retry_after` seconds.
    #[error("{message}; retry after {retry_after} s")]
    TooManyRequests { message: String, retry_after: u32 },
    /// The database failed or was too contended to finish; nothing was
    /// changed, so the client can safely retry.
    #[error("the service is temporarily unavailable and nothing was changed; retrying the request is safe")]
    Unavailable(#[source] StoreError),
    /// The database failed after a change may have been written: `advice`
    /// says what may have happened and how this endpoint is retried safely.
    #[error("the outcome is unknown: {advice}")]
    OutcomeUnknown {
        advice: &'static str,
        #[source]
        source: StoreError,
    },
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub fn status(&self) -> u16 {
        self.status_code().as_u16()
    }

    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::OutcomeUnknown { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn retry_after(&self) -> Option<u32> {
        match self {
            Self::Unavailable(_) | Self::OutcomeUnknown { .. } => Some(RETRY_AFTER_SECONDS),
            Self::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// This failure, for a request that may already have changed something:
    /// a 503 may then no longer claim that nothing was written.
    pub fn outcome_unknown(self, advice: &'static str) -> Self {
        match self {
            Self::Unavailable(source) => Self::OutcomeUnknown { advice, source },
            other => other,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Corrupt(detail) => Self::Internal(detail),
            other => Self::Unavailable(other),
        }
    }
}
