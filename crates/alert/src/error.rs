//! Errors of rule loading and evaluation.

use thiserror::Error;

/// Where a rule file is wrong: the file, and when known the group, the rule and the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The file as it was named.
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// The group's name.
    pub group: Option<String>,
    /// The rule's 1-based position in its group and its name.
    pub rule: Option<(usize, String)>,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(g) = &self.group {
            write!(f, ": group {g:?}")?;
        }
        if let Some((n, name)) = &self.rule {
            write!(f, ", rule {n} ({name:?})")?;
        }
        Ok(())
    }
}

/// Why rules could not be loaded or evaluated.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum AlertError {
    /// A rule file is malformed or invalid.
    #[error("{place}: {message}")]
    Load {
        /// Where.
        place: Place,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read.
    #[error("{file}: {message}")]
    Io {
        /// The file.
        file: String,
        /// The reason.
        message: String,
    },
    /// A rule failed to evaluate.
    #[error("{0}")]
    Eval(String),
    /// A unit test file is malformed.
    #[error("{0}")]
    Test(String),
}

/// How callers classify an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: a rule or test file.
    BadData,
    /// Evaluation failed.
    Execution,
    /// Reading failed.
    Internal,
}

impl AlertError {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Load { .. } | Self::Test(_) => ErrorKind::BadData,
            Self::Eval(_) => ErrorKind::Execution,
            Self::Io { .. } => ErrorKind::Internal,
        }
    }
}

/// A list of load errors, one per line, as `promtool check rules` lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadErrors(pub Vec<AlertError>);

impl std::fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}
