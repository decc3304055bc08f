//! The output being made, with who made each file (to report two things
//! at one address) and the problems met.

use super::ctx::Made;
use crate::error::{Diagnostic, Error, Result};
use crate::output::Output;
use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::path::Path;

/// The output being built, and the problems met on the way.
#[derive(Default)]
pub(super) struct Out<'a> {
    pub output: Output,
    pub problems: Vec<Diagnostic>,
    /// Who wrote each output file, to report two things at one address
    /// (borrowed from the site where it can be: one per page).
    pub(super) owners: rustc_hash::FxHashMap<String, Cow<'a, Path>>,
    /// For an output made beside another (see [`Out::deferred`]): its
    /// claims and problems, in order, for the other to take in.
    pub(super) log: Option<Vec<Logged<'a>>>,
}

/// What a deferred [`Out`] was told, in order.
pub(super) enum Logged<'a> {
    Claim(String, Cow<'a, Path>),
    Problem(Diagnostic),
}

impl<'a> Out<'a> {
    /// An output made while another is: who wrote what, and the problems,
    /// are checked when the other takes it in with [`Out::absorb`], as if
    /// it had been made after the other.
    pub(super) fn deferred() -> Out<'a> {
        Out {
            log: Some(Vec::new()),
            ..Out::default()
        }
    }

    /// Takes in `later`, a deferred output made beside this one: its files
    /// replace this one's at the same paths, and its claims and problems
    /// are replayed here in order, so the clashes and problems reported are
    /// those of making it after this one.
    pub(super) fn absorb(&mut self, later: Out<'a>) {
        let Output {
            files,
            copies,
            keys,
            kept,
        } = later.output;
        self.output.files.extend(files);
        self.output.copies.extend(copies);
        self.output.keys.extend(keys);
        self.output.kept.extend(kept);
        self.problems.extend(later.problems);
        for logged in later.log.into_iter().flatten() {
            match logged {
                Logged::Claim(file, owner) => self.claim(&file, owner),
                Logged::Problem(d) => self.problem(d),
            }
        }
    }

    fn add_file(
        &mut self,
        file: String,
        bytes: impl Into<Vec<u8>>,
        owner: impl Into<Cow<'a, Path>>,
    ) {
        self.claim(&file, owner.into());
        self.output.add(file, bytes);
    }

    /// Notes who writes `file`, reporting a clash with an earlier writer.
    pub(super) fn claim(&mut self, file: &str, owner: Cow<'a, Path>) {
        if let Some(log) = &mut self.log {
            log.push(Logged::Claim(file.to_string(), owner));
            return;
        }
        let diagnostic = |prev: &Path, owner: &Path| {
            Diagnostic::new(owner, format!("`{file}` is also written by `{}`", prev.display()))
                .help("give one of them another path (front-matter `slug` or `path`, or rename the section or taxonomy term)")
        };
        match self.owners.entry(file.to_string()) {
            Entry::Vacant(v) => {
                v.insert(owner);
            }
            Entry::Occupied(mut o) => {
                let d = diagnostic(o.get(), &owner);
                o.insert(owner);
                self.problems.push(d);
            }
        }
    }

    /// Adds what [`super::ctx::Ctx::make`] made: the output file and how.
    pub(super) fn add_made(
        &mut self,
        (file, made): (String, Made),
        owner: impl Into<Cow<'a, Path>>,
    ) {
        let owner = owner.into();
        match made {
            Made::Fresh(Ok(html), key) => {
                if let Some(key) = key {
                    self.output.keys.insert(file.clone(), key);
                }
                self.add_file(file, html, owner);
            }
            Made::Fresh(Err(d), _) => self.problem(d),
            Made::Kept(kept) => {
                self.claim(&file, owner);
                self.output.kept.insert(file, kept);
            }
        }
    }

    /// Records a problem once.
    pub(super) fn problem(&mut self, d: Diagnostic) {
        if let Some(log) = &mut self.log {
            log.push(Logged::Problem(d));
            return;
        }
        if !self.problems.contains(&d) {
            self.problems.push(d);
        }
    }

    pub(super) fn finish(mut self) -> Result<Output> {
        if self.problems.is_empty() {
            Ok(self.output)
        } else {
            self.problems.dedup();
            Err(Error::Site(self.problems))
        }
    }
}
