//! The filters and functions Tera's `builtins` feature would bring, made
//! here so that the binary goes without that feature: its time zone tables
//! (chrono-tz) held half of the relocations the dynamic loader applied at
//! every start of `herald`, 1 to 1.5 ms of each run. Each answers as Tera's
//! did, in Tera's words for its errors, except where Tera panicked.
//!
//! `get_env` is here too, over Tera's own: a template reads only the
//! variables `site.toml` lets it (`template_env`), never one it names as a
//! secret, so that a theme cannot publish a CI token in a page.

use super::date_filter;
use crate::config::Config;
use serde_json::Value;
use std::collections::HashMap;
use tera::{Error, Tera};

/// Registers `date`, `slugify` and `filesizeformat`, and `now`,
/// `get_random` and `get_env` (reading what `config` lets templates read).
pub fn register(tera: &mut Tera, config: &Config) {
    tera.register_filter("date", date_filter::date);
    tera.register_filter("slugify", slugify);
    tera.register_filter("filesizeformat", filesizeformat);
    tera.register_function("now", now);
    tera.register_function("get_random", get_random);
    // The secrets' names, found once rather than at each call.
    let secrets = config.secret_env_names();
    let config = config.clone();
    tera.register_function("get_env", move |args: &HashMap<String, Value>| {
        get_env(args, &config, &secrets)
    });
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

/// The variable `name`, or `default` when it is not set; an error when
/// `site.toml` does not let templates read it: when `template_env` does not
/// list it, or it is one of the `secrets` (whatever the list).
fn get_env(
    args: &HashMap<String, Value>,
    config: &Config,
    secrets: &[String],
) -> tera::Result<Value> {
    let name = match args.get("name") {
        Some(Value::String(name)) => name,
        Some(other) => {
            return Err(Error::msg(format!(
                "Function `get_env` received name={other} but `name` can only be a string"
            )))
        }
        None => {
            return Err(Error::msg(
                "Function `get_env` didn't receive a `name` argument",
            ))
        }
    };
    if secrets.contains(name) {
        return Err(Error::msg(format!(
            "`get_env` may not read `{name}`: site.toml names it as holding a secret, and a page would publish it"
        )));
    }
    if !config.template_env_lists(name) {
        return Err(Error::msg(format!(
            "`get_env` may not read `{name}`: templates read only the variables site.toml lists, e.g. template_env = [\"CI\", \"HERALD_PUBLIC_*\", \"{name}\"] (list it only if it holds nothing secret)"
        )));
    }
    match std::env::var(name) {
        Ok(value) => Ok(Value::String(value)),
        Err(_) => match args.get("default") {
            Some(default) => Ok(default.clone()),
            None => Err(Error::msg(format!(
                "Environment variable `{name}` not found"
            ))),
        },
    }
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

    fn config(toml: &str) -> Config {
        let base = "title = \"T\"\nbase_url = \"https://example.com\"\n";
        Config::parse(&format!("{base}{toml}")).unwrap()
    }

    fn tera_for(config: &Config) -> Tera {
        let mut tera = Tera::default();
        register(&mut tera, config);
        tera
    }

    fn filter(name: &str, value: Value, args: &[(&str, Value)]) -> Result<Value, String> {
        let tera = tera_for(&config(""));
        let args = args
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let f = tera.get_filter(name).map_err(|e| e.to_string())?;
        f.filter(&value, &args).map_err(|e| e.to_string())
    }

    fn call(name: &str, args: &[(&str, Value)]) -> Result<Value, String> {
        call_with(&config(""), name, args)
    }

    fn call_with(config: &Config, name: &str, args: &[(&str, Value)]) -> Result<Value, String> {
        let tera = tera_for(config);
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

    #[test]
    fn get_env_reads_only_what_site_toml_lets_templates_read() {
        // Variables of this test process alone (tests run on threads of one
        // process: no other test reads these).
        std::env::set_var("HERALD_PUBLIC_TEST_COLOUR", "teal");
        std::env::set_var("HERALD_TEST_TOKEN", "s3cret");
        let get = |config: &Config, name: &str| {
            call_with(
                config,
                "get_env",
                &[("name", name.into()), ("default", "none".into())],
            )
        };
        let defaults = config("");
        assert_eq!(
            get(&defaults, "HERALD_PUBLIC_TEST_COLOUR"),
            Ok("teal".into())
        );
        assert_eq!(
            get(&defaults, "HERALD_PUBLIC_TEST_UNSET"),
            Ok("none".into())
        );
        let refused = get(&defaults, "HERALD_TEST_TOKEN").unwrap_err();
        assert!(
            refused.contains("may not read `HERALD_TEST_TOKEN`")
                && refused.contains("template_env"),
            "{refused}"
        );
        assert!(!refused.contains("s3cret"), "{refused}");

        // Listed, it is read; named as a secret, never, whatever the list.
        let listed = config("template_env = [\"HERALD_TEST_*\"]\n");
        assert_eq!(get(&listed, "HERALD_TEST_TOKEN"), Ok("s3cret".into()));
        assert!(
            get(&listed, "HERALD_PUBLIC_TEST_COLOUR").is_err(),
            "the list replaces the default"
        );
        let secret = config(concat!(
            "template_env = [\"HERALD_*\"]\n",
            "[networks.m]\nkind = \"mastodon\"\ninstance = \"https://m.example\"\ntoken_env = \"HERALD_TEST_TOKEN\"\n",
        ));
        let refused = get(&secret, "HERALD_TEST_TOKEN").unwrap_err();
        assert!(refused.contains("holding a secret"), "{refused}");
        assert_eq!(get(&secret, "HERALD_PUBLIC_TEST_COLOUR"), Ok("teal".into()));
    }
}
