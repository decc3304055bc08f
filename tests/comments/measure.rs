//! The measurement of issue 6 (not a timed test; ignored by default):
//! `herald comments` for 1,000 entries syndicated to three networks, against
//! local fakes that add 50 ms to every request. Run it with
//! `cargo test --release --test comments measure -- --ignored --nocapture`.

use crate::fakes::{self, account, post, status, Fake, Seen};
use crate::support::Site;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ENTRIES: usize = 1000;

fn bluesky_fake(latency: Duration) -> Fake {
    Fake::start(
        latency,
        Arc::new(|path: &str, seen: &Seen| {
            if path == "/xrpc/app.bsky.actor.getProfile" {
                return (200, vec![], json!({"did": "did:plc:fern", "handle": "fern.example", "followersCount": 1284}).to_string());
            }
            let author = |h: &str| json!({"did": format!("did:plc:{h}"), "handle": format!("{h}.example"), "displayName": h});
            let p = |uri: &str, h: &str, text: &str| {
                json!({
                    "uri": uri, "cid": "bafy", "author": author(h), "indexedAt": "2026-05-30T10:00:00.000Z",
                    "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": "2026-05-30T10:00:00.000Z"},
                    "likeCount": 1, "repostCount": 0, "replyCount": 0, "quoteCount": 0
                })
            };
            let uri = seen
                .url
                .split("uri=")
                .nth(1)
                .and_then(|u| u.split('&').next())
                .unwrap_or("x")
                .to_string();
            let body = json!({"thread": {
            "$type": "app.bsky.feed.defs#threadViewPost", "post": p(&uri, "fern", "We launched"),
            "replies": [
                {"$type": "app.bsky.feed.defs#threadViewPost", "post": p(&format!("{uri}-r1"), "ann", "Nice"),
                 "replies": [{"$type": "app.bsky.feed.defs#threadViewPost", "post": p(&format!("{uri}-r2"), "fern", "Thanks"), "replies": []}]},
                {"$type": "app.bsky.feed.defs#notFoundPost", "uri": format!("{uri}-gone"), "notFound": true}
            ]}});
            (200, vec![], body.to_string())
        }),
    )
}

#[test]
#[ignore]
fn measure_1000_entries_on_three_networks() {
    let ms: u64 = std::env::var("HERALD_MEASURE_LATENCY_MS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(50);
    let latency = Duration::from_millis(ms);
    let fern = account("1", "fernhill", None, "Fernhill", 3410);
    let ann = account("2", "ann", Some("toot.example"), "Ann", 12);
    let mut m = fakes::Mastodon {
        public_cap: 60,
        token: "t".into(),
        ..Default::default()
    };
    let mut d = fakes::Discourse {
        chunk: 20,
        ..Default::default()
    };
    for i in 0..ENTRIES {
        let id = format!("{}", 1000 + i);
        m.statuses.insert(
            id.clone(),
            status(
                &id,
                None,
                &fern,
                "<p>Entry</p>",
                "2026-05-30T09:00:00.000Z",
                "public",
            ),
        );
        m.replies.insert(
            id.clone(),
            vec![
                status(
                    &format!("{id}1"),
                    Some(&id),
                    &ann,
                    "<p>Reply <b>one</b></p>",
                    "2026-05-30T10:00:00.000Z",
                    "public",
                ),
                status(
                    &format!("{id}2"),
                    Some(&format!("{id}1")),
                    &fern,
                    "<p>Reply two</p>",
                    "2026-05-30T10:01:00.000Z",
                    "public",
                ),
            ],
        );
        let t = 1000 + i as u64;
        d.topics.insert(
            t,
            (1..=5u64)
                .map(|n| {
                    post(
                        t * 10 + n,
                        n,
                        &format!("u{n}"),
                        "<p>Forum reply</p>",
                        if n > 2 { json!(n - 1) } else { Value::Null },
                        "2026-05-30T10:00:00.000Z",
                    )
                })
                .collect(),
        );
    }
    let mastodon = fakes::mastodon(Arc::new(Mutex::new(m)), latency);
    let forum = fakes::discourse(Arc::new(Mutex::new(d)), latency);
    let bluesky = bluesky_fake(latency);
    let concurrency: usize = std::env::var("HERALD_MEASURE_CONCURRENCY")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(4);
    let site = Site::new(&format!(
        "[networks.mastodon]\nkind = \"mastodon\"\ninstance = \"{}\"\ntoken_env = \"HERALD_MEASURE_TOKEN\"\n\n[networks.bluesky]\nkind = \"bluesky\"\nhandle = \"fern.example\"\npassword_env = \"HERALD_MEASURE_PASSWORD\"\n\n[networks.forum]\nkind = \"discourse\"\nurl = \"{}\"\nusername = \"system\"\napi_key_env = \"HERALD_MEASURE_KEY\"\n\n[comments]\nbluesky_appview = \"{}\"\nconcurrency = {concurrency}\n",
        mastodon.url, forum.url, bluesky.url
    ));
    let mut ledger = String::new();
    for i in 0..ENTRIES {
        site.write(
            &format!("content/news/e{i:04}.md"),
            &format!("+++\ntitle = \"Entry {i}\"\ndate = 2026-05-30\n+++\nBody.\n"),
        );
        for (net, id) in [
            (
                "bluesky",
                format!("at://did:plc:fern/app.bsky.feed.post/3k{i:011}"),
            ),
            ("forum", format!("{}", 1000 + i)),
            ("mastodon", format!("{}", 1000 + i)),
        ] {
            ledger.push_str(&format!("[\"news/e{i:04}.md\".{net}]\nstatus = \"posted\"\nid = \"{id}\"\nposted_at = \"2026-05-30T09:00:00Z\"\n\n"));
        }
    }
    site.write("data/syndication.toml", &ledger);

    for run in ["first run", "second run (conditional)"] {
        let t = Instant::now();
        let r = site.fetch();
        let elapsed = t.elapsed();
        assert!(
            r.failed.is_empty(),
            "{:?}",
            &r.failed[..r.failed.len().min(3)]
        );
        assert_eq!(r.fetched, 3 * ENTRIES);
        let per = |f: &Fake| f.requests().len();
        println!(
            "{run}: {} entries x 3 networks, {ms} ms per request, concurrency {concurrency} per network: {:.1} s, {} requests (mastodon {}, bluesky {}, forum {} so far), {} files written, {} comments",
            ENTRIES,
            elapsed.as_secs_f64(),
            r.requests,
            per(&mastodon),
            per(&bluesky),
            per(&forum),
            r.files_written,
            r.comments
        );
    }
    let t = Instant::now();
    site.build_ok();
    println!(
        "herald build of the 1,000 entries with their comments: {:.1} s",
        t.elapsed().as_secs_f64()
    );
}
