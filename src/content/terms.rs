//! The taxonomy terms a page's front matter gives it.

/// A page's terms, by taxonomy, ordered by taxonomy name.
///
/// A list rather than a map: nearly every page names one or two taxonomies,
/// and a rebuild decodes ten thousand pages from the page cache; a
/// `BTreeMap` allocated a 540-byte node per page for this and a second one
/// for the lines, a third of a decoded page.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageTerms(Vec<Terms>);

/// The terms of one taxonomy, as written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Terms {
    pub taxonomy: String,
    pub terms: Vec<String>,
    /// The line of the file the taxonomy is written on, when known.
    pub line: Option<usize>,
}

impl PageTerms {
    /// The terms of `taxonomies`, in any order (each taxonomy once).
    pub fn new(taxonomies: impl IntoIterator<Item = Terms>) -> PageTerms {
        let mut list: Vec<Terms> = taxonomies.into_iter().collect();
        list.sort_by(|a, b| a.taxonomy.cmp(&b.taxonomy));
        PageTerms(list)
    }

    /// The terms of the taxonomy `name`, if the page names it.
    pub fn get(&self, name: &str) -> Option<&Vec<String>> {
        self.find(name).map(|t| &t.terms)
    }

    /// The line the taxonomy `name` is written on, if known.
    pub fn line(&self, name: &str) -> Option<usize> {
        self.find(name).and_then(|t| t.line)
    }

    /// Each taxonomy the page names, with its terms, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<String>)> {
        self.0.iter().map(|t| (&t.taxonomy, &t.terms))
    }

    fn find(&self, name: &str) -> Option<&Terms> {
        self.0.iter().find(|t| t.taxonomy == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(taxonomy: &str, terms: &[&str], line: Option<usize>) -> Terms {
        Terms {
            taxonomy: taxonomy.into(),
            terms: terms.iter().map(|t| t.to_string()).collect(),
            line,
        }
    }

    #[test]
    fn taxonomies_come_by_name_with_their_terms_and_lines() {
        let page = PageTerms::new([
            terms("tags", &["Rust", "web"], Some(7)),
            terms("authors", &["Ana"], None),
        ]);
        let names: Vec<&String> = page.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["authors", "tags"]);
        assert_eq!(page.get("tags").unwrap(), &["Rust", "web"]);
        assert_eq!(page.line("tags"), Some(7));
        assert_eq!(page.line("authors"), None);
        assert_eq!(page.get("series"), None);
        assert_eq!(page.line("series"), None);
    }
}
