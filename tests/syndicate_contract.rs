//! The client's real requests, checked against the official Mastodon and
//! Discourse API descriptions (`../shared/specs/`) by Stoplight Prism in
//! proxy mode with `--errors`: Prism rejects (422) any request the
//! description forbids, without forwarding it, and turns any reply of the
//! fake that breaks the description into a 500. Either makes the run fail.
//!
//! Prism 5.14.2 is installed under ~/.cache by `.ci/run`
//! (`tests/support/prism.sh install`); the test starts it on free ports.

#[path = "support/fake_social.rs"]
mod fake_social;
#[path = "support/syndicate_site.rs"]
mod syndicate_site;

use fake_social::FakeSocial;
use herald::commands::syndicate::{format_summary, syndicate, Crash, Outcome};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use syndicate_site::SynSite;

fn prism_path() -> PathBuf {
    if let Some(p) = std::env::var_os("HERALD_PRISM") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("DEV_SERVERS_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/dev-servers")
        });
    home.join("contract/node_modules/.bin/prism")
}

fn prism_available() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if node && prism_path().exists() {
        return true;
    }
    let msg = format!("Prism is not installed at {} (or node is missing) — run `.ci/run`, or `tests/support/prism.sh install`", prism_path().display());
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n!!!!!!!!!!\n!!! SKIPPED (CI is not set): {msg}\n!!!!!!!!!!\n");
    false
}

/// A Prism proxy; killed when dropped.
struct Prism {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_prism(spec: &Path, upstream: &str, dir: &Path, name: &str) -> Prism {
    let port = free_port();
    let log = dir.join(format!("{name}.log"));
    let child = Command::new("node")
        .arg(prism_path())
        .args([
            "proxy",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--errors",
        ])
        .arg(spec)
        .arg(upstream)
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(
            std::fs::File::create(dir.join(format!("{name}.err"))).unwrap(),
        ))
        .spawn()
        .unwrap();
    let mut p = Prism {
        child,
        url: format!("http://127.0.0.1:{port}"),
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if std::fs::read_to_string(&p.log)
            .unwrap_or_default()
            .contains("listening")
        {
            return p;
        }
        if let Ok(Some(status)) = p.child.try_wait() {
            panic!(
                "prism exited ({status}): {}",
                std::fs::read_to_string(dir.join(format!("{name}.err"))).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "prism did not start in 90 s: {}",
            std::fs::read_to_string(&p.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn every_request_and_reply_follows_the_official_api_descriptions() {
    if !prism_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mspec = dir.path().join("mastodon.json");
    let dspec = dir.path().join("discourse.json");
    std::fs::write(
        &mspec,
        serde_json::to_vec(&fake_social::mastodon_spec()).unwrap(),
    )
    .unwrap();
    std::fs::write(
        &dspec,
        serde_json::to_vec(&fake_social::discourse_spec_for_prism()).unwrap(),
    )
    .unwrap();
    let fake = FakeSocial::start();
    let pm = start_prism(&mspec, &fake.url, dir.path(), "mastodon");
    let pd = start_prism(&dspec, &fake.url, dir.path(), "discourse");

    // Prism is really checking: a form-encoded status (the description
    // lists JSON only) is refused and never reaches the fake.
    let bad = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/statuses", pm.url))
        .header("authorization", format!("Bearer {}", fake.token))
        .form(&[("status", "x")])
        .send()
        .unwrap();
    assert_eq!(bad.status().as_u16(), 422);
    assert!(fake.requests().is_empty());

    std::env::set_var("HT_P_MASTODON", &fake.token);
    std::env::set_var("HT_P_DISCOURSE", &fake.api_key);
    // No `tags` for the forum: Discourse accepts them, but the description
    // (additionalProperties: false) does not list them.
    let site = SynSite::new(&format!(
        "[networks.mastodon]\nkind = \"mastodon\"\ninstance = \"{}\"\ntoken_env = \"HT_P_MASTODON\"\nspoiler_text = \"News\"\n\n[networks.forum]\nkind = \"discourse\"\nurl = \"{}\"\nusername = \"system\"\napi_key_env = \"HT_P_DISCOURSE\"\ncategory = 5\n",
        pm.url, pd.url
    ));
    // A crash after the first send of each network, so the reconcile
    // lookups go through Prism too.
    for network in ["mastodon", "forum"] {
        let mut o = site.options();
        o.networks = vec![network.into()];
        o.crash_after_send = Some(Crash::Return);
        let err = syndicate(&o).unwrap_err().to_string();
        assert!(err.contains("simulated crash"), "{err}");
    }
    let report = syndicate(&site.options()).unwrap();
    let summary = format_summary(&report);
    let logs = format!(
        "{}\n{}",
        std::fs::read_to_string(&pm.log).unwrap_or_default(),
        std::fs::read_to_string(&pd.log).unwrap_or_default()
    );
    assert!(!report.failed(), "{summary}\nprism:\n{logs}");
    assert_eq!(
        report.count(|o| matches!(o, Outcome::Reconciled(_))),
        2,
        "{summary}"
    );
    assert_eq!(fake.statuses().len(), 2, "{summary}");
    assert_eq!(fake.topics().len(), 2, "{summary}");
    // Every call the client makes went through (and was checked).
    for (m, p) in [
        ("GET", "/api/v2/instance"),
        ("POST", "/api/v2/media"),
        ("POST", "/api/v1/statuses"),
        ("GET", "/api/v1/accounts/verify_credentials"),
        ("POST", "/posts.json"),
    ] {
        assert!(
            !fake.requests_to(m, p).is_empty(),
            "{m} {p} never reached the fake:\n{logs}"
        );
    }
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.url.starts_with("/t/external_id/")));
}
