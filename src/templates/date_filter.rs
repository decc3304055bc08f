//! The `date` filter, as Tera's builtin one answers it (same results, same
//! errors), without Tera's time zone tables and without its panics.
//!
//! Tera's filter parses the format string twice per call (once to check it,
//! once to format) and took a twentieth of a first build's CPU on a site
//! whose lists show a date per entry: here each format is parsed once per
//! rendering thread. Tera's filter also panics on a timestamp whose format
//! asks for an offset (`%z`: it formats a date without one) or that is out
//! of range; here a timestamp is a UTC date, and one out of range an error.
//! `timezone` names a zone of the tz database built into Herald (through
//! jiff, where Tera used chrono-tz); `%Z` prints the zone's abbreviation
//! there, as Tera's does.

use chrono::format::{DelayedFormat, Item, StrftimeItems};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write;
use std::rc::Rc;
use tera::{Error, Value};

/// The filter, registered as `date`.
pub fn date(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let format = match args.get("format") {
        None => "%Y-%m-%d",
        Some(Value::String(format)) => format.as_str(),
        Some(other) => return Err(wrong_arg("format", other)),
    };
    let Some(items) = items(format) else {
        return Err(Error::msg(format!("Invalid date format `{format}`")));
    };
    let zone = match args.get("timezone") {
        None => None,
        Some(Value::String(name)) => Some(
            jiff::tz::TimeZone::get(name)
                .map_err(|_| Error::msg(format!("Error parsing `{name}` as a timezone")))?,
        ),
        Some(other) => return Err(wrong_arg("timezone", other)),
    };
    let formatted = match (instant(value)?, zone) {
        (Instant::Offset(date), Some(zone)) => in_zone(date.with_timezone(&Utc), &zone, &items),
        (Instant::Offset(date), None) => text_of(date.format_with_items(items.iter())),
        (Instant::Timestamp(date), Some(zone)) => in_zone(date, &zone, &items),
        (Instant::Timestamp(date) | Instant::Unzoned(date), _) => {
            text_of(date.format_with_items(items.iter()))
        }
    };
    match formatted {
        Some(text) => Ok(Value::String(text)),
        None => Err(Error::msg(format!(
            "Filter `date` cannot format {value} with `{format}`"
        ))),
    }
}

/// What a value of the filter names.
enum Instant {
    /// An RFC 3339 date, in its own offset.
    Offset(DateTime<FixedOffset>),
    /// Seconds since 1970, shown in UTC unless a `timezone` is asked for.
    Timestamp(DateTime<Utc>),
    /// A date, or a date and time, written without an offset: read as UTC,
    /// whatever the `timezone` (as Tera does).
    Unzoned(DateTime<Utc>),
}

fn instant(value: &Value) -> tera::Result<Instant> {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(secs) => match DateTime::from_timestamp(secs, 0) {
                Some(date) => Ok(Instant::Timestamp(date)),
                None => Err(Error::msg(format!(
                    "Filter `date` was given the timestamp {secs}, out of the range of dates"
                ))),
            },
            None => Err(Error::msg(format!(
                "Filter `date` was invoked on a float: {n}"
            ))),
        },
        // Tera reads a string with a `T` as RFC 3339 first.
        Value::String(s) if s.contains('T') => {
            if let Ok(date) = s.parse::<DateTime<FixedOffset>>() {
                return Ok(Instant::Offset(date));
            }
            match s.parse::<NaiveDateTime>() {
                Ok(naive) => Ok(Instant::Unzoned(naive.and_utc())),
                Err(_) => Err(Error::msg(format!(
                    "Error parsing `{s:?}` as rfc3339 date or naive datetime"
                ))),
            }
        }
        Value::String(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(day) => Ok(Instant::Unzoned(day.and_time(Default::default()).and_utc())),
            Err(_) => Err(Error::msg(format!(
                "Error parsing `{s:?}` as YYYY-MM-DD date"
            ))),
        },
        other => Err(Error::msg(format!(
            "Filter `date` received an incorrect type for arg `value`: got `{other:?}` but expected i64|u64|String"
        ))),
    }
}

/// Tera's words for an argument of the wrong type.
fn wrong_arg(name: &str, value: &Value) -> Error {
    Error::msg(format!(
        "Filter `date` received an incorrect type for arg `{name}`: got `{value}` but expected a String"
    ))
}

/// The offset of a zone at one moment: formatted as its abbreviation
/// (`%Z`, e.g. "CET"), as a chrono-tz zone is.
#[derive(Clone, Debug)]
struct ZoneOffset {
    fix: FixedOffset,
    abbreviation: String,
}

impl chrono::Offset for ZoneOffset {
    fn fix(&self) -> FixedOffset {
        self.fix
    }
}

impl std::fmt::Display for ZoneOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.abbreviation)
    }
}

/// `date` formatted as the wall clock of `zone` shows it.
fn in_zone(
    date: DateTime<Utc>,
    zone: &jiff::tz::TimeZone,
    items: &[Item<'static>],
) -> Option<String> {
    let moment = jiff::Timestamp::from_second(date.timestamp()).ok()?;
    let info = zone.to_offset_info(moment);
    let offset = ZoneOffset {
        fix: FixedOffset::east_opt(info.offset().seconds())?,
        abbreviation: info.abbreviation().to_string(),
    };
    let local = date.naive_utc() + offset.fix;
    text_of(DelayedFormat::new_with_offset(
        Some(local.date()),
        Some(local.time()),
        &offset,
        items.iter(),
    ))
}

/// The text of a formatted date; `None` if formatting fails.
fn text_of(formatted: impl std::fmt::Display) -> Option<String> {
    let mut text = String::new();
    write!(text, "{formatted}").ok()?;
    Some(text)
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

    fn args(pairs: &[(&str, Value)]) -> HashMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn run(value: impl Into<Value>, pairs: &[(&str, Value)]) -> Result<String, String> {
        match date(&value.into(), &args(pairs)) {
            Ok(Value::String(s)) => Ok(s),
            Ok(other) => panic!("not a string: {other}"),
            Err(e) => Err(e.to_string()),
        }
    }

    fn f(format: &str) -> (&'static str, Value) {
        ("format", Value::from(format))
    }

    fn tz(name: &str) -> (&'static str, Value) {
        ("timezone", Value::from(name))
    }

    /// Each answer is the one Tera 1.20's own `date` filter (with
    /// chrono-tz) gave for the same value and arguments.
    #[test]
    fn answers_as_teras_builtin_filter_did() {
        let z = "2024-03-05T23:30:00Z";
        let plus2 = "2024-03-05T23:30:00+02:00";
        let summer = "2024-07-05T23:30:00.123456-07:00";
        type Case = (
            Value,
            Vec<(&'static str, Value)>,
            Result<&'static str, &'static str>,
        );
        let cases: Vec<Case> = vec![
            (plus2.into(), vec![f("%Y-%m-%d")], Ok("2024-03-05")),
            (plus2.into(), vec![f("%-d %B %Y, %H:%M")], Ok("5 March 2024, 23:30")),
            (plus2.into(), vec![f("%A %e %b %y %I%p %j %%")], Ok("Tuesday  5 Mar 24 11PM 065 %")),
            (plus2.into(), vec![], Ok("2024-03-05")),
            (plus2.into(), vec![f("%Y-%m-%d %H:%M %Z"), tz("Europe/Paris")], Ok("2024-03-05 22:30 CET")),
            (plus2.into(), vec![f("%Y-%m-%d %H:%M %Z %z"), tz("America/New_York")], Ok("2024-03-05 16:30 EST -0500")),
            (plus2.into(), vec![f("%H:%M"), tz("UTC")], Ok("21:30")),
            (z.into(), vec![f("%Y-%m-%d %H:%M %Z"), tz("Europe/Paris")], Ok("2024-03-06 00:30 CET")),
            (summer.into(), vec![f("%Y-%m-%d %H:%M %Z"), tz("Europe/Paris")], Ok("2024-07-06 08:30 CEST")),
            (summer.into(), vec![f("%Y-%m-%d %H:%M %Z %z"), tz("America/New_York")], Ok("2024-07-06 02:30 EDT -0400")),
            (summer.into(), vec![f("%A %e %b %y %I%p %j %%")], Ok("Friday  5 Jul 24 11PM 187 %")),
            // Without an offset: UTC, whatever the time zone.
            ("2024-03-05T23:30:00".into(), vec![f("%-d %B %Y, %H:%M")], Ok("5 March 2024, 23:30")),
            ("2024-03-05T23:30:00".into(), vec![f("%Y-%m-%d %H:%M %Z %z"), tz("America/New_York")], Ok("2024-03-05 23:30 UTC +0000")),
            ("2024-03-05".into(), vec![f("%A %e %b %y %I%p %j %%")], Ok("Tuesday  5 Mar 24 12AM 065 %")),
            ("2024-03-05".into(), vec![f("%Y-%m-%d %H:%M %Z"), tz("Europe/Paris")], Ok("2024-03-05 00:00 UTC")),
            ("2024-3-5".into(), vec![f("%-d %B %Y, %H:%M")], Ok("5 March 2024, 00:00")),
            // A timestamp is a moment: the time zone moves it.
            (1_700_000_000.into(), vec![f("%A %e %b %y %I%p %j %%")], Ok("Tuesday 14 Nov 23 10PM 318 %")),
            (1_700_000_000.into(), vec![f("%Y-%m-%d %H:%M %Z"), tz("Europe/Paris")], Ok("2023-11-14 23:13 CET")),
            (1_700_000_000.into(), vec![f("%Y-%m-%d %H:%M %Z %z"), tz("America/New_York")], Ok("2023-11-14 17:13 EST -0500")),
            (1_700_000_000.into(), vec![], Ok("2023-11-14")),
            // Errors, in Tera's words and order: the format, the zone, the value.
            (plus2.into(), vec![f("%Q is no format")], Err("Invalid date format `%Q is no format`")),
            (true.into(), vec![f("%Q is no format"), tz("Mars/Olympus")], Err("Invalid date format `%Q is no format`")),
            (plus2.into(), vec![f("%H:%M"), tz("Mars/Olympus")], Err("Error parsing `Mars/Olympus` as a timezone")),
            ("yesterday".into(), vec![f("%H:%M"), tz("Mars/Olympus")], Err("Error parsing `Mars/Olympus` as a timezone")),
            (plus2.into(), vec![("format", 5.into())], Err("Filter `date` received an incorrect type for arg `format`: got `5` but expected a String")),
            (plus2.into(), vec![("timezone", 5.into())], Err("Filter `date` received an incorrect type for arg `timezone`: got `5` but expected a String")),
            ("not a dateT".into(), vec![], Err("Error parsing `\"not a dateT\"` as rfc3339 date or naive datetime")),
            ("yesterday".into(), vec![f("%Y")], Err("Error parsing `\"yesterday\"` as YYYY-MM-DD date")),
            (1.5.into(), vec![f("%Y")], Err("Filter `date` was invoked on a float: 1.5")),
            (true.into(), vec![], Err("Filter `date` received an incorrect type for arg `value`: got `Bool(true)` but expected i64|u64|String")),
        ];
        for (value, pairs, want) in cases {
            let got = run(value.clone(), &pairs);
            let want = want.map(str::to_string).map_err(str::to_string);
            assert_eq!(got, want, "{value} with {pairs:?}");
        }
    }

    #[test]
    fn a_timestamp_is_a_utc_date_and_one_out_of_range_an_error() {
        // Tera's filter panicked on both.
        assert_eq!(
            run(1_700_000_000, &[f("%F %T %z %Z")]).unwrap(),
            "2023-11-14 22:13:20 +0000 UTC"
        );
        let err = run(i64::MAX, &[f("%F")]).unwrap_err();
        assert!(err.contains("out of the range"), "{err}");
    }

    #[test]
    fn a_zone_follows_its_own_rules_on_either_side_of_a_change() {
        // Europe/London went to summer time at 01:00 UTC on 31 March 2024.
        let before = run(
            "2024-03-31T00:59:59Z",
            &[f("%H:%M:%S %Z"), tz("Europe/London")],
        );
        let after = run(
            "2024-03-31T01:00:00Z",
            &[f("%H:%M:%S %Z"), tz("Europe/London")],
        );
        assert_eq!(before.unwrap(), "00:59:59 GMT");
        assert_eq!(after.unwrap(), "02:00:00 BST");
    }
}
