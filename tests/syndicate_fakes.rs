//! `herald syndicate` against local fakes of Mastodon and Discourse
//! (tests/support/fake_social.rs: replies built from the official API
//! descriptions, every request recorded, failures on cue): never twice,
//! never lost, never leaked, never a surprise.

#[path = "support/fake_social.rs"]
mod fake_social;
#[path = "support/syndicate_site.rs"]
mod syndicate_site;

use fake_social::{Cue, FakeSocial};
use herald::commands::syndicate::{format_summary, syndicate, Crash, Outcome};
use std::time::{Duration, Instant};
use syndicate_site::{assert_no_secret, SynSite};

/// `[networks.*]` for a Mastodon account and a forum, both on `fake`; the
/// secrets are in environment variables unique to test `n`.
fn networks(fake: &FakeSocial, n: &str, timeout: u64) -> String {
    std::env::set_var(format!("HT_{n}_MASTODON"), &fake.token);
    std::env::set_var(format!("HT_{n}_DISCOURSE"), &fake.api_key);
    format!(
        "[networks.mastodon]\nkind = \"mastodon\"\ninstance = \"{u}\"\ntoken_env = \"HT_{n}_MASTODON\"\nvisibility = \"unlisted\"\ntimeout = {timeout}\n\n[networks.forum]\nkind = \"discourse\"\nurl = \"{u}\"\nusername = \"system\"\napi_key_env = \"HT_{n}_DISCOURSE\"\ncategory = 5\ntimeout = {timeout}\n",
        u = fake.url
    )
}

fn posted(report: &herald::commands::syndicate::SyndicateReport) -> usize {
    report.count(|o| matches!(o, Outcome::Posted(_)))
}

#[test]
fn posts_each_new_entry_once_to_each_network_and_records_it() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "A", 10));
    let report = syndicate(&site.options()).unwrap();
    assert!(!report.failed(), "{}", format_summary(&report));
    // Two entries after `since` (not the old one, the draft or the scheduled one), two networks.
    assert_eq!(posted(&report), 4, "{}", format_summary(&report));
    assert_eq!(report.older_than_since, 1);

    // Mastodon: JSON, an Idempotency-Key, the settings, the entry URL and hashtags.
    let posts = fake.requests_to("POST", "/api/v1/statuses");
    assert_eq!(posts.len(), 2);
    for p in &posts {
        assert!(p
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
        assert!(p.header("idempotency-key").unwrap().starts_with("herald-"));
        assert_eq!(p.json()["visibility"], "unlisted");
        assert_eq!(p.json()["language"], "en");
    }
    let zurich = posts
        .iter()
        .find(|p| p.text().contains("Zürich"))
        .unwrap()
        .json();
    let text = zurich["status"].as_str().unwrap();
    assert!(
        text.contains("https://news.example.com/news/zurich/"),
        "{text}"
    );
    assert!(text.ends_with("#dispatch #FieldService #Größe"), "{text}");
    // The bundle's image went up first, with its alt text.
    let media = fake.requests_to("POST", "/api/v2/media");
    assert_eq!(media.len(), 1);
    assert!(media[0]
        .text()
        .contains("The dispatch board with three technicians' routes"));
    assert!(media[0]
        .header("content-type")
        .unwrap()
        .starts_with("multipart/form-data; boundary="));
    let board = posts
        .iter()
        .find(|p| p.text().contains("dispatch board"))
        .unwrap()
        .json();
    assert_eq!(board["media_ids"].as_array().unwrap().len(), 1);

    // Discourse: looked up by external_id first, then created with links made absolute.
    let topics = fake.topics();
    assert_eq!(topics.len(), 2);
    let (_, title, raw, ext) = topics.iter().find(|t| t.1.contains("Zürich")).unwrap();
    assert_eq!(title, syndicate_site::EMOJI_TITLE);
    assert!(
        raw.contains("[the board](https://news.example.com/news/board/)"),
        "{raw}"
    );
    assert!(
        raw.contains("[pricing](https://news.example.com/pricing/)"),
        "{raw}"
    );
    assert!(
        raw.contains("(https://news.example.com/news/zurich/)"),
        "link back: {raw}"
    );
    let ext = ext.clone().unwrap();
    assert!(
        ext.len() <= 50
            && ext
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{ext}"
    );
    let create = &fake.requests_to("POST", "/posts.json")[0];
    assert_eq!(create.header("api-username"), Some("system"));
    assert_eq!(create.json()["category"], 5);
    assert!(create.json()["embed_url"]
        .as_str()
        .unwrap()
        .starts_with("https://news.example.com/news/"));
    assert_eq!(
        fake.requests_to("GET", &format!("/t/external_id/{ext}.json"))
            .len(),
        1
    );

    // The ledger: sorted, one table per entry and network, all posted.
    let ledger = site.ledger();
    assert!(
        ledger
            .find("[\"news/2026-10-06-zurich.md\".forum]")
            .unwrap()
            < ledger
                .find("[\"news/2026-10-06-zurich.md\".mastodon]")
                .unwrap()
    );
    assert_eq!(ledger.matches("status = \"posted\"").count(), 4, "{ledger}");
    assert!(!ledger.contains("status = \"intent\""), "{ledger}");

    // Again: nothing new is sent.
    let before = fake.requests().len();
    let again = syndicate(&site.options()).unwrap();
    assert_eq!(again.rows.len(), 0, "{}", format_summary(&again));
    assert_eq!(again.already_posted, 4);
    assert_eq!(fake.requests().len(), before, "a second run asks nothing");
    assert_eq!(site.ledger(), ledger);
}

#[test]
fn a_timeout_after_the_server_created_the_post_does_not_post_twice() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "B", 1));
    fake.fail(
        "POST",
        "/api/v1/statuses",
        Cue::SlowAfterWork(Duration::from_secs(3)),
        1,
    );
    fake.fail(
        "POST",
        "/posts.json",
        Cue::SlowAfterWork(Duration::from_secs(3)),
        1,
    );
    let report = syndicate(&site.options()).unwrap();
    assert!(!report.failed(), "{}", format_summary(&report));
    assert_eq!(fake.statuses().len(), 2, "one status per entry");
    assert_eq!(fake.topics().len(), 2, "one topic per entry");
    // The retried status carried the same Idempotency-Key.
    let keys: Vec<String> = fake
        .requests_to("POST", "/api/v1/statuses")
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(keys[0], keys[1]);
    assert_eq!(site.ledger().matches("status = \"posted\"").count(), 4);
}

#[test]
fn server_errors_and_cut_connections_are_survived_without_duplicates() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "C", 5));
    fake.fail("POST", "/api/v1/statuses", Cue::Status(500), 1);
    fake.fail("POST", "/api/v1/statuses", Cue::Status(503), 1);
    fake.fail("POST", "/posts.json", Cue::CutAfterWork, 1);
    fake.fail("GET", "/t/external_id/", Cue::Status(502), 1);
    let report = syndicate(&site.options()).unwrap();
    assert!(!report.failed(), "{}", format_summary(&report));
    assert_eq!(fake.statuses().len(), 2);
    assert_eq!(fake.topics().len(), 2);
    assert_eq!(
        fake.requests_to("POST", "/api/v1/statuses").len(),
        4,
        "two retried after 5xx"
    );
}

#[test]
fn a_429_waits_as_retry_after_says() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "D", 5));
    fake.fail("POST", "/api/v1/statuses", Cue::RateLimit(2), 1);
    let mut o = site.options();
    o.networks = vec!["mastodon".into()];
    let start = Instant::now();
    let report = syndicate(&o).unwrap();
    assert!(!report.failed(), "{}", format_summary(&report));
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "waited {:?}",
        start.elapsed()
    );
    assert_eq!(fake.statuses().len(), 2);
    assert!(
        fake.requests_to("POST", "/posts.json").is_empty(),
        "--network mastodon only"
    );
}

#[test]
fn a_crash_between_send_and_record_is_reconciled_without_posting_again() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "E", 5));
    for network in ["mastodon", "forum"] {
        let mut o = site.options();
        o.networks = vec![network.into()];
        o.crash_after_send = Some(Crash::Return);
        let err = syndicate(&o).unwrap_err().to_string();
        assert!(err.contains("simulated crash"), "{err}");
    }
    // Each network got its first entry, and the ledger says only "intent".
    assert_eq!(fake.statuses().len(), 1);
    assert_eq!(fake.topics().len(), 1);
    let ledger = site.ledger();
    assert_eq!(ledger.matches("status = \"intent\"").count(), 2, "{ledger}");
    assert!(!ledger.contains("status = \"posted\""), "{ledger}");

    // The next run checks first, records what it finds, and sends only the rest.
    let report = syndicate(&site.options()).unwrap();
    assert!(!report.failed(), "{}", format_summary(&report));
    assert_eq!(
        report.count(|o| matches!(o, Outcome::Reconciled(_))),
        2,
        "{}",
        format_summary(&report)
    );
    assert_eq!(posted(&report), 2);
    assert_eq!(fake.statuses().len(), 2, "one per entry, none twice");
    assert_eq!(fake.topics().len(), 2);
    assert_eq!(site.ledger().matches("status = \"posted\"").count(), 4);
}

#[test]
fn the_real_binary_killed_after_sending_posts_nothing_new_on_the_next_run() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "F", 5));
    let env = [
        ("HT_F_MASTODON", fake.token.as_str()),
        ("HT_F_DISCOURSE", fake.api_key.as_str()),
    ];
    let mut crash_env = env.to_vec();
    crash_env.push(("HERALD_TEST_CRASH_AFTER_SEND", "1"));
    let out = site.herald(&["syndicate", "--network", "mastodon"], &crash_env);
    assert!(!out.status.success(), "the process was aborted");
    assert_eq!(fake.statuses().len(), 1);
    assert!(site.ledger().contains("status = \"intent\""));
    let out = site.herald(&["syndicate"], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("found posted"), "{stdout}");
    assert_eq!(fake.statuses().len(), 2);
    assert_eq!(fake.topics().len(), 2);
}

#[test]
fn a_refused_token_stops_that_network_only_names_the_variable_and_leaks_nothing() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "G", 5));
    let wrong = "wrong-token-3f9a1c77e2";
    let out = site.herald(
        &["syndicate"],
        &[("HT_G_MASTODON", wrong), ("HT_G_DISCOURSE", &fake.api_key)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("HT_G_MASTODON"),
        "names the variable to fix: {stdout}"
    );
    assert!(stdout.contains("401"), "{stdout}");
    assert_eq!(fake.topics().len(), 2, "the forum went ahead: {stdout}");
    assert_eq!(fake.statuses().len(), 0);
    assert!(
        stdout.contains("NOT TRIED"),
        "the rest of Mastodon is not tried after a 401: {stdout}"
    );
    assert!(
        !site
            .ledger()
            .contains("[\"news/2026-10-06-zurich.md\".mastodon]"),
        "a refused send leaves no intent"
    );
    assert_no_secret(wrong, &[&out.stdout, &out.stderr], &site);
    assert_no_secret(&fake.api_key, &[&out.stdout, &out.stderr], &site);
}

#[test]
fn a_missing_variable_is_named_and_nothing_is_sent() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "H", 5));
    let out = site.herald(&["syndicate", "--network", "forum"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("the environment variable HT_H_DISCOURSE is not set"),
        "{stdout}"
    );
    assert!(fake.requests().is_empty());
}

#[test]
fn secrets_appear_in_no_output_ledger_or_page() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "I", 5));
    let env = [
        ("HT_I_MASTODON", fake.token.as_str()),
        ("HT_I_DISCOURSE", fake.api_key.as_str()),
    ];
    // A run with failures on the way (errors quote server replies)...
    fake.fail("POST", "/api/v1/statuses", Cue::Status(422), 1);
    let a = site.herald(&["syndicate"], &env);
    let b = site.herald(&["syndicate"], &env);
    let c = site.herald(&["syndicate", "--dry-run"], &env);
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stdout));
    // ...then a build of the site with the ledger's links.
    copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/theme"),
        &site.root().join("themes/default"),
    );
    let d = site.herald(&["build"], &[]);
    assert!(d.status.success(), "{}", String::from_utf8_lossy(&d.stderr));
    for secret in [&fake.token, &fake.api_key] {
        assert_no_secret(
            secret,
            &[
                &a.stdout, &a.stderr, &b.stdout, &b.stderr, &c.stdout, &c.stderr, &d.stdout,
                &d.stderr,
            ],
            &site,
        );
    }
    // The fake did receive them: the test would catch a leak.
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.header("authorization") == Some(&format!("Bearer {}", fake.token))));
}

#[test]
fn build_shows_where_each_entry_was_syndicated() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "J", 5));
    assert!(!syndicate(&site.options()).unwrap().failed());
    copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/theme"),
        &site.root().join("themes/default"),
    );
    let out = site.herald(&["build"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(site.root().join("public/news/zurich/index.html")).unwrap();
    let status = &fake.statuses()[0];
    assert!(
        html.contains(&format!(
            "class=\"u-syndication\" href=\"{}\"",
            status["url"].as_str().unwrap()
        )),
        "{html}"
    );
    assert!(html.contains(">Mastodon</a>"), "{html}");
    assert!(html.contains(">the forum</a>"), "{html}");
    let about = std::fs::read_to_string(site.root().join("public/about/index.html")).unwrap();
    assert!(!about.contains("u-syndication"));
}

#[test]
fn dry_run_prints_each_message_and_sends_and_writes_nothing() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "K", 5));
    // No secrets needed for a dry run.
    let out = site.herald(&["syndicate", "--dry-run"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("── news/2026-10-06-zurich.md → mastodon (mastodon) ──"),
        "{stdout}"
    );
    assert!(stdout.contains("Idempotency-Key: herald-"), "{stdout}");
    assert!(stdout.contains("/ 500 characters"), "{stdout}");
    assert!(
        stdout.contains("  │ https://news.example.com/news/zurich/"),
        "{stdout}"
    );
    assert!(
        stdout.contains("external_id: herald-news-2026-10-06-zurich-"),
        "{stdout}"
    );
    assert!(stdout.contains("image: "), "{stdout}");
    assert!(
        stdout.contains("Dry run: 4 messages would be sent"),
        "{stdout}"
    );
    assert!(fake.requests().is_empty(), "a dry run sends nothing");
    assert!(!site.ledger_path().exists(), "a dry run writes nothing");
}

#[test]
fn old_entries_only_with_backfill_and_front_matter_skip_is_honoured() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "L", 5));
    site.write(
        "content/news/2026-10-20-forum-only.md",
        "+++\ntitle = \"Forum only\"\n[syndicate]\nskip = [\"mastodon\"]\nmessages = { forum = \"A custom forum post.\" }\n+++\nBody.\n",
    );
    let mut o = site.options();
    o.backfill = true;
    let report = syndicate(&o).unwrap();
    assert!(!report.failed(), "{}", format_summary(&report));
    assert_eq!(
        fake.statuses().len(),
        3,
        "zurich, board, old; not forum-only, draft or scheduled"
    );
    assert_eq!(fake.topics().len(), 4);
    assert!(fake.topics().iter().any(|t| t.2 == "A custom forum post."));
    assert!(fake
        .statuses()
        .iter()
        .any(|s| s["content"].as_str().unwrap().contains("An old entry")));
}

#[test]
fn an_unknown_network_in_front_matter_or_flag_is_an_error_with_advice() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "M", 5));
    site.write(
        "content/news/2026-10-21-typo.md",
        "+++\ntitle = \"Typo\"\n[syndicate]\nskip = [\"mastodn\"]\n+++\nBody.\n",
    );
    let err = syndicate(&site.options()).unwrap_err().to_string();
    assert!(
        err.contains("content/news/2026-10-21-typo.md: [syndicate] names network `mastodn`"),
        "{err}"
    );
    assert!(err.contains("did you mean `mastodon`?"), "{err}");
    let mut o = site.options();
    o.networks = vec!["forun".into()];
    site.write(
        "content/news/2026-10-21-typo.md",
        "+++\ntitle = \"Typo\"\n+++\nBody.\n",
    );
    let err = syndicate(&o).unwrap_err().to_string();
    assert!(
        err.contains("--network `forun`") && err.contains("did you mean `forum`?"),
        "{err}"
    );
    assert!(fake.requests().is_empty());
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let target = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Requests as (path, authorization, body).
type XrpcLog = std::sync::Arc<std::sync::Mutex<Vec<(String, String, Vec<u8>)>>>;

/// A bare XRPC server: sessions whose first access token has expired.
fn expiring_pds() -> (String, XrpcLog) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}",
        server.server_addr().to_ip().unwrap().port()
    );
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        for mut req in server.incoming_requests() {
            let mut body = Vec::new();
            let _ = req.as_reader().read_to_end(&mut body);
            let path = req.url().split('?').next().unwrap_or("").to_string();
            let auth = req
                .headers()
                .iter()
                .find(|h| h.field.equiv("authorization"))
                .map(|h| h.value.to_string())
                .unwrap_or_default();
            seen.lock()
                .unwrap()
                .push((path.clone(), auth.clone(), body.clone()));
            let (code, reply) = match path.as_str() {
                "/xrpc/com.atproto.server.createSession" => (
                    200,
                    serde_json::json!({ "accessJwt": "access-1", "refreshJwt": "refresh-1", "did": "did:plc:fake", "handle": "fernhill.test" }),
                ),
                "/xrpc/com.atproto.server.refreshSession" if auth == "Bearer refresh-1" => (
                    200,
                    serde_json::json!({ "accessJwt": "access-2", "refreshJwt": "refresh-2", "did": "did:plc:fake", "handle": "fernhill.test" }),
                ),
                _ if auth == "Bearer access-1" => (
                    400,
                    serde_json::json!({ "error": "ExpiredToken", "message": "Token has expired" }),
                ),
                "/xrpc/com.atproto.repo.uploadBlob" => (
                    200,
                    serde_json::json!({ "blob": { "$type": "blob", "ref": { "$link": "bafkreifake" }, "mimeType": "image/png", "size": body.len() } }),
                ),
                "/xrpc/com.atproto.repo.putRecord" => {
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                    (
                        200,
                        serde_json::json!({ "uri": format!("at://did:plc:fake/app.bsky.feed.post/{}", v["rkey"].as_str().unwrap_or("")), "cid": "bafyfake" }),
                    )
                }
                _ => (400, serde_json::json!({ "error": "InvalidRequest" })),
            };
            let _ = req.respond(
                tiny_http::Response::from_data(serde_json::to_vec(&reply).unwrap())
                    .with_status_code(code),
            );
        }
    });
    (url, log)
}

#[test]
fn bluesky_logs_in_once_per_run_and_refreshes_an_expired_token() {
    let (url, log) = expiring_pds();
    std::env::set_var("HT_N_BSKY", "app-password-n");
    let site = SynSite::new(&format!(
        "[networks.bluesky]\nkind = \"bluesky\"\npds = \"{url}\"\nhandle = \"fernhill.test\"\npassword_env = \"HT_N_BSKY\"\n"
    ));
    let report = syndicate(&site.options()).unwrap();
    assert!(!report.failed(), "{}", format_summary(&report));
    assert_eq!(posted(&report), 2);
    let log = log.lock().unwrap().clone();
    let count = |p: &str| log.iter().filter(|(path, _, _)| path.ends_with(p)).count();
    assert_eq!(count("createSession"), 1, "one login for the whole run");
    assert_eq!(count("refreshSession"), 1);
    // The expired try and the retry sent the same bytes.
    let puts: Vec<&Vec<u8>> = log
        .iter()
        .filter(|(p, _, _)| p.ends_with("putRecord"))
        .map(|(_, _, b)| b)
        .collect();
    assert_eq!(
        puts.len(),
        3,
        "one refused with the expired token, then one per entry"
    );
    assert_eq!(puts[0], puts[1]);
    let rkeys: Vec<String> = puts
        .iter()
        .map(|b| {
            serde_json::from_slice::<serde_json::Value>(b).unwrap()["rkey"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut unique = rkeys.clone();
    unique.dedup();
    assert_eq!(unique.len(), 2, "{rkeys:?}");
    assert_no_secret(
        "app-password-n",
        &[format_summary(&report).as_bytes()],
        &site,
    );
}

#[test]
fn an_image_still_being_processed_is_waited_for_before_the_status() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "O", 5));
    fake.media_processing(2);
    let mut o = site.options();
    o.networks = vec!["mastodon".into()];
    let report = syndicate(&o).unwrap();
    assert!(!report.failed(), "{}", format_summary(&report));
    let polls = fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.url.starts_with("/api/v1/media/"))
        .count();
    assert_eq!(polls, 3, "206, 206, then 200");
    let reqs = fake.requests();
    let last_poll = reqs
        .iter()
        .rposition(|r| r.url.starts_with("/api/v1/media/"))
        .unwrap();
    let board_status = reqs
        .iter()
        .rposition(|r| r.url == "/api/v1/statuses" && r.text().contains("media_ids"))
        .unwrap();
    assert!(last_poll < board_status, "the status waits for the media");
}

#[test]
fn check_reports_a_mistyped_network_key_with_its_line_and_the_fix() {
    let site = SynSite::new(
        "[networks.mastodon]\nkind = \"mastodon\"\ninstance = \"https://m.example\"\ntokn_env = \"HERALD_MASTODON_TOKEN\"\n",
    );
    copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/theme"),
        &site.root().join("themes/default"),
    );
    let out = site.herald(&["check"], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("site.toml:14: unknown key `tokn_env` in [networks.mastodon]"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `token_env`?"), "{stderr}");
}

#[test]
fn the_example_site_checks_without_secrets_and_syndicate_names_the_missing_ones() {
    let root = env!("CARGO_MANIFEST_DIR");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(args)
            .arg("--root")
            .arg(root)
            .env_clear()
            .output()
            .unwrap()
    };
    let dry = run(&["syndicate", "--dry-run"]);
    let stdout = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(stdout.contains("→ bluesky (bluesky)"), "{stdout}");
    // A real run without the variables sends nothing and says what to set
    // (the example site's servers do not exist: nothing is reached).
    let real = run(&["syndicate", "--network", "forum"]);
    let stdout = String::from_utf8_lossy(&real.stdout);
    assert_eq!(real.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("HERALD_DISCOURSE_API_KEY is not set"),
        "{stdout}"
    );
}

#[test]
fn the_instance_limit_and_url_weight_shape_the_status() {
    let fake = FakeSocial::start();
    let site = SynSite::new(&networks(&fake, "Q", 5));
    fake.max_characters(110);
    let mut o = site.options();
    o.networks = vec!["mastodon".into()];
    let report = syndicate(&o).unwrap();
    assert!(!report.failed(), "{}", format_summary(&report));
    for s in fake.statuses() {
        let html = s["content"].as_str().unwrap();
        let text = html
            .trim_start_matches("<p>")
            .trim_end_matches("</p>")
            .replace("<br />", "\n")
            .replace("&amp;", "&")
            .replace("&quot;", "\"");
        let weight = herald::syndicate::message::weight(&text, Some(23));
        assert!(weight <= 110, "{weight}: {text}");
        assert!(
            text.contains("https://news.example.com/news/"),
            "URL kept whole: {text}"
        );
    }
    let zurich = fake
        .statuses()
        .into_iter()
        .find(|s| s["content"].as_str().unwrap().contains("Zürich"))
        .unwrap();
    assert!(
        zurich["content"].as_str().unwrap().contains('…'),
        "{zurich}"
    );
}
