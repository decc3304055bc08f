//! Template contexts: what outputs share, and rendering with it.
//!
//! Most outputs share most of their context (`site`, `feeds`, a list's
//! `section` or `taxonomy`) and add a variable or two of their own. Copying
//! the shared part into a new context for each output cost more than
//! rendering some of them, so each thread keeps the last shared context it
//! rendered with, moves an output's own variables in, renders, and moves
//! them out again.

use super::Value;
use crate::error::Diagnostic;
use crate::input_key::InputKey;
use crate::templates::Templates;
use std::cell::RefCell;
use std::path::Path;

/// Variables of one output's context, beyond the shared ones.
pub(super) type Vars = Vec<(&'static str, Value)>;

/// A context shared by several outputs, and the input key of what is in it.
#[derive(Clone)]
pub(super) struct Shared {
    pub context: tera::Context,
    /// Finished as each variable is added, not once per output that uses
    /// it. Two shared contexts with the same key hold the same variables.
    pub key: u128,
}

impl Shared {
    /// An empty context; `templates_key` is `None` for templates whose
    /// files are never reused (see [`super::render_over`]).
    pub fn new(templates_key: Option<u128>) -> Shared {
        Shared {
            context: tera::Context::new(),
            key: InputKey::new("template context")
                .u128(templates_key.unwrap_or_default())
                .finish(),
        }
    }

    /// Adds a variable to the context and to its key.
    pub fn insert(&mut self, name: &str, value: &(impl serde::Serialize + ?Sized)) {
        self.context.insert(name, value);
        self.key = InputKey::new("template context")
            .u128(self.key)
            .str(name)
            .json(value)
            .finish();
    }

    /// A copy with one more variable.
    pub fn with(&self, name: &str, value: &(impl serde::Serialize + ?Sized)) -> Shared {
        let mut s = self.clone();
        s.insert(name, value);
        s
    }

    /// A copy without the variable `name`, for outputs that each bring
    /// their own: an output's own variable that replaces a shared one costs
    /// a fresh copy of the shared context at each render (see [`render`]).
    pub fn without(&self, name: &str) -> Shared {
        let mut s = self.clone();
        if s.context.remove(name).is_some() {
            s.key = InputKey::new("template context without")
                .u128(s.key)
                .str(name)
                .finish();
        }
        s
    }
}

thread_local! {
    /// The shared context this thread rendered with last, by its key.
    static LAST: RefCell<Option<(u128, tera::Context)>> = const { RefCell::new(None) };
}

/// Renders `template` with `shared` and `vars`, and gives `vars` back
/// (those the context still has), so that what they hold can be reused.
pub(super) fn render(
    templates: &Templates,
    template: &str,
    shared: &Shared,
    vars: Vars,
    for_file: Option<&Path>,
) -> (Result<String, Diagnostic>, Vars) {
    LAST.with(|last| match last.try_borrow_mut() {
        Ok(mut last) => {
            let context = match &mut *last {
                Some((key, context)) if *key == shared.key => context,
                other => &mut other.insert((shared.key, shared.context.clone())).1,
            };
            let result = render_in(context, templates, template, vars, for_file);
            // A variable that replaced a shared one took it away with it.
            if result.1.iter().any(|(n, _)| shared.context.contains_key(n)) {
                *last = None;
            }
            result
        }
        // Only if a template rendered another output: never today.
        Err(_) => {
            let mut context = shared.context.clone();
            render_in(&mut context, templates, template, vars, for_file)
        }
    })
}

fn render_in(
    context: &mut tera::Context,
    templates: &Templates,
    template: &str,
    vars: Vars,
    for_file: Option<&Path>,
) -> (Result<String, Diagnostic>, Vars) {
    let names: Vec<&'static str> = vars.iter().map(|(n, _)| *n).collect();
    let map: serde_json::Map<String, Value> =
        vars.into_iter().map(|(n, v)| (n.to_string(), v)).collect();
    // Moved in, not serialized again.
    context.extend(tera::Context::from_value(Value::Object(map)).expect("an object is a context"));
    let html = templates.render(template, context, for_file);
    let vars = names
        .into_iter()
        .filter_map(|n| context.remove(n).map(|v| (n, v)))
        .collect();
    (html, vars)
}
