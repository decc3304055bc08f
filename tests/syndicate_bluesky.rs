//! `herald syndicate` against the real Bluesky reference PDS (`@atproto/pds`
//! from npm, with a PLC), started on loopback by `.ci/run` through
//! `tests/support/bluesky-pds.sh start`.
//!
//! Each test creates its own account, syndicates a fixture site, and reads
//! the records back from the PDS. Without a reachable PDS the tests fail
//! under CI (CI=true) and are skipped, loudly, on a developer's machine.

#[path = "support/syndicate_site.rs"]
mod syndicate_site;

use herald::commands::syndicate::{format_summary, syndicate, Crash, Outcome};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use syndicate_site::{assert_no_secret, SynSite, EMOJI_TITLE, PNG};

fn pds_url() -> String {
    std::env::var("HERALD_TEST_PDS_URL").unwrap_or_else(|_| "http://localhost:2583".into())
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Whether the PDS answers; fails the test under CI when it does not.
fn pds_available() -> bool {
    let url = format!("{}/xrpc/_health", pds_url());
    let ok = client()
        .get(&url)
        .timeout(Duration::from_secs(3))
        .send()
        .is_ok_and(|r| r.status().is_success());
    if ok {
        return true;
    }
    let msg = format!(
        "the Bluesky PDS is not reachable at {} — run `.ci/run`, or `tests/support/bluesky-pds.sh start`, before `cargo test`",
        pds_url()
    );
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!!!!\n!!! SKIPPED (CI is not set): {msg}\n!!!!!!!!!!\n");
    false
}

struct Account {
    handle: String,
    did: String,
    password: String,
    env: String,
}

/// A new account with a unique handle; its password in a unique variable.
fn account() -> Account {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 1_000_000_000;
    let name = format!("h{stamp}x{}x{n}", std::process::id());
    let password = format!("app-pass-{name}-z9");
    let resp: Value = client()
        .post(format!("{}/xrpc/com.atproto.server.createAccount", pds_url()))
        .json(&json!({ "handle": format!("{name}.test"), "email": format!("{name}@example.invalid"), "password": password }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let did = resp["did"]
        .as_str()
        .unwrap_or_else(|| panic!("createAccount: {resp}"))
        .to_string();
    let env = format!("HT_BSKY_{}", name.to_uppercase());
    std::env::set_var(&env, &password);
    Account {
        handle: format!("{name}.test"),
        did,
        password,
        env,
    }
}

fn site_for(a: &Account) -> SynSite {
    SynSite::new(&format!(
        "[networks.bluesky]\nkind = \"bluesky\"\npds = \"{}\"\nhandle = \"{}\"\npassword_env = \"{}\"\ntimeout = 20\n",
        pds_url(),
        a.handle,
        a.env
    ))
}

fn records(a: &Account) -> Vec<Value> {
    let v: Value = client()
        .get(format!(
            "{}/xrpc/com.atproto.repo.listRecords?repo={}&collection=app.bsky.feed.post&limit=100",
            pds_url(),
            a.did
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["records"].as_array().cloned().unwrap_or_default()
}

fn record(a: &Account, rkey: &str) -> Value {
    client()
        .get(format!(
            "{}/xrpc/com.atproto.repo.getRecord?repo={}&collection=app.bsky.feed.post&rkey={rkey}",
            pds_url(),
            a.did
        ))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

fn rkey_of(entry: &str, date: &str) -> String {
    herald::syndicate::bluesky::tid(entry, &chrono::DateTime::parse_from_rfc3339(date).unwrap())
}

#[test]
fn posts_records_with_byte_offset_facets_and_a_link_card_then_nothing_again() {
    if !pds_available() {
        return;
    }
    let a = account();
    let site = site_for(&a);
    let report = syndicate(&site.options()).unwrap();
    let summary = format_summary(&report);
    assert!(!report.failed(), "{summary}");
    assert_eq!(
        report.count(|o| matches!(o, Outcome::Posted(_))),
        2,
        "{summary}"
    );
    assert_eq!(records(&a).len(), 2);

    // The entry with non-ASCII text and emoji.
    let rkey = rkey_of("news/2026-10-06-zurich.md", "2026-10-06T00:00:00Z");
    let got = record(&a, &rkey);
    let rec = &got["value"];
    let text = rec["text"].as_str().unwrap();
    assert!(text.starts_with(EMOJI_TITLE), "{text}");
    assert!(text.contains("👩‍🔧"), "{text}");
    assert_eq!(rec["createdAt"], "2026-10-06T00:00:00.000Z");
    assert_eq!(rec["langs"], json!(["en"]));
    let bytes = text.as_bytes();
    let facets = rec["facets"].as_array().unwrap();
    let slice = |f: &Value| {
        let (s, e) = (
            f["index"]["byteStart"].as_u64().unwrap() as usize,
            f["index"]["byteEnd"].as_u64().unwrap() as usize,
        );
        String::from_utf8(bytes[s..e].to_vec()).expect("facet offsets fall on UTF-8 boundaries")
    };
    let link = facets
        .iter()
        .find(|f| f["features"][0]["$type"] == "app.bsky.richtext.facet#link")
        .unwrap();
    assert_eq!(
        link["features"][0]["uri"],
        "https://news.example.com/news/zurich/"
    );
    assert_eq!(slice(link), "https://news.example.com/news/zurich/");
    let tags: Vec<(String, String)> = facets
        .iter()
        .filter(|f| f["features"][0]["$type"] == "app.bsky.richtext.facet#tag")
        .map(|f| {
            (
                slice(f),
                f["features"][0]["tag"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        tags,
        vec![
            ("#dispatch".to_string(), "dispatch".to_string()),
            ("#FieldService".to_string(), "FieldService".to_string()),
            ("#Größe".to_string(), "Größe".to_string()),
        ]
    );
    // The byte offsets differ from character offsets here: the test means something.
    let start = link["index"]["byteStart"].as_u64().unwrap() as usize;
    assert_ne!(start, text[..start].chars().count());
    assert_eq!(rec["embed"]["$type"], "app.bsky.embed.external");
    assert_eq!(
        rec["embed"]["external"]["uri"],
        "https://news.example.com/news/zurich/"
    );
    assert_eq!(rec["embed"]["external"]["title"], EMOJI_TITLE);
    assert!(rec["embed"]["external"].get("thumb").is_none());

    // The entry with an image: a link card with the uploaded thumbnail.
    let board = record(
        &a,
        &rkey_of("news/2026-11-02-board/index.md", "2026-11-02T00:00:00Z"),
    );
    let thumb = &board["value"]["embed"]["external"]["thumb"];
    assert_eq!(thumb["$type"], "blob");
    assert_eq!(thumb["mimeType"], "image/png");
    assert_eq!(thumb["size"], PNG.len());
    let cid = thumb["ref"]["$link"].as_str().unwrap();
    let blob = client()
        .get(format!(
            "{}/xrpc/com.atproto.sync.getBlob?did={}&cid={cid}",
            pds_url(),
            a.did
        ))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(&blob[..], PNG, "the blob is the entry's image");
    assert_eq!(
        board["value"]["embed"]["external"]["description"],
        "A board for dispatchers."
    );

    // The ledger points at the posts.
    let ledger = site.ledger();
    assert!(
        ledger.contains(&format!(
            "id = \"at://{}/app.bsky.feed.post/{rkey}\"",
            a.did
        )),
        "{ledger}"
    );
    assert!(
        ledger.contains(&format!(
            "url = \"https://bsky.app/profile/{}/post/{rkey}\"",
            a.handle
        )),
        "{ledger}"
    );

    // Again, through the real binary: nothing new.
    let out = site.herald(&["syndicate"], &[(a.env.as_str(), a.password.as_str())]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("0 posted, 0 failed; 2 already posted"),
        "{stdout}"
    );
    assert_eq!(records(&a).len(), 2);
    assert_no_secret(
        &a.password,
        &[summary.as_bytes(), &out.stdout, &out.stderr],
        &site,
    );
}

#[test]
fn a_crash_between_send_and_record_creates_nothing_new() {
    if !pds_available() {
        return;
    }
    let a = account();
    let site = site_for(&a);
    let mut o = site.options();
    o.crash_after_send = Some(Crash::Return);
    assert!(syndicate(&o)
        .unwrap_err()
        .to_string()
        .contains("simulated crash"));
    assert_eq!(records(&a).len(), 1, "the first post went out");
    assert!(site.ledger().contains("status = \"intent\""));

    let report = syndicate(&site.options()).unwrap();
    assert!(!report.failed(), "{}", format_summary(&report));
    assert_eq!(
        report.count(|o| matches!(o, Outcome::Reconciled(_))),
        1,
        "{}",
        format_summary(&report)
    );
    assert_eq!(report.count(|o| matches!(o, Outcome::Posted(_))), 1);
    assert_eq!(records(&a).len(), 2, "no second copy of the first post");
    assert!(!site.ledger().contains("status = \"intent\""));
}

#[test]
fn even_with_the_ledger_lost_a_retry_rewrites_the_same_record() {
    if !pds_available() {
        return;
    }
    let a = account();
    let site = site_for(&a);
    assert!(!syndicate(&site.options()).unwrap().failed());
    let rkey = rkey_of("news/2026-10-06-zurich.md", "2026-10-06T00:00:00Z");
    let before = record(&a, &rkey)["cid"].clone();
    // The worst case: the ledger is gone (a crash before it was ever committed).
    std::fs::remove_file(site.ledger_path()).unwrap();
    let out = site.herald(&["syndicate"], &[(a.env.as_str(), a.password.as_str())]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        records(&a).len(),
        2,
        "putRecord under the derived key: still one post per entry"
    );
    assert_eq!(
        record(&a, &rkey)["cid"],
        before,
        "the record is byte-identical (same CID)"
    );
    assert_no_secret(&a.password, &[&out.stdout, &out.stderr], &site);
}

#[test]
fn a_wrong_app_password_names_the_variable_and_is_not_printed() {
    if !pds_available() {
        return;
    }
    let a = account();
    let site = site_for(&a);
    let wrong = "wrong-app-password-77d1";
    let out = site.herald(&["syndicate"], &[(a.env.as_str(), wrong)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(&a.env), "{stdout}");
    assert!(records(&a).is_empty());
    assert_no_secret(wrong, &[&out.stdout, &out.stderr], &site);
}

#[test]
fn the_real_binary_killed_after_sending_creates_nothing_new_on_the_next_run() {
    if !pds_available() {
        return;
    }
    let a = account();
    let site = site_for(&a);
    let secret = (a.env.as_str(), a.password.as_str());
    let out = site.herald(
        &["syndicate"],
        &[secret, ("HERALD_TEST_CRASH_AFTER_SEND", "1")],
    );
    assert!(!out.status.success(), "the process was aborted");
    assert_eq!(records(&a).len(), 1);
    assert!(site.ledger().contains("status = \"intent\""));
    let out = site.herald(&["syndicate"], &[secret]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("found posted"), "{stdout}");
    assert!(
        stdout.contains("1 posted, 1 found posted by an earlier run, 0 failed"),
        "{stdout}"
    );
    assert_eq!(records(&a).len(), 2);
    assert_no_secret(&a.password, &[&out.stdout, &out.stderr], &site);
}
