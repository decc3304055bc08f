//! Each page's HTML, handed from the loaded site to the step that renders
//! the page, which lets it go once the page is written.
//!
//! A build renders every page's Markdown before any template: lists need
//! every summary, and `@/` links every permalink. Held in the site until
//! the end, the HTML of ten thousand pages was a fifth of a full build's
//! memory, and fresh memory costs time as well as room.

use crate::markdown::Heading;
use crate::site::Site;
use std::sync::Mutex;

/// The HTML and table of contents of each page, by page index.
pub struct PageHtml {
    slots: Vec<Mutex<Option<Html>>>,
}

/// A page's HTML and its table of contents.
type Html = (String, Vec<Heading>);

impl PageHtml {
    /// Takes the HTML and table of contents out of the pages of `site`.
    /// Each page is left `deferred`, as a page whose Markdown was not
    /// rendered is: whatever else needs its HTML renders it again.
    pub fn take_from(site: &mut Site) -> PageHtml {
        let slots = site
            .content
            .pages
            .iter_mut()
            .map(|p| {
                let r = &mut p.rendered;
                let taken: Option<Html> = (!r.deferred).then(|| {
                    r.deferred = true;
                    (std::mem::take(&mut r.html), std::mem::take(&mut r.toc))
                });
                Mutex::new(taken)
            })
            .collect();
        PageHtml { slots }
    }

    /// Page `i`'s HTML and table of contents, if still here: each is
    /// taken once.
    pub(super) fn take(&self, i: usize) -> Option<Html> {
        let slot = self.slots.get(i)?;
        slot.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}
