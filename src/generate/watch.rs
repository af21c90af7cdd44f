//! Where upstream publishes its releases: the uscan line of `debian/watch`, and the GitHub
//! repository behind a home page.

use super::buildsys::BuildSystem;
use crate::upstream::Upstream;

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
}
