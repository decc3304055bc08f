//! Bad input: every case gets an error naming the file, the line and the fix.
//! The whole text is asserted, since that text is the product here.

use crate::support::*;

fn err_of(files: &[(&str, &str)]) -> String {
    TestSite::with(files).build_err()
}

#[test]
fn missing_front_matter() {
    assert_eq!(
        err_of(&[("content/a.md", "# Hello\n")]),
        "error: content/a.md:1: missing front matter\n  help: start the file with a line `+++`, then `title = \"…\"`, then another `+++` line"
    );
}

#[test]
fn unterminated_front_matter() {
    assert_eq!(
        err_of(&[("content/a.md", "+++\ntitle = \"A\"\n\nHello\n")]),
        "error: content/a.md:1: front matter is never closed\n  help: add a line `+++` after the last front-matter key, before the text"
    );
}

#[test]
fn bad_toml_is_reported_at_the_line_of_the_markdown_file() {
    let e = err_of(&[(
        "content/a.md",
        "+++\ntitle = \"A\"\ndescription = \"unclosed\n+++\n",
    )]);
    assert!(e.starts_with("error: content/a.md:3: "), "{e}");
}

#[test]
fn bad_date() {
    assert_eq!(
        err_of(&[("content/a.md", "+++\ntitle = \"A\"\ndate = \"next week\"\n+++\n")]),
        "error: content/a.md:3: `date` is not a date: `next week`\n  help: write a date like date = 2026-03-04 or a date and time like date = 2026-03-04T09:30:00Z"
    );
}

#[test]
fn impossible_toml_date() {
    let e = err_of(&[(
        "content/a.md",
        "+++\ntitle = \"A\"\n\ndate = 2026-02-30\n+++\n",
    )]);
    assert!(e.starts_with("error: content/a.md:4: "), "{e}");
}

#[test]
fn unknown_front_matter_key_suggests_the_closest() {
    assert_eq!(
        err_of(&[(
            "content/a.md",
            "+++\ntitle = \"A\"\ndecsription = \"x\"\n+++\n"
        )]),
        "error: content/a.md:3: unknown key `decsription`\n  help: did you mean `description`?"
    );
}

#[test]
fn unknown_site_toml_key_suggests_the_closest() {
    let site = TestSite::empty();
    site.write(
        "site.toml",
        format!("{BASE_CONFIG}\n[markdown]\nsmart_punctation = false\n"),
    );
    assert_eq!(
        site.build_err(),
        "error: site.toml:11: unknown key `smart_punctation`\n  help: did you mean `smart_punctuation`?"
    );
}

#[test]
fn missing_title() {
    assert_eq!(
        err_of(&[("content/a.md", "+++\ndate = 2026-01-01\n+++\n")]),
        "error: content/a.md:1: the page has no `title`\n  help: add a line such as title = \"Our spring release\" to the front matter"
    );
}

#[test]
fn two_pages_at_one_address() {
    assert_eq!(
        err_of(&[
            ("content/news/2026-01-01-launch.md", &page("title = \"A\"", "")),
            ("content/news/launch.md", &page("title = \"B\"", "")),
        ]),
        "error: content/news/launch.md: two pages have the address /news/launch/: this one and `content/news/2026-01-01-launch.md`\n  help: give one of them another `slug` or `path` in its front matter"
    );
}

#[test]
fn broken_internal_link_names_its_line() {
    assert_eq!(
        err_of(&[("content/a.md", "+++\ntitle = \"A\"\n+++\nIntro.\n\nSee [b](@/news/b.md).\n")]),
        "error: content/a.md:6: internal link `@/news/b.md` points at no page\n  help: `@/` links name a Markdown file relative to content/, e.g. `@/news/2026-03-04-launch.md`; check the spelling, and that the page is not a draft"
    );
}

#[test]
fn alias_over_an_existing_page() {
    assert_eq!(
        err_of(&[
            ("content/a.md", &page("title = \"A\"", "")),
            ("content/b.md", "+++\ntitle = \"B\"\naliases = [\"/a/\"]\n+++\n"),
        ]),
        "error: content/b.md:3: alias /a/ is the address of `content/a.md`\n  help: remove the alias, or move the other page"
    );
}

#[test]
fn unknown_taxonomy() {
    assert_eq!(
        err_of(&[("content/a.md", "+++\ntitle = \"A\"\n[taxonomies]\ntag = [\"x\"]\n+++\n")]),
        "error: content/a.md:4: unknown taxonomy `tag`\n  help: did you mean `tags`? Otherwise declare it in site.toml: [[taxonomies]] name = \"tag\""
    );
}

#[test]
fn template_syntax_error_names_template_and_line() {
    let site = TestSite::with(&[("content/a.md", &page("title = \"A\"", ""))]);
    site.write("templates/page.html", "<h1>\n{{ page.title }\n</h1>\n");
    let e = site.build_err();
    assert!(
        e.starts_with("error: templates/page.html:2: Failed to parse"),
        "{e}"
    );
}

#[test]
fn template_runtime_error_names_template_and_line() {
    let site = TestSite::with(&[("content/a.md", &page("title = \"A\"", ""))]);
    site.write("templates/page.html", "<h1>\n{{ page.titel }}\n</h1>\n");
    assert_eq!(
        site.build_err(),
        "error: templates/page.html:2: Failed to render 'page.html': Variable `page.titel` not found in context while rendering 'page.html'\n  help: check the variable's name against docs/templates.md; use `| default(value=\"\")` for optional values"
    );
}

#[test]
fn a_template_cannot_publish_a_secret_with_get_env() {
    let site = TestSite::with(&[("content/a.md", &page("title = \"A\"", ""))]);
    let config = format!(
        "{}\n[networks.m]\nkind = \"mastodon\"\ninstance = \"https://m.example\"\ntoken_env = \"HERALD_ERRORS_TEST_TOKEN\"\n",
        BASE_CONFIG
    );
    site.write("site.toml", config);
    site.write(
        "templates/page.html",
        "<h1>\n{{ get_env(name=\"HERALD_ERRORS_TEST_TOKEN\", default=\"\") }}\n</h1>\n",
    );
    std::env::set_var("HERALD_ERRORS_TEST_TOKEN", "s3cret");
    let e = site.build_err();
    assert!(e.starts_with("error: templates/page.html:2: "), "{e}");
    assert!(e.contains("site.toml names it as holding a secret"), "{e}");
    assert!(!e.contains("s3cret"), "{e}");
    assert!(!site.root().join("public").exists(), "nothing is published");
}

#[test]
fn missing_template() {
    assert_eq!(
        err_of(&[("content/a.md", &page("title = \"A\"\ntemplate = \"special.html\"", ""))]),
        "error: content/a.md: template `special.html` not found\n  help: create templates/special.html (or themes/default/templates/special.html), or fix the `template` key"
    );
}

#[test]
fn missing_theme() {
    let site = TestSite::empty();
    site.write("site.toml", format!("theme = \"fancy\"\n{BASE_CONFIG}"));
    assert_eq!(
        site.build_err(),
        "error: site.toml:1: theme `fancy` not found in themes/\n  help: themes here: default"
    );
}

#[test]
fn every_broken_file_is_reported_in_one_run() {
    let e = err_of(&[
        ("content/a.md", "no front matter"),
        ("content/b.md", "+++\ntitle = \"B\"\ndate = \"soon\"\n+++\n"),
        ("content/c.md", &page("title = \"C\"", "[x](@/nope.md)")),
    ]);
    assert!(e.contains("content/a.md:1: missing front matter"), "{e}");
    assert!(e.contains("content/b.md:3: `date` is not a date"), "{e}");
    assert!(
        e.contains("content/c.md:4: internal link `@/nope.md`"),
        "{e}"
    );
    assert!(e.ends_with("3 problems found"), "{e}");
}

#[test]
fn binary_garbage_in_content_is_an_error_not_a_panic() {
    let site = TestSite::empty();
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    for i in 0..40 {
        let len = (i * 37) % 300;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed & 0xff) as u8
            })
            .collect();
        site.write(&format!("content/g{i}.md"), bytes);
    }
    site.write("content/z.md", b"+++\xff\xfe\ntitle = \"x\"\n+++\n");
    site.write("content/y.md", "+++\n+++\n+++\n");
    site.write("content/x.md", "+++\ntitle = [[[\n+++\n");
    let out = site.herald(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("content/z.md:1: this file is not UTF-8 text")
            || stderr.contains("content/z.md:1: missing front matter"),
        "{stderr}"
    );
    let check = site.herald(&["check"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&check.stderr).contains("panicked"));
}

#[test]
fn check_reports_links_to_missing_pages_of_the_site() {
    let site = TestSite::with(&[(
        "content/a.md",
        "+++\ntitle = \"A\"\n+++\n[ok](/tags/) [bad](/nowhere/) [ext](https://other.example/)\n",
    )]);
    let out = site.herald(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: content/a.md:4: link `/nowhere/` points at /nowhere/, which this site does not have\n  help: link to another entry with `@/section/file.md`, or fix the path\n"
    );
    assert!(!site.exists("index.html"), "check writes nothing");
}

#[test]
fn two_outputs_at_one_address_name_both_writers() {
    // A page at the tags list's address, and an alias at a term's: the
    // pages and the lists are made side by side, and both clashes are
    // found as if made one after the other.
    assert_eq!(
        err_of(&[
            (
                "content/a.md",
                "+++\ntitle = \"A\"\npath = \"tags\"\n[taxonomies]\ntags = [\"x\"]\n+++\nHi\n"
            ),
            (
                "content/b.md",
                "+++\ntitle = \"B\"\naliases = [\"/tags/x/\"]\n+++\nHi\n"
            ),
        ]),
        "error: site.toml: `tags/index.html` is also written by `content/a.md`\n  help: give one of them another path (front-matter `slug` or `path`, or rename the section or taxonomy term)\nerror: content/b.md: `tags/x/index.html` is also written by `site.toml`\n  help: give one of them another path (front-matter `slug` or `path`, or rename the section or taxonomy term)\n2 problems found"
    );
}
