//! The CLI as a user meets it: init, new, build, check.

use crate::support::*;
use std::process::Command;

fn herald(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn init_then_new_then_build_works_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let out = herald(tmp.path(), &["init", "site"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let site = tmp.path().join("site");
    assert!(site.join("themes/default/templates/page.html").exists());

    let out = herald(&site, &["new", "Our spring release"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rel = stdout.split_whitespace().nth(1).unwrap();
    let text = std::fs::read_to_string(site.join(rel)).unwrap();
    assert!(
        text.starts_with("+++\ntitle = \"Our spring release\"\n"),
        "{text}"
    );
    assert!(text.contains("draft = true"));

    let out = herald(&site, &["build"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(site.join("public/index.html").exists());
    assert!(site.join("public/news/welcome/index.html").exists());
    // What the build left beside the sources is kept out of git.
    let ignored = std::fs::read_to_string(site.join(".gitignore")).unwrap();
    for left in ["public", ".herald-cache"] {
        assert!(site.join(left).is_dir(), "{left}");
        assert!(
            ignored.lines().any(|l| l == format!("/{left}")),
            "{ignored}"
        );
    }
    assert!(
        !site.join("public/news/our-spring-release").exists(),
        "the new entry is a draft"
    );

    let again = herald(&site, &["init"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a site"));
}

#[test]
fn new_refuses_to_overwrite() {
    let site = TestSite::empty();
    assert!(site.herald(&["new", "Same"]).status.success());
    let out = site.herald(&["new", "Same"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("an entry with this name already exists"));
}

#[test]
fn outside_a_site_the_error_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let out = herald(tmp.path(), &["build"]);
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.starts_with("error: site.toml: no site configuration here\n  help: run Herald in the folder that holds site.toml"), "{e}");
}

#[test]
fn build_output_dir_flag() {
    let site = TestSite::with(&[("content/a.md", &page("title = \"A\"", ""))]);
    let out = site.herald(&["build", "--output-dir", "elsewhere"]);
    assert!(out.status.success());
    assert!(site.root().join("elsewhere/a/index.html").exists());
    assert!(!site.exists("a/index.html"));
}
