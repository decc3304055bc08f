//! The short summary `herald report` prints on the terminal.

use super::Report;

/// Top entries, totals per network, follower change.
pub fn summary(r: &Report, top: usize) -> String {
    let mut out = String::new();
    let period = r.period_label();
    out.push_str(&format!(
        "Engagement, {period} (last fetched {})\n",
        r.last_fetched.as_deref().unwrap_or("never")
    ));
    if r.rows.is_empty() {
        out.push_str("No snapshots in this period.\n");
        return out;
    }
    let ranked = if r.since.is_some() {
        "gained in the period"
    } else {
        "total"
    };
    out.push_str(&format!("\nTop entries ({ranked}):\n"));
    for (i, e) in r.top_entries.iter().take(top).enumerate() {
        let n = if r.since.is_some() { e.gained } else { e.total };
        out.push_str(&format!("{:>3}. {:>6}  {}\n", i + 1, n, e.title));
    }
    out.push_str("\nNetworks:                likes  reposts  quotes  replies   total  followers\n");
    for n in &r.networks {
        let followers = match (n.followers_start, n.followers_end) {
            (Some(a), Some(b)) => format!("{b} ({:+})", b as i64 - a as i64),
            _ => "-".into(),
        };
        out.push_str(&format!(
            "  {:<20} {:>7} {:>8} {:>7} {:>8} {:>7}  {}\n",
            n.network, n.likes, n.reposts, n.quotes, n.replies, n.total, followers
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::{entries, history};
    use super::super::{aggregate, Period};
    use super::*;

    #[test]
    fn names_the_top_entries_and_the_follower_change() {
        let s = summary(&aggregate(&history(), &entries(), Period::default()), 5);
        assert!(s.contains("  1.     27  Launch\n"), "{s}");
        assert!(s.contains("  2.      3  Update\n"), "{s}");
        assert!(
            s.contains(
                "  mastodon                  13        4       1        2      20  110 (+10)\n"
            ),
            "{s}"
        );
        assert!(s.contains("110 (+10)"), "{s}");
        assert!(s.contains("55 (+5)"), "{s}");
    }
}
