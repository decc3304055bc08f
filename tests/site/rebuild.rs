//! Rebuilds: a build over an earlier one keeps what did not change, and
//! gives exactly the bytes a build from scratch gives.

use crate::support::*;
use std::path::Path;

fn blog() -> TestSite {
    TestSite::with(&[
        ("content/_index.md", &page("title = \"Home\"", "Welcome.")),
        ("content/news/_index.md", &page("title = \"News\"", "")),
        (
            "content/news/2026-01-10-first.md",
            &page(
                "title = \"First\"\n[taxonomies]\ntags = [\"Launch\"]",
                "One, see [the second](@/news/2026-02-10-second.md).\n\n<!-- more -->\n\nMore of one.",
            ),
        ),
        (
            "content/news/2026-02-10-second.md",
            &page("title = \"Second\"\n[taxonomies]\ntags = [\"Launch\", \"API\"]", "## Two\n\nTwo."),
        ),
        (
            "content/news/2026-03-10-third.md",
            &page("title = \"Third\"", "Three."),
        ),
        (
            "content/about.md",
            &page("title = \"About\"", "Us. Read [the second](@/news/2026-02-10-second.md)."),
        ),
    ])
}

/// The output folder without the manifest (its mtimes differ by nature).
fn output(site: &TestSite) -> Vec<(String, Vec<u8>)> {
    snapshot(&site.public(""))
        .into_iter()
        .filter(|(p, _)| p != ".herald-manifest")
        .collect()
}

/// What a build of the same site from scratch (no output folder, no cache)
/// writes.
fn from_scratch(site: &TestSite) -> Vec<(String, Vec<u8>)> {
    let fresh = TestSite {
        dir: tempfile::tempdir().unwrap(),
    };
    for e in walkdir::WalkDir::new(site.root())
        .into_iter()
        .filter_entry(|e| {
            let n = e.file_name().to_string_lossy();
            n != "public" && n != ".herald-cache"
        })
    {
        let e = e.unwrap();
        let target = fresh
            .root()
            .join(e.path().strip_prefix(site.root()).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
    fresh.build_ok();
    output(&fresh)
}

fn assert_same_as_from_scratch(site: &TestSite, after: &str) {
    let rebuilt = output(site);
    let fresh = from_scratch(site);
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&rebuilt),
        names(&fresh),
        "after {after}: not the same files"
    );
    for ((path, a), (_, b)) in rebuilt.iter().zip(&fresh) {
        assert!(
            a == b,
            "after {after}: {path} differs from a build from scratch:\n--- rebuilt\n{}\n--- from scratch\n{}",
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        );
    }
}

/// (inode, mtime) of an output file: changes when the file is rewritten.
fn identity(site: &TestSite, rel: &str) -> (u64, std::time::SystemTime) {
    let m = std::fs::metadata(site.public(rel)).unwrap();
    (
        std::os::unix::fs::MetadataExt::ino(&m),
        m.modified().unwrap(),
    )
}

/// A change to a site's sources.
type Edit = dyn Fn(&TestSite);

#[test]
fn every_kind_of_change_rebuilds_to_the_bytes_of_a_fresh_build() {
    let site = blog();
    settle(site.root(), 0);
    site.build_ok();
    let edits: &[(&str, &Edit)] = &[
        ("nothing", &|_| {}),
        ("a body edit of as many words", &|s| {
            s.write(
                "content/news/2026-03-10-third.md",
                page("title = \"Third\"", "Tree."),
            );
        }),
        ("a body edit", &|s| {
            s.write(
                "content/news/2026-03-10-third.md",
                page("title = \"Third\"", "Three, edited.\n\n# A heading"),
            );
        }),
        ("a title edit (lists, neighbours, feeds)", &|s| {
            s.write(
                "content/news/2026-02-10-second.md",
                page(
                    "title = \"Second, renamed\"\n[taxonomies]\ntags = [\"Launch\", \"API\"]",
                    "## Two\n\nTwo.",
                ),
            );
        }),
        ("an updated date (the sitemap's lastmod)", &|s| {
            s.write(
                "content/news/2026-03-10-third.md",
                page(
                    "title = \"Third\"\nupdated = 2026-05-20",
                    "Three, edited.\n\n# A heading",
                ),
            );
        }),
        ("a new entry", &|s| {
            s.write(
                "content/news/2026-04-01-fourth.md",
                page(
                    "title = \"Fourth\"\n[taxonomies]\ntags = [\"API\"]",
                    "Four.",
                ),
            );
        }),
        ("a moved link target", &|s| {
            s.write(
                "content/news/2026-02-10-second.md",
                page(
                    "title = \"Second, renamed\"\nslug = \"two\"\n[taxonomies]\ntags = [\"Launch\", \"API\"]",
                    "## Two\n\nTwo.",
                ),
            );
        }),
        ("a removed entry", &|s| {
            std::fs::remove_file(s.root().join("content/news/2026-03-10-third.md")).unwrap();
        }),
        ("a template edit", &|s| {
            let f = s.root().join("themes/default/templates/page.html");
            let t = std::fs::read_to_string(&f).unwrap();
            std::fs::write(&f, t.replace("<article", "<article data-v=\"2\"")).unwrap();
        }),
        ("a site.toml edit", &|s| {
            let f = s.root().join("site.toml");
            let t = std::fs::read_to_string(&f).unwrap();
            std::fs::write(&f, t.replacen("title = ", "title = \"Renamed\"\n#", 1)).unwrap();
        }),
        ("a file written again with the same text", &|s| {
            let f = s.root().join("content/about.md");
            let t = std::fs::read(&f).unwrap();
            std::fs::write(&f, t).unwrap();
        }),
        ("an entry moved to another folder, text unchanged", &|s| {
            std::fs::create_dir_all(s.root().join("content/updates")).unwrap();
            std::fs::rename(
                s.root().join("content/news/2026-01-10-first.md"),
                s.root().join("content/updates/2026-01-10-first.md"),
            )
            .unwrap();
        }),
        ("an alias", &|s| {
            s.write(
                "content/about.md",
                page(
                    "title = \"About\"\naliases = [\"/us.html/\"]",
                    "Us. Read [the second](@/news/2026-02-10-second.md).",
                ),
            );
        }),
        // A file where a folder was: written afresh, the kept files copied
        // from the old folder.
        ("an alias where a folder was", &|s| {
            s.write(
                "content/about.md",
                page(
                    "title = \"About\"\naliases = [\"/us.html\"]",
                    "Us. Read [the second](@/news/2026-02-10-second.md).",
                ),
            );
        }),
        ("a torn cache", &|s| {
            let dir = s.root().join(".herald-cache");
            for e in std::fs::read_dir(&dir).unwrap() {
                std::fs::write(e.unwrap().path(), b"\x07\0\0\0\0\0\0\0torn").unwrap();
            }
        }),
    ];
    for (round, (what, edit)) in (1..).zip(edits) {
        edit(&site);
        // Unchanged files are taken from the cache unread; the edited ones
        // (settled too, at another time) are read again.
        settle(site.root(), round);
        site.build_ok();
        assert_same_as_from_scratch(&site, what);
    }
}

#[test]
fn a_body_edit_rewrites_only_the_files_that_show_it() {
    let site = blog();
    site.build_ok();
    let page = "news/third/index.html";
    let others = [
        "news/first/index.html",
        "news/index.html",
        "tags/launch/index.html",
        "about/index.html",
    ];
    let before: Vec<_> = others.iter().map(|f| identity(&site, f)).collect();
    let page_before = identity(&site, page);
    std::thread::sleep(std::time::Duration::from_millis(20));
    site.write(
        "content/news/2026-03-10-third.md",
        page_with_body("Three, with a new sentence."),
    );
    site.build_ok();
    assert!(site.read(page).contains("Three, with a new sentence."));
    assert_ne!(
        identity(&site, page),
        page_before,
        "the edited page is rewritten"
    );
    let after: Vec<_> = others.iter().map(|f| identity(&site, f)).collect();
    assert_eq!(
        before, after,
        "pages that do not show the body are left alone"
    );
}

fn page_with_body(body: &str) -> String {
    page("title = \"Third\"", body)
}

#[test]
fn a_title_edit_reaches_lists_and_neighbours() {
    let site = blog();
    site.build_ok();
    site.write(
        "content/news/2026-01-10-first.md",
        page(
            "title = \"First, renamed\"\n[taxonomies]\ntags = [\"Launch\"]",
            "One, see [the second](@/news/2026-02-10-second.md).\n\n<!-- more -->\n\nMore of one.",
        ),
    );
    site.build_ok();
    // Two entries a pager: the oldest is on the second.
    assert!(site
        .read("news/page/2/index.html")
        .contains("First, renamed"));
    assert!(site
        .read("tags/launch/index.html")
        .contains("First, renamed"));
    // The neighbour's link names the new title.
    assert!(site
        .read("news/second/index.html")
        .contains("First, renamed"));
}

#[test]
fn a_moved_link_target_updates_the_page_that_links_to_it() {
    let site = blog();
    site.build_ok();
    assert!(site.read("about/index.html").contains("/news/second/"));
    site.write(
        "content/news/2026-02-10-second.md",
        page("title = \"Second\"\nslug = \"two\"", "Two."),
    );
    site.build_ok();
    // `about` is in no list with it: only the link ties them.
    let about = site.read("about/index.html");
    assert!(about.contains("/news/two/"), "{about}");
    assert!(!about.contains("/news/second/"));
}

#[test]
fn an_image_of_another_size_updates_the_page_that_shows_it() {
    let site = blog();
    site.write(
        "content/news/2026-05-01-photo/index.md",
        page("title = \"Photo\"", "![A photo](photo.png)"),
    );
    site.write("content/news/2026-05-01-photo/photo.png", png(40, 30));
    site.build_ok();
    assert!(site
        .read("news/photo/index.html")
        .contains(r#"width="40" height="30""#));
    site.write("content/news/2026-05-01-photo/photo.png", png(80, 60));
    site.build_ok();
    let html = site.read("news/photo/index.html");
    assert!(html.contains(r#"width="80" height="60""#), "{html}");
    assert_same_as_from_scratch(&site, "an image change");
}

#[test]
fn an_output_file_edited_by_hand_is_written_again() {
    let site = blog();
    site.build_ok();
    let good = site.read("news/first/index.html");
    std::fs::write(site.public("news/first/index.html"), "edited by hand").unwrap();
    std::fs::remove_file(site.public("news/index.html")).unwrap();
    site.build_ok();
    assert_eq!(site.read("news/first/index.html"), good);
    assert!(site.exists("news/index.html"));
}

#[test]
fn pages_of_templates_that_change_by_themselves_are_always_rendered() {
    let site = blog();
    let f = site.root().join("themes/default/templates/page.html");
    let t = std::fs::read_to_string(&f).unwrap();
    // Tera also takes a space before the brackets.
    for calls in [
        "{{ now(timestamp=true, utc=true) }}{{ get_random(end=1000000000) }}",
        "{{ get_random (end=1000000000) }}",
    ] {
        let built = format!("<article data-built=\"{calls}\"");
        std::fs::write(&f, t.replace("<article", &built)).unwrap();
        site.build_ok();
        let a = site.read("news/first/index.html");
        site.build_ok();
        let b = site.read("news/first/index.html");
        assert_ne!(a, b, "a page calling {calls} must not be kept");
    }
}

#[test]
fn the_markdown_cache_lives_in_the_site_folder_and_not_in_the_output() {
    let site = blog();
    site.build_ok();
    assert!(Path::new(&site.root().join(".herald-cache")).is_dir());
    assert!(!site.exists(".herald-cache"));
}

#[test]
fn a_first_build_that_fails_half_way_leaves_nothing_behind() {
    let site = blog();
    // Pages render (and are written as they go) before this one fails.
    site.write("templates/broken.html", "{{ page.extra.missing.deeper }}");
    site.write(
        "content/news/2026-06-01-zz.md",
        page("title = \"Broken\"\ntemplate = \"broken.html\"", "Text."),
    );
    let err = site.build_err();
    assert!(err.contains("broken.html"), "{err}");
    let names: Vec<String> = std::fs::read_dir(site.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("public"))
        .collect();
    assert!(names.is_empty(), "left behind: {names:?}");
    // Fixed, it builds, and matches a build from scratch.
    std::fs::remove_file(site.root().join("content/news/2026-06-01-zz.md")).unwrap();
    site.build_ok();
    assert_same_as_from_scratch(&site, "a failed first build");
}

#[test]
fn a_section_title_edit_reaches_pages_that_show_it() {
    let site = blog();
    // The default theme shows no section title on a page; this one does.
    let f = site.root().join("themes/default/templates/page.html");
    let t = std::fs::read_to_string(&f).unwrap();
    let shown =
        "<p class=\"in\">{% if page.section %}{{ page.section.title }}{% endif %}</p><article";
    std::fs::write(&f, t.replacen("<article", shown, 1)).unwrap();
    site.build_ok();
    assert!(site
        .read("news/third/index.html")
        .contains("<p class=\"in\">News</p>"));
    site.write(
        "content/news/_index.md",
        page("title = \"Company news\"", ""),
    );
    site.build_ok();
    assert!(site
        .read("news/third/index.html")
        .contains("<p class=\"in\">Company news</p>"));
    assert_same_as_from_scratch(&site, "a section title edit");
}

#[test]
fn a_clash_made_by_an_edit_is_found_by_the_rebuild_and_nothing_is_written() {
    // A rebuild makes the pages beside the lists: a page moved onto the
    // tags list's address is still found clashing with it.
    let site = blog();
    site.build().unwrap();
    let before = output(&site);
    site.write(
        "content/about.md",
        page("title = \"About\"\npath = \"tags\"", "Us."),
    );
    assert_eq!(
        site.build_err(),
        "error: site.toml: `tags/index.html` is also written by `content/about.md`\n  help: give one of them another path (front-matter `slug` or `path`, or rename the section or taxonomy term)"
    );
    assert_eq!(output(&site), before, "the output folder is as it was");
}

#[test]
fn an_edit_whose_old_mtime_is_put_back_is_noticed() {
    let site = blog();
    site.write("static/notes.txt", "AAAA\n");
    settle(site.root(), 0);
    site.build_ok();
    // Rewritten in place to the same length, its mtime put back, as
    // `cp -p`, `touch -r` or an unpacked archive leave a file: only its
    // status-change time tells (the clock must have moved on for that).
    std::thread::sleep(std::time::Duration::from_millis(20));
    let put_back = |rel: &str, text: &str| {
        let path = site.root().join(rel);
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::fs::write(&path, text).unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(mtime).unwrap();
    };
    put_back(
        "content/news/2026-03-10-third.md",
        &page("title = \"THIRD\"", "Three."),
    );
    put_back("static/notes.txt", "BBBB\n");
    site.build_ok();
    assert!(site.read("news/third/index.html").contains("THIRD"));
    assert_eq!(site.read("notes.txt"), "BBBB\n");
    assert_eq!(output(&site), from_scratch(&site));
}
