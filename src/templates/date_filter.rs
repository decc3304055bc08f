//! Tera's `date` filter, made cheap for what templates nearly always ask
//! (an RFC 3339 date, as Herald puts `page.date` in a context, formatted
//! with a `format` and nothing else), and safe for a timestamp.
//!
//! Tera's own filter parses the format string twice per call (once to
//! check it, once to format) and took a twentieth of a first build's CPU
//! on a site whose lists show a date per entry. Here each format is
//! parsed once per rendering thread. Tera's filter also panics on a timestamp whose
//! format asks for an offset (`%z`: it formats a date without one) or
//! that is out of range; here a timestamp is a UTC date, and one out of
//! range an error. Every other use (a bare date, a `timezone` or
//! `locale`, a bad format) goes to Tera's filter, so the results and the
//! errors are Tera's.

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, FixedOffset};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write;
use std::rc::Rc;
use std::sync::OnceLock;
use tera::Value;

/// The filter, registered as `date` over Tera's own.
pub fn date(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let format = match args.get("format") {
        None => "%Y-%m-%d",
        Some(Value::String(format)) => format.as_str(),
        Some(_) => return tera_date(value, args),
    };
    let items = match args.keys().all(|k| k == "format") {
        true => items(format),
        false => None,
    };
    let Some(items) = items else {
        return tera_date(value, args);
    };
    let formatted = match value {
        // Tera reads a string with a `T` as RFC 3339 first.
        Value::String(text) if text.contains('T') => match text.parse::<DateTime<FixedOffset>>() {
            Ok(date) => text_of(date.format_with_items(items.iter())),
            Err(_) => None,
        },
        Value::Number(n) => match n
            .as_i64()
            .map(|secs| (secs, DateTime::from_timestamp(secs, 0)))
        {
            Some((_, Some(date))) => text_of(date.format_with_items(items.iter())),
            Some((secs, None)) => {
                return Err(tera::Error::msg(format!(
                    "Filter `date` was given the timestamp {secs}, out of the range of dates"
                )))
            }
            None => None,
        },
        _ => None,
    };
    match formatted {
        Some(text) => Ok(Value::String(text)),
        None => tera_date(value, args),
    }
}

/// The text of a formatted date; `None` if formatting fails.
fn text_of(formatted: impl std::fmt::Display) -> Option<String> {
    let mut text = String::new();
    write!(text, "{formatted}").ok()?;
    Some(text)
}

/// Tera's `date` filter.
fn tera_date(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    static BUILTINS: OnceLock<tera::Tera> = OnceLock::new();
    BUILTINS
        .get_or_init(tera::Tera::default)
        .get_filter("date")?
        .filter(value, args)
}

/// A format's parsed items.
type Items = Rc<[Item<'static>]>;

thread_local! {
    /// Each format this thread has parsed: a cache per thread, so that the
    /// two rendering threads never wait for each other on it.
    static PARSED: RefCell<HashMap<String, Option<Items>>> = RefCell::default();
}

/// The parsed items of a valid `format`; `None` for one Tera would refuse.
fn items(format: &str) -> Option<Items> {
    PARSED.with_borrow_mut(|parsed| {
        if let Some(items) = parsed.get(format) {
            return items.clone();
        }
        // Items borrow the format string; owned ones outlive it.
        let items: Vec<Item<'static>> = StrftimeItems::new(format).map(|i| i.to_owned()).collect();
        let items = (!items.iter().any(|i| matches!(i, Item::Error))).then(|| items.into());
        parsed.insert(format.to_string(), items.clone());
        items
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> HashMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect()
    }

    /// Every case gives what Tera's own filter gives, result or error.
    #[test]
    fn answers_as_teras_date_filter_does() {
        let values = [
            Value::from("2024-03-05T23:30:00+02:00"),
            Value::from("2024-03-05T23:30:00Z"),
            Value::from("2024-03-05T23:30:00.123456-07:00"),
            Value::from("2024-03-05T23:30:00"),
            Value::from("2024-03-05"),
            Value::from("not a dateT"),
            Value::from(1_700_000_000),
        ];
        let argsets = [
            args(&[("format", "%Y-%m-%d")]),
            // (No offset: Tera's filter panics formatting one for a naive date.)
            args(&[("format", "%-d %B %Y, %H:%M")]),
            args(&[("format", "%A %e %b %y %I%p %j %%")]),
            args(&[("format", "%Q is no format")]),
            args(&[("format", "%Y-%m-%d"), ("timezone", "UTC")]),
            args(&[]),
        ];
        for value in &values {
            for a in &argsets {
                let ours = date(value, a).map_err(|e| e.to_string());
                let teras = tera_date(value, a).map_err(|e| e.to_string());
                assert_eq!(ours, teras, "{value} with {a:?}");
            }
        }
    }

    #[test]
    fn a_timestamp_is_a_utc_date_and_one_out_of_range_an_error() {
        // Tera's filter panics on both.
        let got = date(
            &Value::from(1_700_000_000),
            &args(&[("format", "%F %T %z")]),
        );
        assert_eq!(got.unwrap(), Value::from("2023-11-14 22:13:20 +0000"));
        let err = date(&Value::from(i64::MAX), &args(&[("format", "%F")])).unwrap_err();
        assert!(err.to_string().contains("out of the range"), "{err}");
    }

    #[test]
    fn formats_an_rfc3339_date_in_its_own_offset() {
        let got = date(
            &Value::from("2024-03-05T23:30:00+02:00"),
            &args(&[("format", "%Y-%m-%d %H:%M %:z")]),
        )
        .unwrap();
        assert_eq!(got, Value::from("2024-03-05 23:30 +02:00"));
    }
}
