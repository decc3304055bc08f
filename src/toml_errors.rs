//! Turns `toml` deserialization errors into [`Diagnostic`]s with the right
//! line in the user's file and a suggestion for misspelt keys and values.

use crate::error::{line_of, Diagnostic};
use std::path::Path;

/// Converts a TOML error in `text` (which starts at line `first_line` of
/// `file`) into a diagnostic pointing at the offending line.
pub fn diagnostic(file: &Path, text: &str, first_line: usize, err: &toml::de::Error) -> Diagnostic {
    let line = err
        .span()
        .map(|span| line_of(text, span.start) + first_line - 1);
    let message = err.message().trim().to_string();
    let (message, help) = explain(&message);
    let mut d = Diagnostic::new(file, message).at_opt_line(line);
    if let Some(help) = help {
        d = d.help(help);
    }
    d
}

/// Rewrites serde's messages about unknown fields and variants into advice.
fn explain(message: &str) -> (String, Option<String>) {
    for (prefix, what) in [("unknown field `", "key"), ("unknown variant `", "value")] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let Some(end) = rest.find('`') else { break };
            let unknown = &rest[..end];
            let expected: Vec<&str> = rest[end + 1..].split('`').skip(1).step_by(2).collect();
            let help = if expected.is_empty() {
                "remove it: no keys are allowed here".to_string()
            } else {
                match crate::error::closest(unknown, &expected) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => format!("expected one of: {}", expected.join(", ")),
                }
            };
            return (format!("unknown {what} `{unknown}`"), Some(help));
        }
    }
    (message.to_string(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_gets_suggestion() {
        let (msg, help) = explain("unknown field `titel`, expected one of `title`, `date`");
        assert_eq!(msg, "unknown key `titel`");
        assert_eq!(help.unwrap(), "did you mean `title`?");
    }

    #[test]
    fn unknown_variant_lists_choices_when_nothing_is_close() {
        let (msg, help) = explain("unknown variant `xyz`, expected `date` or `title`");
        assert_eq!(msg, "unknown value `xyz`");
        assert_eq!(help.unwrap(), "expected one of: date, title");
    }
}
