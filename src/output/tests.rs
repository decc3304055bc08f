//! Tests of writing outputs atomically and incrementally.

use super::manifest::{digest, Manifest};
use super::*;
use std::path::Path;

#[test]
fn url_paths_map_to_files() {
    assert_eq!(Output::file_for_url_path("/"), "index.html");
    assert_eq!(Output::file_for_url_path("/news/a/"), "news/a/index.html");
    assert_eq!(Output::file_for_url_path("/atom.xml"), "atom.xml");
}

#[test]
fn swap_replaces_old_site_and_leaves_no_temp_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("public");
    std::fs::create_dir_all(out.join("old")).unwrap();
    std::fs::write(out.join("old/index.html"), "old").unwrap();
    let mut o = Output::default();
    o.add("index.html", "new");
    write_atomically(&o, &out).unwrap();
    assert_eq!(
        std::fs::read_to_string(out.join("index.html")).unwrap(),
        "new"
    );
    assert!(!out.join("old").exists());
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("public")]);
}

fn site(files: &[(&str, &str)]) -> Output {
    let mut o = Output::default();
    for (p, b) in files {
        o.add(*p, *b);
    }
    o
}

#[test]
fn new_keys_of_unchanged_files_replace_the_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("public");
    let keyed = |key: u128| {
        let mut o = site(&[("index.html", "home"), ("a/index.html", "a")]);
        o.keys.insert("index.html".into(), key);
        o
    };
    write_atomically(&keyed(1), &out).unwrap();
    // Same bytes, new key (say, a template edit that changed nothing):
    // no file is written, but the next build must find the new key.
    let stats = write_atomically(&keyed(2), &out).unwrap();
    assert_eq!((stats.written, stats.unchanged, stats.full), (0, 2, false));
    let manifest = Manifest::read(&out).unwrap();
    assert_eq!(manifest.files["index.html"].key, Some(2));
    assert_eq!(manifest.files["a/index.html"].key, None);
    assert_eq!(leftovers(tmp.path()), vec!["public"]);
}

#[cfg(unix)]
fn inode(p: &Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap())
}

fn leftovers(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn digest_tells_small_changes_apart() {
    let a = digest(b"<p>Hello, world.</p>\n");
    assert_eq!(a, digest(b"<p>Hello, world.</p>\n"));
    assert_ne!(a, digest(b"<p>Hello, world!</p>\n"));
    assert_ne!(digest(b""), digest(b"\0"));
    let long = "x".repeat(1000);
    let mut changed = long.clone().into_bytes();
    changed[517] = b'y';
    assert_ne!(digest(long.as_bytes()), digest(&changed));
}

#[test]
#[cfg(unix)]
fn unchanged_files_are_not_rewritten() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("public");
    let first = site(&[
        ("index.html", "home"),
        ("news/a/index.html", "a"),
        ("news/b/index.html", "b"),
    ]);
    assert!(write_atomically(&first, &out).unwrap().full);
    assert!(out.join(MANIFEST).is_file());
    let a = out.join("news/a/index.html");
    let b = out.join("news/b/index.html");
    let (ino_a, mtime_a) = (
        inode(&a),
        std::fs::metadata(&a).unwrap().modified().unwrap(),
    );
    let ino_b = inode(&b);

    let second = site(&[
        ("index.html", "home"),
        ("news/a/index.html", "a"),
        ("news/b/index.html", "b, edited"),
    ]);
    let stats = write_atomically(&second, &out).unwrap();
    assert_eq!(
        stats,
        WriteStats {
            written: 1,
            unchanged: 2,
            removed: 0,
            full: false
        }
    );
    // The same file, never reopened: same inode, same mtime.
    assert_eq!(inode(&a), ino_a);
    assert_eq!(std::fs::metadata(&a).unwrap().modified().unwrap(), mtime_a);
    assert_ne!(inode(&b), ino_b);
    assert_eq!(std::fs::read_to_string(&b).unwrap(), "b, edited");

    // Nothing changed: nothing written, not even the manifest.
    let manifest_ino = inode(&out.join(MANIFEST));
    let stats = write_atomically(&second, &out).unwrap();
    assert_eq!((stats.written, stats.unchanged), (0, 3));
    assert_eq!(inode(&out.join(MANIFEST)), manifest_ino);
    assert_eq!(leftovers(tmp.path()), vec!["public"]);
}

#[test]
fn files_no_longer_made_are_removed_with_their_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("public");
    write_atomically(
        &site(&[("index.html", "home"), ("old/deep/index.html", "old")]),
        &out,
    )
    .unwrap();
    let stats = write_atomically(
        &site(&[("index.html", "home"), ("new/index.html", "new")]),
        &out,
    )
    .unwrap();
    assert_eq!((stats.written, stats.removed, stats.full), (1, 1, false));
    assert!(!out.join("old").exists());
    assert_eq!(
        std::fs::read_to_string(out.join("new/index.html")).unwrap(),
        "new"
    );
    assert_eq!(leftovers(&out), vec![MANIFEST, "index.html", "new"]);
    assert_eq!(leftovers(tmp.path()), vec!["public"]);
}

#[test]
fn a_file_edited_by_hand_is_written_again() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("public");
    let o = site(&[("index.html", "home")]);
    write_atomically(&o, &out).unwrap();
    // Same length, other bytes, a later mtime: the manifest no longer vouches for it.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(out.join("index.html"), "HOME").unwrap();
    let stats = write_atomically(&o, &out).unwrap();
    assert_eq!(stats.written, 1);
    assert_eq!(
        std::fs::read_to_string(out.join("index.html")).unwrap(),
        "home"
    );
}

#[test]
fn a_file_where_a_folder_was_falls_back_to_a_full_write() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("public");
    write_atomically(&site(&[("a/index.html", "a")]), &out).unwrap();
    let stats = write_atomically(&site(&[("a", "now a file")]), &out).unwrap();
    assert!(stats.full);
    assert_eq!(
        std::fs::read_to_string(out.join("a")).unwrap(),
        "now a file"
    );
    assert_eq!(leftovers(tmp.path()), vec!["public"]);
}

#[test]
fn a_file_or_folder_put_by_hand_where_the_build_writes_falls_back_to_a_full_write() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("public");
    let o = site(&[("index.html", "home"), ("tags/blog/index.html", "blog")]);
    write_atomically(&o, &out).unwrap();
    // A folder where a file of the build was.
    std::fs::remove_file(out.join("index.html")).unwrap();
    std::fs::create_dir_all(out.join("index.html/inside")).unwrap();
    let read = |rel: &str| std::fs::read_to_string(out.join(rel)).unwrap();
    let stats = write_atomically(&o, &out).unwrap();
    assert!(stats.full);
    assert_eq!(
        (read("index.html"), read("tags/blog/index.html")),
        ("home".into(), "blog".into())
    );
    // A file where a folder of the build was.
    std::fs::remove_dir_all(out.join("tags/blog")).unwrap();
    std::fs::write(out.join("tags/blog"), "a file").unwrap();
    let stats = write_atomically(&o, &out).unwrap();
    assert!(stats.full);
    assert_eq!(
        (read("index.html"), read("tags/blog/index.html")),
        ("home".into(), "blog".into())
    );
    assert_eq!(leftovers(tmp.path()), vec!["public"]);
}

#[test]
#[cfg(unix)]
fn a_failed_write_leaves_the_old_site_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("public");
    let old = site(&[
        ("index.html", "old home"),
        ("news/a/index.html", "old a"),
        ("gone/index.html", "gone"),
    ]);
    write_atomically(&old, &out).unwrap();
    let snapshot = |dir: &Path| -> Vec<(String, Vec<u8>, u64)> {
        let mut v: Vec<_> = walkdir::WalkDir::new(dir)
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                (
                    e.path().strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(e.path()).unwrap(),
                    inode(e.path()),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = snapshot(&out);

    // A build whose second half cannot be written: the copy's source is missing.
    let mut new = site(&[
        ("index.html", "new home"),
        ("news/a/index.html", "new a"),
        ("news/b/index.html", "new b"),
    ]);
    new.copies
        .insert("style.css".into(), tmp.path().join("missing.css"));
    assert!(write_atomically(&new, &out).is_err());
    assert_eq!(snapshot(&out), before);

    // A failure while files are being replaced (a folder in the way of a
    // new file) is undone too: every file back, the manifest back.
    let mut new = site(&[
        ("index.html", "new home"),
        ("news/a/index.html", "new a"),
        ("zz/index.html", "new z"),
    ]);
    new.add("news/b/index.html", "new b");
    std::fs::create_dir_all(out.join("zz/index.html")).unwrap();
    std::fs::write(out.join("zz/index.html/keep"), "x").unwrap();
    let before = snapshot(&out);
    assert!(write_atomically(&new, &out).is_err());
    assert_eq!(snapshot(&out), before);
    assert!(!out.join("news/b").exists());
    let names = leftovers(tmp.path());
    assert_eq!(names, vec!["public"], "no staging folder is left behind");
    // And the next good build still knows what it wrote.
    std::fs::remove_dir_all(out.join("zz")).unwrap();
    let stats = write_atomically(&old, &out).unwrap();
    assert_eq!((stats.full, stats.written), (false, 0));
    assert_eq!(
        std::fs::read_to_string(out.join("index.html")).unwrap(),
        "old home"
    );
}

#[test]
fn copies_win_over_rendered_files_and_are_skipped_when_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("style.css");
    std::fs::write(&src, "body{}").unwrap();
    let out = tmp.path().join("public");
    let mut o = site(&[("style.css", "rendered"), ("index.html", "home")]);
    o.copies.insert("style.css".into(), src.clone());
    write_atomically(&o, &out).unwrap();
    assert_eq!(
        std::fs::read_to_string(out.join("style.css")).unwrap(),
        "body{}"
    );
    let stats = write_atomically(&o, &out).unwrap();
    assert_eq!((stats.written, stats.unchanged), (0, 2));
}
