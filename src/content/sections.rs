//! Sections: made for every folder of pages, linked, filled in order.

use super::paths::{parent_dir, section_path, title_from_dir};
use super::{sort_pages, Content, Page, Section};
use crate::error::Diagnostic;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// Makes sure every folder holding pages has a section, and links parents.
pub(super) fn build_sections(sections: &mut BTreeMap<String, Section>, pages: &[Box<Page>]) {
    // Each page's section, without a string per page: ten thousand pages
    // are in a handful of sections.
    let mut needed: BTreeSet<String> = BTreeSet::new();
    for p in pages {
        if !needed.contains(&p.section) {
            needed.insert(p.section.clone());
        }
    }
    needed.extend(sections.keys().cloned());
    needed.insert(String::new());
    // Every ancestor of a section is a section too.
    for dir in needed.clone() {
        let mut d = dir.as_str();
        while !d.is_empty() {
            d = parent_dir(d);
            needed.insert(d.to_string());
        }
    }
    for dir in needed {
        sections.entry(dir.clone()).or_insert_with(|| Section {
            file: None,
            title: title_from_dir(&dir),
            path: section_path(&dir),
            dir: dir.clone(),
            description: None,
            sort_by: Default::default(),
            paginate_by: None,
            limit: None,
            weight: 0,
            template: None,
            page_template: None,
            extra: serde_json::Value::Object(Default::default()),
            body: String::new(),
            body_line: 1,
            rendered: Default::default(),
            pages: Vec::new(),
            subsections: Vec::new(),
            parent: None,
        });
    }
    let dirs: Vec<String> = sections.keys().cloned().collect();
    for dir in &dirs {
        if dir.is_empty() {
            continue;
        }
        let parent = parent_dir(dir).to_string();
        sections.get_mut(dir).expect("listed").parent = Some(parent.clone());
        sections
            .get_mut(&parent)
            .expect("ancestors exist")
            .subsections
            .push(dir.clone());
    }
    let order: HashMap<String, (i64, String)> = sections
        .iter()
        .map(|(d, s)| (d.clone(), (s.weight, s.title.to_lowercase())))
        .collect();
    for s in sections.values_mut() {
        s.subsections
            .sort_by(|a, b| order[a].cmp(&order[b]).then(a.cmp(b)));
    }
}

/// Two pages at one address, or an alias over a page, are errors.
pub(super) fn check_unique_paths(
    pages: &[Box<Page>],
    sections: &BTreeMap<String, Section>,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut owners: BTreeMap<&str, &Path> = BTreeMap::new();
    for s in sections.values() {
        if let Some(f) = &s.file {
            owners.insert(&s.path, f);
        }
    }
    let mut sorted: Vec<&Page> = pages.iter().map(|p| &**p).collect();
    sorted.sort_by(|a, b| a.rel.cmp(&b.rel));
    for p in &sorted {
        if let Some(other) = owners.insert(&p.path, &p.file) {
            problems.push(
                Diagnostic::new(
                    &p.file,
                    format!(
                        "two pages have the address {}: this one and `{}`",
                        p.path,
                        other.display()
                    ),
                )
                .help("give one of them another `slug` or `path` in its front matter"),
            );
        }
    }
    for p in &sorted {
        for (alias, line) in &p.aliases {
            if let Some(other) = owners.get(alias.as_str()) {
                problems.push(
                    Diagnostic::new(
                        &p.file,
                        format!("alias {alias} is the address of `{}`", other.display()),
                    )
                    .at_line(*line)
                    .help("remove the alias, or move the other page"),
                );
            }
        }
    }
    let mut alias_owner: BTreeMap<&str, &Path> = BTreeMap::new();
    for p in &sorted {
        for (alias, line) in &p.aliases {
            if let Some(other) = alias_owner.insert(alias, &p.file) {
                if other != p.file {
                    problems.push(
                        Diagnostic::new(&p.file, format!("alias {alias} is also an alias of `{}`", other.display()))
                            .at_line(*line)
                            .help("an old address can redirect to one page only: remove one of the aliases"),
                    );
                }
            }
        }
    }
    problems
}

/// Fills each section's page list, in the section's order.
pub(super) fn assign_pages(content: &mut Content) {
    let mut by_section: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, p) in content.pages.iter().enumerate() {
        by_section.entry(p.section.clone()).or_default().push(i);
    }
    for (dir, mut idx) in by_section {
        let section = content
            .sections
            .get_mut(&dir)
            .expect("built for every page");
        sort_pages(&content.pages, &mut idx, section.sort_by);
        section.pages = idx;
    }
}
