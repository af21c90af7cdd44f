//! Where upstream publishes its releases: the uscan line of `debian/watch`, and the GitHub
//! repository behind a home page.

use super::buildsys::BuildSystem;
use crate::upstream::{DATE_VERSION_PREFIX, Upstream, is_date_version};

/// `https://github.com/OWNER/REPO` of a GitHub URL.
pub fn github_repository(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://github.com/")
        .or_else(|| url.strip_prefix("http://github.com/"))?;
    let mut parts = rest.split('/').filter(|p| !p.is_empty());
    let owner = parts.next()?;
    let repo = parts.next()?.trim_end_matches(".git");
    Some(format!("https://github.com/{owner}/{repo}"))
}

/// The uscan line for upstream's releases: GitHub tags, else PyPI for Python, else the home page.
pub fn watch_line(
    upstream: &Upstream,
    repository: Option<&str>,
    build: &BuildSystem,
    name: &str,
) -> Option<String> {
    if let Some(repository) = repository {
        return Some(format!(
            "{repository}/tags .*/archive/refs/tags/v?@ANY_VERSION@@ARCHIVE_EXT@"
        ));
    }
    if build.name == "python" && upstream.name.is_some() {
        return Some(format!(
            "https://pypi.debian.net/{name}/{name}@ANY_VERSION@@ARCHIVE_EXT@"
        ));
    }
    upstream
        .homepage
        .as_ref()
        .filter(|h| h.starts_with("http"))
        .map(|homepage| format!("{homepage} .*/{name}@ANY_VERSION@@ARCHIVE_EXT@"))
}

/// uscan's `opts=` for debian/watch, if any: with a repack suffix, `repacksuffix` and the
/// `dversionmangle` that takes it off the Debian version; with a date version behind
/// [`DATE_VERSION_PREFIX`] (`0~20250625`), the `uversionmangle` that puts the prefix on what
/// uscan finds upstream, so that the two compare.
pub fn watch_options(repack_suffix: Option<&str>, upstream_version: &str) -> Option<String> {
    let mut options = Vec::new();
    if let Some(suffix) = repack_suffix {
        options.push(format!("repacksuffix={suffix}"));
        options.push(r"dversionmangle=s/\+(ds|dfsg)\d*$//".to_string());
    }
    if upstream_version
        .strip_prefix(DATE_VERSION_PREFIX)
        .is_some_and(is_date_version)
    {
        options.push(format!("uversionmangle=s/^/{DATE_VERSION_PREFIX}/"));
    }
    (!options.is_empty()).then(|| options.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_repository_of_a_url() {
        assert_eq!(
            github_repository("https://github.com/o/r.git").as_deref(),
            Some("https://github.com/o/r")
        );
        assert_eq!(github_repository("https://example.org/x"), None);
    }

    #[test]
    fn watch_options_mangle_the_repack_suffix_and_a_date_version() {
        assert_eq!(watch_options(None, "1.2.3"), None);
        assert_eq!(
            watch_options(Some("+ds"), "1.2.3").as_deref(),
            Some(r"repacksuffix=+ds,dversionmangle=s/\+(ds|dfsg)\d*$//")
        );
        assert_eq!(
            watch_options(None, "0~20250625").as_deref(),
            Some("uversionmangle=s/^/0~/")
        );
    }
}
