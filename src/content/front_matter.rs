//! Front matter: the TOML between `+++` lines at the top of a Markdown file.
//!
//! Errors carry the line in the Markdown file (not in the TOML block), so the
//! writer's editor jumps to the right place.

use crate::error::{Diagnostic, Error};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// A Markdown file cut in two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split<'a> {
    /// The TOML text between the fences.
    pub front_matter: &'a str,
    /// Line of the file where the TOML text starts.
    pub front_matter_line: usize,
    /// The Markdown after the closing fence.
    pub body: &'a str,
    /// Line of the file where the body starts.
    pub body_line: usize,
}

/// Splits `text` into front matter and body.
pub fn split<'a>(file: &Path, text: &'a str) -> Result<Split<'a>, Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line = text.split_inclusive('\n').next().unwrap_or("");
    if first_line.trim_end() != "+++" {
        let help = if first_line.trim_end() == "---" {
            "Herald reads TOML front matter between `+++` lines, not YAML between `---`: replace both `---` lines with `+++` and write `key = \"value\"`"
        } else {
            "start the file with a line `+++`, then `title = \"…\"`, then another `+++` line"
        };
        return Err(Diagnostic::new(file, "missing front matter")
            .at_line(1)
            .help(help));
    }
    let after_open = first_line.len();
    let mut offset = after_open;
    for (line_no, line) in (2..).zip(text[after_open..].split_inclusive('\n')) {
        if line.trim_end() == "+++" {
            let body_start = offset + line.len();
            return Ok(Split {
                front_matter: &text[after_open..offset],
                front_matter_line: 2,
                body: &text[body_start..],
                body_line: line_no + 1,
            });
        }
        offset += line.len();
    }
    Err(Diagnostic::new(file, "front matter is never closed")
        .at_line(1)
        .help("add a line `+++` after the last front-matter key, before the text"))
}

/// How a section orders its pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortBy {
    /// Newest first; undated pages last.
    #[default]
    Date,
    /// Alphabetical by title.
    Title,
    /// Ascending weight; pages without weight last.
    Weight,
    /// File order.
    None,
}

/// `[syndicate]` of a page: per-entry cross-posting choices.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SyndicateMatter {
    /// Network names (from `site.toml`) not to post this entry to.
    #[serde(default)]
    pub skip: Vec<String>,
    /// Replaces the generated message on every network.
    pub message: Option<String>,
    /// Per-network replacement messages, by network name.
    #[serde(default)]
    pub messages: BTreeMap<String, String>,
    /// An image to attach, relative to the page.
    pub image: Option<String>,
    /// Its alt text.
    pub image_alt: Option<String>,
}

/// Front matter of a page, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageFrontMatter {
    pub title: Option<String>,
    pub description: Option<String>,
    pub date: Option<Spanned<toml::Value>>,
    pub updated: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub draft: bool,
    pub slug: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    #[serde(default)]
    pub aliases: Vec<Spanned<String>>,
    #[serde(default)]
    pub authors: Vec<String>,
    pub weight: Option<i64>,
    pub template: Option<String>,
    #[serde(default)]
    pub taxonomies: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub extra: toml::Table,
    #[serde(default)]
    pub syndicate: SyndicateMatter,
    /// `comments = false` hides the comment section of this entry.
    pub comments: Option<bool>,
}

/// Front matter of a section's `_index.md`, as written.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SectionFrontMatter {
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub sort_by: SortBy,
    pub paginate_by: Option<usize>,
    pub limit: Option<usize>,
    #[serde(default)]
    pub weight: i64,
    pub template: Option<String>,
    pub page_template: Option<String>,
    #[serde(default)]
    pub extra: toml::Table,
}

/// Parses front matter text into `T`, with lines relative to the file.
pub fn parse<T: serde::de::DeserializeOwned>(file: &Path, split: &Split<'_>) -> Result<T, Error> {
    toml::from_str(split.front_matter).map_err(|e| {
        Error::from(crate::toml_errors::diagnostic(
            file,
            split.front_matter,
            split.front_matter_line,
            &e,
        ))
    })
}

/// A date from front matter: a TOML date or datetime, or a string holding one.
/// Local times without an offset are taken as UTC.
pub fn parse_date(
    file: &Path,
    split: &Split<'_>,
    key: &str,
    value: &Spanned<toml::Value>,
) -> Result<DateTime<FixedOffset>, Diagnostic> {
    let line =
        crate::error::line_of(split.front_matter, value.span().start) + split.front_matter_line - 1;
    let text = match value.get_ref() {
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    parse_date_str(&text).ok_or_else(|| {
        Diagnostic::new(file, format!("`{key}` is not a date: `{text}`"))
            .at_line(line)
            .help(format!(
                "write a date like {key} = 2026-03-04 or a date and time like {key} = 2026-03-04T09:30:00Z"
            ))
    })
}

/// Parses the date formats writers use.
pub fn parse_date_str(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d);
    }
    let utc = FixedOffset::east_opt(0)?;
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
            return utc.from_local_datetime(&d).single();
        }
    }
    if let Ok(d) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(d);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Utc.from_utc_datetime(&d).fixed_offset())
}

/// The date in a `YYYY-MM-DD-` (or `YYYY-MM-DD_`) file-name prefix, and the rest.
pub fn date_prefix(stem: &str) -> Option<(DateTime<FixedOffset>, &str)> {
    if stem.len() < 11 || !stem.is_char_boundary(10) {
        return None;
    }
    let (date, rest) = stem.split_at(10);
    let rest = rest.strip_prefix('-').or_else(|| rest.strip_prefix('_'))?;
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some((
        Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?)
            .fixed_offset(),
        rest,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("content/a.md")
    }

    #[test]
    fn splits_and_counts_lines() {
        let s = split(p(), "+++\ntitle = \"A\"\n+++\nHello\n").unwrap();
        assert_eq!(s.front_matter, "title = \"A\"\n");
        assert_eq!(s.body, "Hello\n");
        assert_eq!(s.body_line, 4);
    }

    #[test]
    fn crlf_and_bom_are_fine() {
        let s = split(p(), "\u{feff}+++\r\ntitle = \"A\"\r\n+++\r\nHi").unwrap();
        assert_eq!(s.front_matter, "title = \"A\"\r\n");
        assert_eq!(s.body, "Hi");
    }

    #[test]
    fn yaml_gets_specific_help() {
        let d = split(p(), "---\ntitle: A\n---\n").unwrap_err();
        assert_eq!(d.message, "missing front matter");
        assert!(d.help.unwrap().contains("not YAML"));
    }

    #[test]
    fn unterminated_is_reported_at_line_one() {
        let d = split(p(), "+++\ntitle = \"A\"\nbody").unwrap_err();
        assert_eq!(d.message, "front matter is never closed");
        assert_eq!(d.line, Some(1));
    }

    #[test]
    fn toml_error_lines_count_from_top_of_markdown() {
        let text = "+++\ntitle = \"A\"\ndraft = maybe\n+++\n";
        let s = split(p(), text).unwrap();
        let err = parse::<PageFrontMatter>(p(), &s).unwrap_err();
        assert_eq!(err.diagnostics()[0].line, Some(3));
    }

    #[test]
    fn dates_in_every_usual_form() {
        for s in [
            "2026-03-04",
            "2026-03-04T10:00:00Z",
            "2026-03-04 10:00:00",
            "2026-03-04T10:00:00+02:00",
        ] {
            assert!(parse_date_str(s).is_some(), "{s}");
        }
        assert!(parse_date_str("2026-13-04").is_none());
        assert!(parse_date_str("next tuesday").is_none());
    }

    #[test]
    fn file_name_prefix_gives_date_and_slug() {
        let (d, rest) = date_prefix("2026-03-04-launch-day").unwrap();
        assert_eq!(d.to_rfc3339(), "2026-03-04T00:00:00+00:00");
        assert_eq!(rest, "launch-day");
        assert!(date_prefix("launch-day-2026").is_none());
        assert!(date_prefix("2026-99-04-x").is_none());
    }
}
