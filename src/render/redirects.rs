//! Redirect pages: a page's aliases, and a list's `page/1/`.

use super::ctx::{Ctx, Made};
use super::out::Out;
use serde_json::Value;
use std::path::Path;

/// Step: a redirect page at every alias.
pub(super) fn render_aliases<'a>(ctx: &Ctx<'a>, out: &mut Out<'a>) {
    for p in &ctx.site.content.pages {
        for (alias, _) in &p.aliases {
            let made = redirect(ctx, alias, &p.path, Some(&p.file));
            out.add_made(made, &p.file);
        }
    }
}

/// The page at the URL path `from` that sends readers to the URL path `to`.
pub(super) fn redirect(
    ctx: &Ctx<'_>,
    from: &str,
    to: &str,
    for_file: Option<&Path>,
) -> (String, Made) {
    let url = ctx.site.config.url(to);
    // The refresh goes to the path on the same host, so a redirect also
    // works on the dev server and on preview deployments.
    let path = reqwest::Url::parse(&url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| to.to_string());
    ctx.make(
        from,
        "alias.html",
        &ctx.base,
        |k| {
            k.str(&url).str(&path);
        },
        || {
            Ok(vec![
                ("redirect_to", Value::from(url.clone())),
                ("redirect_path", Value::from(path.clone())),
            ])
        },
        drop,
        for_file,
    )
}
