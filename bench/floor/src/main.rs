//! The floor: `floor CONTENT_DIR OUT_DIR` reads every `*.md` in CONTENT_DIR,
//! drops its `+++` front matter, renders the body with pulldown-cmark and
//! writes `OUT_DIR/<stem>/index.html`, in parallel on every core. No
//! templates, no lists, no feeds: what no generator can go below.
//!
//! `floor --notice SITE_DIR OUTPUT_LIST` is the floor of a rebuild that
//! notices every change: it walks SITE_DIR/content, then `stat`s every file
//! found there and every file OUTPUT_LIST names (one path per line, relative
//! to SITE_DIR; a build's outputs), on every core, and writes nothing. A
//! rebuild that trusted neither its inputs nor its outputs to be as it left
//! them cannot do less: the cost of starting a process and asking the kernel.

use pulldown_cmark::{html, Options, Parser};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, site, list] = args.as_slice() {
        if flag == "--notice" {
            return notice(Path::new(site), Path::new(list));
        }
    }
    let [_, content, out] = args.as_slice() else {
        eprintln!("usage: floor CONTENT_DIR OUT_DIR | floor --notice SITE_DIR OUTPUT_LIST");
        std::process::exit(2);
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(content)
        .expect("read content dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .filter(|p| !p.file_name().is_some_and(|n| n == "_index.md"))
        .collect();
    files.sort();
    let out = Path::new(out);
    // Folders first (as a generator does), then the files in parallel.
    for f in &files {
        std::fs::create_dir_all(out.join(f.file_stem().unwrap())).expect("create dir");
    }
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_SMART_PUNCTUATION;
    files.par_iter().for_each(|f| {
        let text = std::fs::read_to_string(f).expect("read post");
        let body = match text.strip_prefix("+++") {
            Some(rest) => rest.split_once("\n+++").map_or(rest, |(_, b)| b),
            None => &text,
        };
        let mut page = String::with_capacity(body.len() * 3 / 2 + 64);
        page.push_str("<!doctype html>\n<html><body>\n");
        html::push_html(&mut page, Parser::new_ext(body, opts));
        page.push_str("</body></html>\n");
        let dest = out.join(f.file_stem().unwrap()).join("index.html");
        std::fs::write(&dest, page).expect("write page");
    });
    println!("floor: {} pages", files.len());
}

/// `--notice`: see the top of this file.
fn notice(site: &Path, list: &Path) {
    let mut files = Vec::new();
    let mut folders = vec![site.join("content")];
    while let Some(dir) = folders.pop() {
        for entry in std::fs::read_dir(&dir).expect("read content folder") {
            let entry = entry.expect("read content folder");
            match entry.file_type().expect("file type").is_dir() {
                true => folders.push(entry.path()),
                false => files.push(entry.path()),
            }
        }
    }
    let inputs = files.len();
    let listed = std::fs::read_to_string(list).expect("read output list");
    files.extend(listed.lines().filter(|l| !l.is_empty()).map(|l| site.join(l)));
    let found = files
        .par_iter()
        .filter(|f| std::fs::symlink_metadata(f).is_ok())
        .count();
    println!("floor: {found} of {} files there ({inputs} in content/)", files.len());
}
