//! The filters and functions Tera's `builtins` feature would bring, made
//! here so that the binary goes without that feature: its time zone tables
//! (chrono-tz) held half of the relocations the dynamic loader applied at
//! every start of `herald`, 1 to 1.5 ms of each run. Each answers as Tera's
//! did, in Tera's words for its errors, except where Tera panicked.

use super::date_filter;
use serde_json::Value;
use std::collections::HashMap;
use tera::{Error, Tera};

/// Registers `date`, `slugify` and `filesizeformat`, and `now` and
/// `get_random`.
pub fn register(tera: &mut Tera) {
    tera.register_filter("date", date_filter::date);
    tera.register_filter("slugify", slugify);
    tera.register_filter("filesizeformat", filesizeformat);
    tera.register_function("now", now);
    tera.register_function("get_random", get_random);
}

/// `"Ça va"|slugify` is `ca-va`.
fn slugify(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    match value {
        Value::String(s) => Ok(Value::String(slug::slugify(s))),
        other => Err(wrong_value("slugify", other, "String")),
    }
}

/// `1500000|filesizeformat` is `1.43 MB` (powers of 1024, as Tera has it),
/// `binary=true` makes it `1.43 MiB`.
fn filesizeformat(value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let Some(size) = value.as_u64() else {
        return Err(wrong_value("filesizeformat", value, "usize"));
    };
    let binary = match args.get("binary") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(Error::msg(format!(
                "Filter `filesizeformat` received an incorrect type for arg `binary`: got `{other}` but expected a bool"
            )))
        }
    };
    let format = match binary {
        true => humansize::BINARY,
        false => humansize::WINDOWS,
    };
    Ok(Value::String(humansize::format_size(size, format)))
}

/// The current time, RFC 3339: local unless `utc=true`; seconds since 1970
/// with `timestamp=true`.
fn now(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let flag = |name: &str| match args.get(name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(Error::msg(format!(
            "Function `now` received {name}={other} but `{name}` can only be a boolean"
        ))),
    };
    let (utc, timestamp) = (flag("utc")?, flag("timestamp")?);
    Ok(match (utc, timestamp) {
        (_, true) => Value::from(chrono::Utc::now().timestamp()),
        (true, false) => Value::from(chrono::Utc::now().to_rfc3339()),
        (false, false) => Value::from(chrono::Local::now().to_rfc3339()),
    })
}

/// A random integer from `start` (0 unless given) up to, not including, `end`.
fn get_random(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let number = |name: &str| match args.get(name) {
        None => Ok(None),
        Some(v) => match v.as_i64().and_then(|n| isize::try_from(n).ok()) {
            Some(n) => Ok(Some(n)),
            None => Err(Error::msg(format!(
                "Function `get_random` received {name}={v} but `{name}` can only be a number"
            ))),
        },
    };
    let start = number("start")?.unwrap_or(0);
    let Some(end) = number("end")? else {
        return Err(Error::msg(
            "Function `get_random` didn't receive an `end` argument",
        ));
    };
    // (Tera's panicked here.)
    if start >= end {
        return Err(Error::msg(format!(
            "Function `get_random` was called with start={start} and end={end}: `start` must be below `end`"
        )));
    }
    Ok(Value::from(fastrand::isize(start..end)))
}

/// Tera's words for a filter applied to a value of the wrong type.
fn wrong_value(filter: &str, value: &Value, expected: &str) -> Error {
    Error::msg(format!(
        "Filter `{filter}` was called on an incorrect value: got `{value}` but expected a {expected}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(name: &str, value: Value, args: &[(&str, Value)]) -> Result<Value, String> {
        let mut tera = Tera::default();
        register(&mut tera);
        let args = args
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let f = tera.get_filter(name).map_err(|e| e.to_string())?;
        f.filter(&value, &args).map_err(|e| e.to_string())
    }

    fn call(name: &str, args: &[(&str, Value)]) -> Result<Value, String> {
        let mut tera = Tera::default();
        register(&mut tera);
        let args = args
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let f = tera.get_function(name).map_err(|e| e.to_string())?;
        f.call(&args).map_err(|e| e.to_string())
    }

    /// The answers Tera 1.20's builtins gave for the same input.
    #[test]
    fn filters_answer_as_teras_builtins_did() {
        let size = |n: Value, binary: bool| {
            let args = match binary {
                true => vec![("binary", Value::from(true))],
                false => vec![],
            };
            filter("filesizeformat", n, &args)
        };
        assert_eq!(size(0.into(), false), Ok("0 B".into()));
        assert_eq!(size(1023.into(), false), Ok("1023 B".into()));
        assert_eq!(size(1024.into(), false), Ok("1 kB".into()));
        assert_eq!(size(1_500_000.into(), false), Ok("1.43 MB".into()));
        assert_eq!(size(1_500_000.into(), true), Ok("1.43 MiB".into()));
        assert_eq!(size(u64::MAX.into(), false), Ok("16 EB".into()));
        assert_eq!(
            size((-1).into(), false),
            Err("Filter `filesizeformat` was called on an incorrect value: got `-1` but expected a usize".into())
        );
        assert_eq!(
            filter("filesizeformat", 5.into(), &[("binary", "yes".into())]),
            Err("Filter `filesizeformat` received an incorrect type for arg `binary`: got `\"yes\"` but expected a bool".into())
        );
        assert_eq!(
            filter("slugify", "Ça va — très bien".into(), &[]),
            Ok("ca-va-tres-bien".into())
        );
        assert_eq!(
            filter("slugify", "Hello, World!".into(), &[]),
            Ok("hello-world".into())
        );
        assert_eq!(
            filter("slugify", 5.into(), &[]),
            Err(
                "Filter `slugify` was called on an incorrect value: got `5` but expected a String"
                    .into()
            )
        );
        assert_eq!(filter("date", 0.into(), &[]), Ok("1970-01-01".into()));
    }

    #[test]
    fn now_tells_the_time_in_the_forms_asked_for() {
        let before = chrono::Utc::now().timestamp();
        let stamp = call("now", &[("timestamp", true.into())]).unwrap();
        let after = chrono::Utc::now().timestamp();
        let stamp = stamp.as_i64().unwrap();
        assert!((before..=after).contains(&stamp), "{stamp}");
        for args in [vec![], vec![("utc", Value::from(true))]] {
            let text = call("now", &args).unwrap();
            let when = chrono::DateTime::parse_from_rfc3339(text.as_str().unwrap()).unwrap();
            assert!((before..=after + 1).contains(&when.timestamp()), "{text}");
        }
        assert!(call("now", &[("utc", true.into())])
            .unwrap()
            .as_str()
            .unwrap()
            .ends_with("+00:00"));
        assert_eq!(
            call("now", &[("utc", "x".into())]),
            Err("Function `now` received utc=\"x\" but `utc` can only be a boolean".into())
        );
    }

    #[test]
    fn get_random_stays_in_its_range_and_refuses_an_empty_one() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let n = call("get_random", &[("start", (-2).into()), ("end", 2.into())]).unwrap();
            seen.insert(n.as_i64().unwrap());
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![-2, -1, 0, 1]);
        assert_eq!(
            call("get_random", &[]),
            Err("Function `get_random` didn't receive an `end` argument".into())
        );
        assert_eq!(
            call("get_random", &[("start", "a".into()), ("end", 10.into())]),
            Err(
                "Function `get_random` received start=\"a\" but `start` can only be a number"
                    .into()
            )
        );
        let empty = call("get_random", &[("start", 3.into()), ("end", 3.into())]).unwrap_err();
        assert!(empty.contains("must be below"), "{empty}");
    }
}
