//! End to end against the real Bluesky network from npm (PLC + PDS + AppView,
//! started by `tests/support/bluesky-network.sh start`, which `.ci/run`
//! runs): a post, replies from a second account (a reply to the reply, one
//! with a link and an emoji, one with `<script>` and `onerror=` as text),
//! `herald comments`, `herald build`, and the thread in the entry's HTML.

use crate::fetch::outline;
use crate::support::{assert_inert, section, Site};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn pds() -> String {
    std::env::var("HERALD_BLUESKY_PDS").unwrap_or_else(|_| "http://localhost:2683".into())
}

fn appview() -> String {
    std::env::var("HERALD_BLUESKY_APPVIEW").unwrap_or_else(|_| "http://localhost:2684".into())
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Whether the network answers; when it does not, the test fails under CI
/// and is skipped (loudly) elsewhere.
fn network_up() -> bool {
    let c = client();
    let ok = |u: String| c.get(u).send().is_ok_and(|r| r.status().is_success());
    if ok(format!("{}/xrpc/_health", pds())) && ok(format!("{}/xrpc/_health", appview())) {
        return true;
    }
    let msg = format!(
        "the local Bluesky network is not running (PDS {}, AppView {}): run `bash .ci/run`, or `bash tests/support/bluesky-network.sh start` before `cargo test`",
        pds(),
        appview()
    );
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!! SKIPPED (CI is not set): {msg}\n");
    false
}

struct Account {
    did: String,
    handle: String,
    jwt: String,
}

fn xrpc(method: &str, body: Value, jwt: Option<&str>) -> Value {
    let mut r = client()
        .post(format!("{}/xrpc/{method}", pds()))
        .json(&body);
    if let Some(j) = jwt {
        r = r.bearer_auth(j);
    }
    let resp = r.send().unwrap();
    let status = resp.status();
    let v: Value = resp.json().unwrap_or(Value::Null);
    assert!(status.is_success(), "{method}: HTTP {status}: {v}");
    v
}

fn create_account(name: &str) -> Account {
    let handle = format!("{name}.test");
    let v = xrpc(
        "com.atproto.server.createAccount",
        json!({"handle": handle, "email": format!("{name}@example.invalid"), "password": "pass-word-123"}),
        None,
    );
    Account {
        did: v["did"].as_str().unwrap().into(),
        handle,
        jwt: v["accessJwt"].as_str().unwrap().into(),
    }
}

/// Posts `text` (with `facets`) as `who`, replying to `reply` = (root, parent) strong refs.
fn post(who: &Account, text: &str, facets: Value, reply: Option<(&Value, &Value)>) -> Value {
    let mut record = json!({
        "$type": "app.bsky.feed.post", "text": text, "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "langs": ["en"], "facets": facets
    });
    if let Some((root, parent)) = reply {
        record["reply"] = json!({"root": root, "parent": parent});
    }
    let v = xrpc(
        "com.atproto.repo.createRecord",
        json!({"repo": who.did, "collection": "app.bsky.feed.post", "record": record}),
        Some(&who.jwt),
    );
    json!({"uri": v["uri"], "cid": v["cid"]})
}

fn link_facet(text: &str, url: &str) -> Value {
    let start = text.find(url).unwrap(); // a byte offset, as facets want
    json!([{"index": {"byteStart": start, "byteEnd": start + url.len()},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}]}])
}

#[test]
fn bluesky_thread_from_the_real_network_is_rendered_nested_and_inert() {
    if !network_up() {
        return;
    }
    let tag = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            % 0xffffff
    );
    let alice = create_account(&format!("alice{tag}"));
    let bob = create_account(&format!("bob{tag}"));

    let entry_url = "https://news.example.com/news/launch/";
    let text = format!("We launched! {entry_url}");
    let root = post(&alice, &text, link_facet(&text, entry_url), None);
    let r1 = post(
        &bob,
        "Congratulations, first reply",
        json!([]),
        Some((&root, &root)),
    );
    let r2 = post(
        &alice,
        "Thank you, a reply to the reply",
        json!([]),
        Some((&root, &r1)),
    );
    let link_text = "Café 🎉 more at https://bob.example/review and 👍";
    post(
        &bob,
        link_text,
        link_facet(link_text, "https://bob.example/review"),
        Some((&root, &root)),
    );
    let hostile = "<script>window.__pwned=1;document.title='pwned'</script><img src=x onerror=\"window.__pwned=2\"> hostile text";
    post(&bob, hostile, json!([]), Some((&root, &r2)));
    xrpc(
        "com.atproto.repo.createRecord",
        json!({"repo": bob.did, "collection": "app.bsky.feed.like", "record": {"$type": "app.bsky.feed.like", "subject": root, "createdAt": chrono::Utc::now().to_rfc3339()}}),
        Some(&bob.jwt),
    );

    // The AppView indexes asynchronously: poll with a deadline.
    let uri = root["uri"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let t: Value = client()
            .get(format!("{}/xrpc/app.bsky.feed.getPostThread", appview()))
            .query(&[("uri", uri.as_str()), ("depth", "10")])
            .send()
            .unwrap()
            .json()
            .unwrap_or(Value::Null);
        let replies = t["thread"]["replyCount"]
            .as_u64()
            .or(t["thread"]["post"]["replyCount"].as_u64())
            .unwrap_or(0);
        let likes = t["thread"]["post"]["likeCount"].as_u64().unwrap_or(0);
        if replies >= 2 && likes >= 1 && t.to_string().contains("hostile text") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the AppView did not index the replies in 30 s: {t}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let site = Site::new(&format!(
        "[networks.bluesky]\nkind = \"bluesky\"\npds = \"{}\"\nhandle = \"{}\"\npassword_env = \"HERALD_TEST_BSKY_PASSWORD\"\n\n[comments]\nbluesky_appview = \"{}\"\n",
        pds(),
        alice.handle,
        appview()
    ));
    site.write(
        "data/syndication.toml",
        &format!("[\"news/launch.md\".bluesky]\nstatus = \"posted\"\nid = \"{uri}\"\nposted_at = \"2026-05-30T09:00:00Z\"\n"),
    );
    let report = site.fetch();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.fetched, 1);
    site.build_ok();
    let html = site.page("launch");
    let s = section(&html);
    assert_inert(s);
    let o: Vec<(usize, String)> = outline(s);
    let names: Vec<(usize, &str)> = o.iter().map(|(d, n)| (*d, n.as_str())).collect();
    assert_eq!(
        names,
        [
            (0, bob.handle.as_str()),
            (1, alice.handle.as_str()),
            (2, bob.handle.as_str()),
            (0, bob.handle.as_str())
        ],
        "nested by reply, oldest first:\n{s}"
    );
    assert!(
        s.contains("Congratulations, first reply") && s.contains("Thank you, a reply to the reply")
    );
    assert!(
        s.contains("Café 🎉 more at <a href=\"https://bob.example/review\" rel=\"nofollow ugc noopener\">https://bob.example/review</a> and 👍"),
        "the link facet at its byte offsets:\n{s}"
    );
    assert!(
        s.contains("&lt;script&gt;window.__pwned=1;document.title='pwned'&lt;/script&gt;&lt;img src=x onerror=\"window.__pwned=2\"&gt; hostile text"),
        "the hostile reply shows as text:\n{s}"
    );
    assert!(s.contains("1 like"), "the like count:\n{s}");
    assert!(s.contains("Reply on Bluesky"));

    // `herald report` over the snapshot this run recorded (issue 7).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--root")
        .arg(site.root())
        .args(["report", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = &r["rows"][0];
    assert_eq!(row["network"], "bluesky");
    assert_eq!(row["kind"], "bluesky");
    assert_eq!(
        (row["likes"].as_u64(), row["reposts"].as_u64()),
        (Some(1), Some(0))
    );
    let stored: Value = serde_json::from_str(&site.read("data/comments/news/launch.json")).unwrap();
    let counts = &stored["networks"]["bluesky"]["counts"];
    assert_eq!(
        row["replies"], counts["replies"],
        "the AppView's reply count"
    );
    assert_eq!(
        row["total"].as_u64().unwrap(),
        1 + counts["replies"].as_u64().unwrap() + counts["quotes"].as_u64().unwrap()
    );
    assert_eq!(row["followers"], stored["networks"]["bluesky"]["followers"]);
}
