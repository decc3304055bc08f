//! Errors that read like advice.
//!
//! A [`Diagnostic`] is one problem in one file (with a line when we know it),
//! what is wrong, and how to fix it. A build collects every diagnostic it can
//! find before it gives up, so a writer fixes all broken files in one go.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem a user can fix, located in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file at fault, relative to the site root when possible.
    pub file: PathBuf,
    /// 1-based line in `file`, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A problem in `file`, at no particular line.
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.into(),
            line: None,
            message: message.into(),
            help: None,
        }
    }

    /// Sets the 1-based line.
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// Sets the line when one is known.
    pub fn at_opt_line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }

    /// Adds advice on how to fix the problem.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Everything that can stop a Herald command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more problems in the site's files.
    #[error("{}", format_diagnostics(.0))]
    Site(Vec<Diagnostic>),
    /// Reading or writing a file failed.
    #[error("could not {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// An I/O error that names its path and what we were doing.
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The diagnostics, when this error is about the site's files.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Error::Site(d) => d,
            _ => &[],
        }
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error::Site(vec![d])
    }
}

fn format_diagnostics(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (i, d) in diags.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("error: {d}"));
    }
    if diags.len() > 1 {
        out.push_str(&format!("\n{} problems found", diags.len()));
    }
    out
}

/// Result with Herald's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The known name closest to `unknown`, if any is close enough to be a typo.
pub fn closest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(unknown, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// Advice for an unknown key: the closest known key, or the list of keys.
pub fn unknown_key_help(key: &str, known: &[&str]) -> String {
    match closest(key, known) {
        Some(k) => format!("did you mean `{k}`?"),
        None => format!("known keys are: {}", known.join(", ")),
    }
}

/// 1-based line number of byte offset `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        assert_eq!(closest("titel", &["title", "date"]), Some("title"));
        assert_eq!(closest("zzz", &["title", "date"]), None);
    }

    #[test]
    fn diagnostic_reads_file_line_message_help() {
        let d = Diagnostic::new("content/a.md", "bad date")
            .at_line(3)
            .help("write 2026-01-02");
        assert_eq!(
            d.to_string(),
            "content/a.md:3: bad date\n  help: write 2026-01-02"
        );
    }

    #[test]
    fn line_of_counts_newlines() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
