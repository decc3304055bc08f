//! Loading Tera templates from the theme and the site, and turning Tera's
//! errors into diagnostics that name the template file and line.

mod builtins;
mod date_filter;

use crate::config::Config;
use crate::error::{Diagnostic, Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// The default theme, built into the binary so `herald init` works anywhere.
pub static DEFAULT_THEME: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/themes/default");

/// The template of redirect pages.
const ALIAS: &str = "alias.html";

/// Where a template came from, for error messages.
#[derive(Debug, Clone)]
struct Source {
    file: PathBuf,
    text: String,
}

/// Loaded templates.
pub struct Templates {
    pub tera: tera::Tera,
    sources: BTreeMap<String, Source>,
    /// The input key of every template's name and text, or `None` when a
    /// template calls a Tera function whose result changes between builds
    /// with the same inputs (`now`, `get_random`, `get_env`).
    key: Option<u128>,
}

impl Templates {
    /// Loads `themes/<theme>/templates`, then the site's `templates/` over it.
    pub fn load(root: &Path, config: &Config) -> Result<Templates> {
        let theme_dir = root.join("themes").join(&config.theme);
        let mut sources = BTreeMap::new();
        if theme_dir.is_dir() {
            read_dir_templates(root, &theme_dir.join("templates"), &mut sources)?;
        } else if config.theme == "default" {
            for file in embedded_files(&DEFAULT_THEME) {
                if let Some(name) = file
                    .path()
                    .to_str()
                    .and_then(|p| p.strip_prefix("templates/"))
                {
                    let text = file.contents_utf8().unwrap_or_default().to_string();
                    let path = Path::new("themes/default").join(file.path());
                    sources.insert(name.to_string(), Source { file: path, text });
                }
            }
        } else {
            let available = list_themes(root);
            let text =
                std::fs::read_to_string(root.join(crate::config::CONFIG_FILE)).unwrap_or_default();
            return Err(Diagnostic::new(
                crate::config::CONFIG_FILE,
                format!("theme `{}` not found in themes/", config.theme),
            )
            .at_opt_line(crate::config::find_key_line(&text, "theme"))
            .help(if available.is_empty() {
                "put the theme in themes/NAME/, or use theme = \"default\" (built in)".to_string()
            } else {
                format!("themes here: {}", available.join(", "))
            })
            .into());
        }
        read_dir_templates(root, &root.join("templates"), &mut sources)?;
        // Redirect pages (aliases, a paginated list's `page/1/`) need
        // `alias.html`: a theme without one gets the default theme's.
        if !sources.contains_key(ALIAS) {
            if let Some(file) = DEFAULT_THEME.get_file(Path::new("templates").join(ALIAS)) {
                let text = file.contents_utf8().unwrap_or_default().to_string();
                let path = Path::new("themes/default").join(file.path());
                sources.insert(ALIAS.to_string(), Source { file: path, text });
            }
        }

        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![".html", ".htm", ".xml"]);
        // Tera's own escaper also turns `/` into `&#x2F;`, which makes every
        // URL in a page unreadable; escaping `&<>"` is what HTML needs.
        tera.set_escape_fn(escape_html);
        builtins::register(&mut tera, config);
        if let Err(e) = add_parsed(&mut tera, &sources) {
            return Err(template_error(&sources, None, &e).into());
        }
        let key = templates_key(&sources);
        Ok(Templates { tera, sources, key })
    }

    /// A key of every template (name and text), to reuse pages rendered
    /// from the same templates; `None` when a template's output changes
    /// from one build to the next with the same context.
    pub fn key(&self) -> Option<u128> {
        self.key
    }

    /// True when a template of that name exists.
    pub fn has(&self, name: &str) -> bool {
        self.sources.contains_key(name)
    }

    /// Renders `name`; `for_file` is the content file that asked for it.
    pub fn render(
        &self,
        name: &str,
        ctx: &tera::Context,
        for_file: Option<&Path>,
    ) -> Result<String, Diagnostic> {
        if !self.has(name) {
            let mut d = Diagnostic::new(
                for_file.map_or_else(|| PathBuf::from("templates"), Path::to_path_buf),
                format!("template `{name}` not found"),
            )
            .help(format!("create templates/{name} (or themes/<theme>/templates/{name}), or fix the `template` key"));
            if let Some(f) = for_file {
                d.file = f.to_path_buf();
            }
            return Err(d);
        }
        self.tera
            .render(name, ctx)
            .map_err(|e| template_error(&self.sources, Some(name), &e))
    }
}

/// Parses every template on every core, then links them as
/// `Tera::add_raw_templates` does (inheritance, macro files), with the same
/// errors: the first template by name that fails, then the links. Tera
/// parses one after the other, about 2 KB per millisecond here: the default
/// theme's 32 KB took 9 ms, most of a small site's rebuild.
fn add_parsed(tera: &mut tera::Tera, sources: &BTreeMap<String, Source>) -> tera::Result<()> {
    use rayon::prelude::*;
    let parsed: Vec<(&String, tera::Result<tera::Template>)> = sources
        .par_iter()
        .map(|(name, s)| (name, tera::Template::new(name, None, &s.text)))
        .collect();
    for (name, template) in parsed {
        let template =
            template.map_err(|e| tera::Error::chain(format!("Failed to parse '{name}'"), e))?;
        // Tera's own map of templates: public, though hidden from its docs;
        // `add_raw_templates` fills it the same way, one template at a time.
        tera.templates.insert(name.clone(), template);
    }
    tera.build_inheritance_chains()?;
    tera.check_macro_files()
}

fn templates_key(sources: &BTreeMap<String, Source>) -> Option<u128> {
    let mut key = crate::input_key::InputKey::new("templates");
    for (name, s) in sources {
        if calls_unstable_function(&s.text) {
            return None;
        }
        key.str(name).str(&s.text);
    }
    Some(key.finish())
}

/// True when `text` may call a Tera function whose result changes from one
/// build to the next with the same inputs: its name (not the end of a
/// longer one), then `(` after any spaces, as Tera takes `now ()` too.
/// Anywhere, a comment included: a call seen where there is none costs
/// rendering, a call missed would keep stale pages.
fn calls_unstable_function(text: &str) -> bool {
    const UNSTABLE: [&str; 3] = ["now", "get_random", "get_env"];
    let is_name_char = |c: char| c.is_alphanumeric() || c == '_';
    UNSTABLE.iter().any(|f| {
        text.match_indices(f).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + f.len()..].trim_start();
            !before.is_some_and(is_name_char) && after.starts_with('(')
        })
    })
}

/// Escapes text for HTML content and double-quoted attributes.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    pulldown_cmark_escape::escape_html(&mut out, s).expect("writing to a String cannot fail");
    out
}

fn embedded_files<'a>(dir: &'a include_dir::Dir<'a>) -> Vec<&'a include_dir::File<'a>> {
    let mut out: Vec<&include_dir::File> = dir.files().collect();
    for d in dir.dirs() {
        out.extend(embedded_files(d));
    }
    out
}

fn read_dir_templates(root: &Path, dir: &Path, into: &mut BTreeMap<String, Source>) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::io("read", dir, e.into()))?;
        if !entry.file_type().is_file() || entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let name = entry
            .path()
            .strip_prefix(dir)
            .expect("child of dir")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(entry.path())
            .map_err(|e| Error::io("read", entry.path(), e))?;
        let file = entry
            .path()
            .strip_prefix(root)
            .unwrap_or(entry.path())
            .to_path_buf();
        into.insert(name, Source { file, text });
    }
    Ok(())
}

/// Names of the folders in `themes/`.
pub fn list_themes(root: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root.join("themes"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().to_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Turns a Tera error into a diagnostic naming the template file and line.
fn template_error(
    sources: &BTreeMap<String, Source>,
    rendering: Option<&str>,
    e: &tera::Error,
) -> Diagnostic {
    let mut chain = vec![e.to_string()];
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = cur {
        chain.push(s.to_string());
        cur = s.source();
    }
    // The template at fault: named in the first message as 'name'.
    let named = chain
        .iter()
        .find_map(|m| {
            m.split('\'')
                .nth(1)
                .filter(|n| sources.contains_key(*n))
                .map(String::from)
        })
        .or_else(|| rendering.map(String::from));
    let source = named.as_ref().and_then(|n| sources.get(n));
    let file = source.map_or_else(|| PathBuf::from("templates"), |s| s.file.clone());
    let detail = chain.last().cloned().unwrap_or_default();

    // Syntax errors carry ` --> line:col`.
    let mut line = chain.iter().find_map(|m| {
        m.split("--> ")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.trim().parse::<usize>().ok())
    });
    // Runtime errors name the variable or filter in backticks: find it in the source.
    if line.is_none() {
        if let Some(src) = source {
            line = detail.split('`').skip(1).step_by(2).find_map(|needle| {
                src.text
                    .lines()
                    .position(|l| l.contains(needle))
                    .map(|i| i + 1)
            });
        }
    }
    let first = chain.first().cloned().unwrap_or_default();
    let message = if chain.len() > 1 {
        let mut rest: Vec<String> = chain[1..].iter().map(|m| m.trim().to_string()).collect();
        rest.dedup();
        format!("{first}: {}", rest.join(": "))
    } else {
        first
    };
    let help = if message.contains("not found in context") {
        "check the variable's name against docs/templates.md; use `| default(value=\"\")` for optional values"
    } else if line.is_some() && rendering.is_none() {
        "fix the template syntax at that line (see https://keats.github.io/tera/docs/)"
    } else {
        "see docs/templates.md for the variables each template receives"
    };
    Diagnostic::new(file, message.replace('\n', " "))
        .at_opt_line(line)
        .help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(files: &[(&str, &str)]) -> BTreeMap<String, Source> {
        files
            .iter()
            .map(|(name, text)| {
                let source = Source {
                    file: PathBuf::from("templates").join(name),
                    text: text.to_string(),
                };
                (name.to_string(), source)
            })
            .collect()
    }

    /// An error and its sources, as one text.
    fn chain(e: &tera::Error) -> String {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text.push_str(&format!(" <- {s}"));
            source = s.source();
        }
        text
    }

    #[test]
    fn templates_parsed_on_every_core_load_and_fail_as_teras_own_loader_does() {
        // Each case's files in name order, the order both loaders go in.
        let cases: &[&[(&str, &str)]] = &[
            &[
                ("base.html", "<b>{% block x %}base{% endblock %}</b>"),
                ("macros.html", "{% macro m(v) %}[{{ v }}]{% endmacro %}"),
                (
                    "page.html",
                    "{% extends \"base.html\" %}{% import \"macros.html\" as k %}\
                     {% block x %}{{ k::m(v=a) }}{% endblock %}",
                ),
                (
                    "super.html",
                    "{% extends \"base.html\" %}{% block x %}{{ super() }}!{% endblock %}",
                ),
            ],
            &[("page.html", "{% extends \"missing.html\" %}")],
            &[("a.html", "{{ x }"), ("b.html", "{% if %}")],
            &[("page.html", "{% import \"macros.html\" as m %}{{ m::f() }}")],
            &[
                ("a.html", "{% extends \"b.html\" %}"),
                ("b.html", "{% extends \"a.html\" %}"),
            ],
        ];
        let mut context = tera::Context::new();
        context.insert("a", &1);
        for files in cases {
            let mut ours = tera::Tera::default();
            let ours_loaded = add_parsed(&mut ours, &sources(files));
            let mut theirs = tera::Tera::default();
            let theirs_loaded = theirs.add_raw_templates(files.iter().copied());
            match (ours_loaded, theirs_loaded) {
                (Ok(()), Ok(())) => {
                    for (name, _) in files.iter() {
                        let ours = ours.render(name, &context).map_err(|e| chain(&e));
                        let theirs = theirs.render(name, &context).map_err(|e| chain(&e));
                        assert_eq!(ours, theirs, "{name}");
                    }
                }
                // Which template of a cycle is named depends on the order
                // of a `HashMap` in Tera, different in each instance.
                (Err(ours), Err(theirs)) if chain(&theirs).starts_with("Circular extend") => {
                    assert!(chain(&ours).starts_with("Circular extend"), "{ours}");
                }
                (Err(ours), Err(theirs)) => assert_eq!(chain(&ours), chain(&theirs)),
                (ours, theirs) => {
                    panic!("{files:?}: {:?} against {:?}", ours.is_ok(), theirs.is_ok())
                }
            }
        }
        // The first case renders through the parent and the macro file.
        let mut tera = tera::Tera::default();
        add_parsed(&mut tera, &sources(cases[0])).unwrap();
        assert_eq!(tera.render("page.html", &context).unwrap(), "<b>[1]</b>");
        assert_eq!(tera.render("super.html", &context).unwrap(), "<b>base!</b>");
    }

    #[test]
    fn calls_of_functions_that_change_between_builds_are_found_however_spaced() {
        for text in [
            "{{ now() }}",
            "{{ now (timestamp=true) }}",
            "{{ get_env\n  (name=\"X\") }}",
            "{% set r = get_random(end=10) %}",
            "{{get_random\t(end=10)}}",
        ] {
            assert!(calls_unstable_function(text), "{text:?}");
        }
        for text in [
            "{{ page.known_now }}",
            "{{ snow(x=1) }}",
            "{{ now_playing }}",
            "{{ get_environment }}",
            "Right now, nothing.",
        ] {
            assert!(!calls_unstable_function(text), "{text:?}");
        }
    }
}
