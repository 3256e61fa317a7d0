//! The one error type of the benchmarks: what failed, and why.

use std::error::Error as StdError;
use std::fmt;

/// A failed benchmark step. Its message names the step ("load 1000000 rows
/// into `orders`") and the cause, so a failed run says what to look at.
#[derive(Debug)]
pub struct BenchError {
    step: Vec<String>,
    cause: Option<Box<dyn StdError + Send + Sync + 'static>>,
    message: Option<String>,
}

impl BenchError {
    /// An error with a message and no underlying cause.
    pub fn message(message: impl Into<String>) -> Self {
        BenchError {
            step: Vec::new(),
            cause: None,
            message: Some(message.into()),
        }
    }

    /// An error caused by `cause` while doing `step`.
    pub fn caused_by(
        step: impl Into<String>,
        cause: impl StdError + Send + Sync + 'static,
    ) -> Self {
        BenchError {
            step: vec![step.into()],
            cause: Some(Box::new(cause)),
            message: None,
        }
    }

    /// The same error, as part of a larger `step`.
    #[must_use]
    pub fn context(mut self, step: impl Into<String>) -> Self {
        self.step.insert(0, step.into());
        self
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.step {
            write!(f, "{step}: ")?;
        }
        if let Some(message) = &self.message {
            f.write_str(message)?;
        }
        if let Some(cause) = &self.cause {
            write!(f, "{cause}")?;
            let mut source = cause.source();
            while let Some(inner) = source {
                write!(f, ": {inner}")?;
                source = inner.source();
            }
        }
        Ok(())
    }
}

impl StdError for BenchError {}

/// Attaches the step that failed to any error: `.step("connect")?`.
pub trait Step<T> {
    /// Turns an error into a [`BenchError`] naming `step`.
    fn step(self, step: impl Into<String>) -> Result<T, BenchError>;
}

impl<T, E: StdError + Send + Sync + 'static> Step<T> for Result<T, E> {
    fn step(self, step: impl Into<String>) -> Result<T, BenchError> {
        self.map_err(|cause| BenchError::caused_by(step, cause))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_read_outside_in() {
        let error = Err::<(), _>(std::io::Error::other("refused"))
            .step("connect")
            .map_err(|error| error.context("transaction benchmark"))
            .err()
            .map(|error| error.to_string());
        assert_eq!(
            error.as_deref(),
            Some("transaction benchmark: connect: refused")
        );
    }
}
