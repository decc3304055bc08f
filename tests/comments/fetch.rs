//! Mastodon and Discourse fakes: threads with nesting, deleted and hidden
//! posts, hostile HTML and more replies than one page, fetched by
//! `herald comments` and rendered by `herald build`.

use crate::fakes::{self, account, post, status, Fake};
use crate::support::{assert_inert, section, Site};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Every trick that must not run: each would set `window.__pwned` or the title.
pub const HOSTILE: &str = concat!(
    "<p>Hello <script>window.__pwned=1;document.title='pwned'</script>",
    "<img src=x onerror=\"window.__pwned=2;document.title='pwned'\">",
    "<a href=\"javascript:window.__pwned=3\">click me</a>",
    "<svg onload=\"window.__pwned=4\"><circle r=\"1\"/></svg>",
    "<style>body{display:none}</style>",
    "<span style=\"color:red\" onmouseover=\"window.__pwned=5\">hover me</span>",
    "<iframe srcdoc=\"&lt;script&gt;parent.__pwned=6&lt;/script&gt;\"></iframe>",
    "<form action=\"javascript:window.__pwned=7\"><button>go</button></form>",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__pwned=8\"></style></mglyph></table></mtext></math>",
    "<noscript><p title=\"</noscript><img src=x onerror=window.__pwned=9>\"></noscript>",
    "<a href=\"data:text/html,&lt;script&gt;parent.__pwned=10&lt;/script&gt;\">data link</a> ",
    "<a href=\"https://ann.example/\" onclick=\"window.__pwned=11\">my site</a></p>"
);

pub struct Fakes {
    pub mastodon: Fake,
    pub forum: Fake,
    pub m_state: Arc<Mutex<fakes::Mastodon>>,
    pub token: String,
    pub key: String,
}

/// The two fakes with one thread each, and a site whose ledger points at them.
pub fn setup(name: &str, latency: Duration) -> (Site, Fakes) {
    let fern = account("1", "fernhill", None, "Fernhill", 3410);
    let ann = account("2", "ann", Some("toot.example"), "Ann Example", 12);
    let bob = account("3", "bob", None, "", 5);
    let mut replies = vec![
        status(
            "101",
            Some("100"),
            &ann,
            HOSTILE,
            "2026-05-30T10:00:00.000Z",
            "public",
        ),
        status(
            "102",
            Some("101"),
            &fern,
            "<p>Thanks Ann!</p>",
            "2026-05-30T10:05:00.000Z",
            "public",
        ),
        status(
            "103",
            Some("102"),
            &bob,
            "<p>Deep reply 🎉</p>",
            "2026-05-30T10:10:00.000Z",
            "unlisted",
        ),
        status(
            "104",
            Some("100"),
            &bob,
            "<p>SECRET followers-only</p>",
            "2026-05-30T10:11:00.000Z",
            "private",
        ),
        status(
            "105",
            Some("100"),
            &bob,
            "<p>SECRET direct</p>",
            "2026-05-30T10:12:00.000Z",
            "direct",
        ),
        // Its parent was deleted: it is shown at the top level.
        status(
            "106",
            Some("999"),
            &bob,
            "<p>Orphan reply</p>",
            "2026-05-30T10:20:00.000Z",
            "public",
        ),
    ];
    for i in 0..64 {
        let acct = account(
            &format!("{}", 500 + i),
            &format!("filler{i}"),
            Some("many.example"),
            &format!("Filler {i}"),
            1,
        );
        replies.push(status(
            &format!("{}", 200 + i),
            Some("100"),
            &acct,
            &format!("<p>Filler reply {i}</p>"),
            &format!("2026-05-31T{:02}:{:02}:00.000Z", i / 60, i % 60),
            "public",
        ));
    }
    let mut root = status(
        "100",
        None,
        &fern,
        "<p>We launched</p>",
        "2026-05-30T09:00:00.000Z",
        "public",
    );
    root["favourites_count"] = json!(57);
    root["reblogs_count"] = json!(23);
    root["replies_count"] = json!(70);
    root["quotes_count"] = json!(2);
    root["url"] = json!("https://mastodon.example/@fernhill/100");
    let token = format!("secret-token-{name}-0123456789");
    let m_state = Arc::new(Mutex::new(fakes::Mastodon {
        statuses: [("100".to_string(), root)].into(),
        replies: [("100".to_string(), replies)].into(),
        public_cap: 60,
        token: token.clone(),
    }));

    let r = |n: u64| json!(n);
    let mut posts = vec![
        post(1, 1, "fernhill", "<p>We launched (the entry)</p>", Value::Null, "2026-05-30T09:00:00.000Z"),
        post(2, 2, "carol", "<p>Congrats <a class=\"mention\" href=\"/u/dave\">@dave</a> look <img class=\"emoji\" src=\"/images/emoji/tada.png\" onerror=\"window.__pwned=20\" alt=\":tada:\"> <a href=\"javascript:window.__pwned=21\">x</a></p>", Value::Null, "2026-05-30T10:02:00.000Z"),
        post(3, 3, "dave", "<p>Forum nested reply</p>", r(2), "2026-05-30T10:03:00.000Z"),
        // The description types reply_to_post_number as string-or-null; real servers send integers. Both are read.
        post(4, 4, "erin", "<p>Forum deeper reply</p>", json!("3"), "2026-05-30T10:04:00.000Z"),
        post(5, 5, "mallory", "<p>HIDDEN POST</p>", Value::Null, "2026-05-30T10:05:00.000Z"),
        post(6, 6, "mallory", "<p>DELETED POST</p>", Value::Null, "2026-05-30T10:06:00.000Z"),
        post(7, 7, "moderator", "<p>WHISPER POST</p>", Value::Null, "2026-05-30T10:07:00.000Z"),
        post(8, 8, "frank", "<p>Reply to a hidden post</p>", r(5), "2026-05-30T10:08:00.000Z"),
    ];
    posts[4]["hidden"] = json!(true);
    posts[5]["deleted_at"] = json!("2026-05-30T11:00:00.000Z");
    posts[6]["post_type"] = json!(4);
    posts[0]["actions_summary"] = json!([{"id": 2, "count": 12, "can_act": true}]);
    for n in 9..=45u64 {
        posts.push(post(
            n,
            n,
            &format!("user{n}"),
            &format!("<p>Forum filler {n}</p>"),
            Value::Null,
            &format!("2026-05-31T12:{n:02}:00.000Z"),
        ));
    }
    let d_state = Arc::new(Mutex::new(fakes::Discourse {
        topics: [(77u64, posts)].into(),
        chunk: 20,
    }));

    let mastodon = fakes::mastodon(m_state.clone(), latency);
    let forum = fakes::discourse(d_state, latency);
    let var = name.to_uppercase().replace('-', "_");
    let (token_env, key_env) = (
        format!("HERALD_TEST_{var}_TOKEN"),
        format!("HERALD_TEST_{var}_KEY"),
    );
    let key = format!("forum-key-{name}-abcdef");
    std::env::set_var(&token_env, &token);
    std::env::set_var(&key_env, &key);
    let site = Site::new(&format!(
        "[networks.mastodon]\nkind = \"mastodon\"\ninstance = \"{}\"\ntoken_env = \"{token_env}\"\n\n[networks.forum]\nkind = \"discourse\"\nurl = \"{}\"\nusername = \"system\"\napi_key_env = \"{key_env}\"\n",
        mastodon.url, forum.url
    ));
    site.write(
        "data/syndication.toml",
        "[\"news/launch.md\".forum]\nstatus = \"posted\"\nid = \"77\"\nurl = \"https://forum.example/t/launch/77\"\nposted_at = \"2026-05-30T09:00:00Z\"\n\n[\"news/launch.md\".mastodon]\nstatus = \"posted\"\nid = \"100\"\nurl = \"https://mastodon.example/@fernhill/100\"\nposted_at = \"2026-05-30T09:00:00Z\"\n\n[\"news/old.md\".mastodon]\nstatus = \"posted\"\nid = \"300\"\nurl = \"https://mastodon.example/@fernhill/300\"\nposted_at = \"2025-01-01T09:00:00Z\"\n\n[\"news/quiet.md\".mastodon]\nstatus = \"posted\"\nid = \"301\"\nurl = \"https://mastodon.example/@fernhill/301\"\nposted_at = \"2026-05-29T09:00:00Z\"\n",
    );
    (
        site,
        Fakes {
            mastodon,
            forum,
            m_state,
            token,
            key,
        },
    )
}

/// The thread as (depth, author) pairs, read from the built HTML.
pub fn outline(section: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut rest = section;
    let marks = [
        "<ol class=\"comments__replies\">",
        "</ol>",
        "comment__author\"",
    ];
    loop {
        let next = marks
            .iter()
            .enumerate()
            .filter_map(|(k, m)| rest.find(m).map(|i| (i, k)))
            .min();
        let Some((i, k)) = next else { break };
        rest = &rest[i + marks[k].len()..];
        match k {
            0 => depth += 1,
            1 => depth = depth.saturating_sub(1),
            _ => {
                let start = rest.find('>').unwrap() + 1;
                let end = rest[start..].find('<').unwrap() + start;
                out.push((depth, rest[start..end].to_string()));
            }
        }
    }
    out
}

#[test]
fn threads_are_fetched_merged_nested_and_rendered_without_active_content() {
    let (site, f) = setup("comments-main", Duration::ZERO);
    let report = site.fetch();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(
        report.fetched, 2,
        "launch on two networks; old is too old, quiet has comments = false"
    );
    assert_eq!(report.skipped_old, 1);
    assert!(site.root().join("data/comments/news/launch.json").exists());
    assert!(!site.root().join("data/comments/news/quiet.json").exists());
    assert!(!site.root().join("data/comments/news/old.json").exists());

    // Authenticated: the whole context, past Mastodon's public cap of 60.
    let m = f.mastodon.requests();
    assert!(m
        .iter()
        .all(|r| r.authorization.as_deref() == Some(&format!("Bearer {}", f.token))));
    assert_eq!(m.len(), 2, "status + context: {m:?}");
    // Discourse: the topic, then the 25 posts beyond the first 20 in two requests.
    let d = f.forum.requests();
    assert_eq!(d.len(), 3, "{d:?}");
    assert!(d[1..]
        .iter()
        .all(|r| r.url.starts_with("/t/77/posts.json?post_ids[]=")));
    assert!(d
        .iter()
        .all(|r| r.api_key.as_deref() == Some(f.key.as_str())));

    // Never leaked: the secrets are in no file written.
    for e in walkdir::WalkDir::new(site.root().join("data"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
    {
        let text = std::fs::read_to_string(e.path()).unwrap();
        assert!(
            !text.contains(&f.token) && !text.contains(&f.key),
            "{} holds a secret",
            e.path().display()
        );
    }
    let history = site.read("data/comments/history.jsonl");
    assert_eq!(history.lines().count(), 2, "{history}");
    assert!(
        history.contains("\"likes\":57") && history.contains("\"reposts\":23"),
        "{history}"
    );

    drop(f); // a build never touches the network
    site.build_ok();
    let html = site.page("launch");
    let s = section(&html);
    assert_inert(s);
    assert!(
        s.contains("<a href=\"https://ann.example/\" rel=\"nofollow ugc noopener\">my site</a>"),
        "{s}"
    );
    // The forum's relative mention link, made absolute against the forum.
    assert!(!s.contains("href=\"/u/dave\""), "{s}");
    assert!(
        s.contains("/u/dave\" rel=\"nofollow ugc noopener\">@dave</a>"),
        "{s}"
    );
    for gone in [
        "SECRET",
        "HIDDEN POST",
        "DELETED POST",
        "WHISPER POST",
        "We launched (the entry)",
    ] {
        assert!(!s.contains(gone), "{gone} must not be shown");
    }
    assert!(
        s.contains("Filler reply 63"),
        "more than 60 Mastodon replies"
    );
    assert!(
        s.contains("Forum filler 45"),
        "the forum's posts beyond the first page"
    );
    assert!(
        s.contains("57 likes, 23 boosts, 2 quotes, 70 replies"),
        "{s}"
    );
    assert!(s.contains("Reply on Mastodon") && s.contains("Reply on the forum"));
    assert!(s.contains("class=\"u-comment h-cite"));
    assert!(
        !s.contains("comment__avatar") && !site.root().join("static").exists(),
        "avatars are off by default: none fetched, none shown"
    );

    let o = outline(s);
    let head: Vec<(usize, &str)> = o.iter().take(8).map(|(d, n)| (*d, n.as_str())).collect();
    assert_eq!(
        head,
        [
            (0, "Ann Example"),
            (1, "Fernhill"),
            (2, "bob@mastodon.example"),
            (0, "carol Name"),
            (1, "dave Name"),
            (2, "erin Name"),
            (0, "frank Name"),
            (0, "bob@mastodon.example"),
        ],
        "merged, oldest first, nested by reply"
    );
    assert_eq!(o.len(), 3 + 1 + 64 + 3 + 1 + 37, "{o:?}");

    // The entry with comments = false has no section; the old one has none fetched.
    assert!(section(&site.page("quiet")).is_empty());
    assert!(section(&site.page("old")).is_empty());
}

#[test]
fn avatars_when_enabled_are_downloaded_checked_and_served_from_the_site() {
    let (site, f) = setup("comments-avatars", Duration::ZERO);
    let base = f.mastodon.url.clone();
    {
        let mut st = f.m_state.lock().unwrap();
        for (i, r) in st.replies.get_mut("100").unwrap().iter_mut().enumerate() {
            let url = match i {
                0 => format!("{base}/avatars/evil.svg"), // Ann: SVG, refused
                1 => "https://10.0.0.1/avatar.png".into(), // Fernhill: a private address, never asked
                _ => format!(
                    "{base}/avatars/{}.gif",
                    r["account"]["id"].as_str().unwrap()
                ),
            };
            r["account"]["avatar"] = json!(url);
            r["account"]["avatar_static"] = json!(url);
        }
    }
    let config = site.read("site.toml");
    site.write(
        "site.toml",
        &format!("{config}\n[comments]\navatars = true\n"),
    );

    let report = site.fetch();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    // Mastodon: bob (one file for his five replies) and the 64 fillers; the
    // forum: carol, dave, erin, frank and 37 fillers.
    assert_eq!(report.avatars_written, 65 + 41);
    assert_eq!(
        report.avatar_failures.len(),
        1,
        "{:?}",
        report.avatar_failures
    );
    assert!(report.avatar_failures[0].url.ends_with("/avatars/evil.svg"));
    let avatar_requests = |fake: &Fake, prefix: &str| -> Vec<fakes::Seen> {
        fake.requests()
            .into_iter()
            .filter(|r| r.url.starts_with(prefix))
            .collect()
    };
    // One request per avatar URL (the HTTP helper may retry one whose
    // connection failed on a loaded machine: count distinct URLs).
    let distinct = |seen: &[fakes::Seen]| {
        seen.iter()
            .map(|r| r.url.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let asked = avatar_requests(&f.mastodon, "/avatars/");
    let asked_forum = avatar_requests(&f.forum, "/user_avatar/");
    assert_eq!(distinct(&asked).len(), 66, "{asked:?}");
    assert_eq!(distinct(&asked_forum).len(), 41);
    assert!(
        asked
            .iter()
            .chain(&asked_forum)
            .all(|r| r.authorization.is_none() && r.api_key.is_none()),
        "no secret goes with an avatar request"
    );
    let dir = site.root().join("static/comments/avatars");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 106);
    let bob = format!(
        "{}.gif",
        herald::comments::avatars::stem(&format!("{base}/avatars/3.gif"))
    );
    assert_eq!(
        std::fs::read(dir.join(&bob)).unwrap(),
        fakes::GIF_40.as_bytes()
    );

    site.build_ok();
    let html = site.page("launch");
    let s = section(&html);
    assert!(
        s.contains(&format!(
            r#"<img class="u-photo comment__avatar" src="https://news.example.com/comments/avatars/{bob}" alt="" width="40" height="40""#
        )),
        "{s}"
    );
    assert_eq!(
        s.matches("comment__avatar").count(),
        2 + 64 + 41,
        "bob's two shown replies, the fillers, the forum; Ann and Fernhill none"
    );
    assert!(site
        .root()
        .join(format!("public/comments/avatars/{bob}"))
        .exists());

    // Nothing new: no avatar is fetched again, no file rewritten.
    let report = site.fetch();
    assert_eq!(report.avatars_written, 0, "{:?}", report.avatar_failures);
    assert_eq!(report.files_written, 0);
    let again = |fake: &Fake, prefix: &str, before: &[fakes::Seen]| {
        avatar_requests(fake, prefix)[before.len()..].to_vec()
    };
    let new_requests: Vec<_> = again(&f.mastodon, "/avatars/", &asked)
        .into_iter()
        .chain(again(&f.forum, "/user_avatar/", &asked_forum))
        .collect();
    assert_eq!(
        distinct(&new_requests).into_iter().collect::<Vec<_>>(),
        ["/avatars/evil.svg"],
        "only the refused SVG is asked for again"
    );
}

#[test]
fn second_run_is_conditional_and_unchanged_files_are_not_rewritten() {
    let (site, f) = setup("comments-etag", Duration::ZERO);
    site.fetch();
    let before = site.read("data/comments/news/launch.json");
    let r = site.fetch();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert_eq!(r.files_written, 0);
    assert_eq!(site.read("data/comments/news/launch.json"), before);
    let m = f.mastodon.requests();
    assert!(m[2..].iter().all(|r| r.if_none_match.is_some()), "{m:?}");
    let d = f.forum.requests();
    assert!(
        d[3].if_none_match.is_some() && d.len() == 4,
        "a 304 topic needs no posts: {d:?}"
    );
    assert_eq!(
        site.read("data/comments/history.jsonl").lines().count(),
        4,
        "one line per post per run"
    );
}

#[test]
fn a_failing_network_keeps_its_previous_data_and_the_other_updates() {
    let (site, f) = setup("comments-fail", Duration::ZERO);
    site.fetch();
    let forum_before: Value =
        serde_json::from_str(&site.read("data/comments/news/launch.json")).unwrap();
    f.forum.fail.store(true, Ordering::SeqCst);
    {
        let mut st = f.m_state.lock().unwrap();
        let carl = account("9", "carl", Some("new.example"), "Carl New", 1);
        st.replies.get_mut("100").unwrap().push(status(
            "900",
            Some("100"),
            &carl,
            "<p>A new reply</p>",
            "2026-06-01T00:00:00.000Z",
            "public",
        ));
    }
    let r = site.fetch();
    assert_eq!(r.failed.len(), 1, "{:?}", r.failed);
    let e = r.failed[0].to_string();
    assert!(
        e.starts_with("forum: ") && e.contains("/t/77.json") && e.contains("500"),
        "{e}"
    );
    assert!(!e.contains(&f.key));
    let after: Value = serde_json::from_str(&site.read("data/comments/news/launch.json")).unwrap();
    assert_eq!(
        after["networks"]["forum"], forum_before["networks"]["forum"],
        "the forum's previous data is intact"
    );
    assert!(after["networks"]["mastodon"]
        .to_string()
        .contains("A new reply"));
}

#[test]
fn retry_after_is_respected() {
    let (site, f) = setup("comments-429", Duration::ZERO);
    f.mastodon.rate_limit.store(1, Ordering::SeqCst);
    let t = std::time::Instant::now();
    let r = site.fetch();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "waited as Retry-After said"
    );
    assert_eq!(
        f.mastodon.requests().len(),
        3,
        "the 429, then status and context"
    );
}

#[test]
fn the_block_list_hides_replies_and_their_children_at_the_next_build() {
    let (site, f) = setup("comments-block", Duration::ZERO);
    site.fetch();
    drop(f);
    site.build_ok();
    assert!(section(&site.page("launch")).contains("Thanks Ann!"));
    let toml = site.read("site.toml");
    site.write(
        "site.toml",
        &format!("{toml}\n[comments.block]\naccounts = [\"@ann@toot.example\"]\ninstances = [\"many.example\"]\nwords = [\"forum filler 7\"]\n"),
    );
    site.build_ok();
    let s = section(&site.page("launch")).to_string();
    for gone in [
        "Ann Example",
        "Thanks Ann!",
        "Deep reply",
        "Filler reply 1<",
        "Forum filler 7<",
    ] {
        assert!(
            !s.contains(gone),
            "{gone} is blocked or under a blocked reply:\n{s}"
        );
    }
    assert!(
        s.contains("Forum filler 17")
            && s.contains("Orphan reply")
            && s.contains("Forum nested reply")
    );
}

#[test]
fn a_broken_comment_file_fails_the_build_naming_it() {
    let (site, f) = setup("comments-broken", Duration::ZERO);
    drop(f);
    site.write("data/comments/news/launch.json", "{\"entry\": 3}");
    let err = site.build().unwrap_err().to_string();
    assert!(err.contains("data/comments/news/launch.json"), "{err}");
    assert!(err.contains("herald comments"), "{err}");
    site.write(
        "site.toml",
        &format!("{}\n[comments]\nmax_age_dayz = 3\n", site.read("site.toml")),
    );
    let err = site.build().unwrap_err().to_string();
    assert!(err.contains("did you mean `max_age_days`?"), "{err}");
}
