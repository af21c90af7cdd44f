//! Which packages a census fetches, and why: the rules of `policy/census.toml` applied to the
//! file names of the Contents indexes and to the Packages index.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::index::PackageEntry;

/// `policy/census.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CensusPolicy {
    pub extensions: Vec<String>,
    pub directories: Vec<String>,
    pub directory_ignored_extensions: Vec<String>,
    pub python_path_file_directories: Vec<String>,
    pub packages: Vec<String>,
    pub package_prefixes: Vec<String>,
    pub data_package_suffixes: Vec<String>,
    pub data_package_mean_file_bytes: u64,
    pub max_index_line_bytes: usize,
    pub max_packages_paragraph_bytes: usize,
    pub paths_per_reason: usize,
}

/// A package chosen for the census, with the reasons.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Candidate {
    /// The package's Packages-index entry; flattened so each JSON line names the package's
    /// fields directly.
    #[serde(flatten)]
    pub entry: PackageEntry,
    pub reasons: Vec<String>,
}

/// What the Contents indexes say about one package, as the rules need it.
#[derive(Debug, Default)]
pub struct FileEvidence {
    /// Files listed.
    files: u64,
    /// Per rule (`extension .onnx`, `directory models/`): the files matched and the first
    /// few paths.
    matches: BTreeMap<String, (u64, Vec<String>)>,
}

/// Collects file evidence from Contents lines.
pub struct Selector<'a> {
    policy: &'a CensusPolicy,
    extensions: BTreeSet<String>,
    directories: BTreeSet<&'a str>,
    ignored: BTreeSet<String>,
    evidence: HashMap<String, FileEvidence>,
}

impl<'a> Selector<'a> {
    pub fn new(policy: &'a CensusPolicy) -> Self {
        Self {
            policy,
            extensions: policy.extensions.iter().map(|e| e.to_lowercase()).collect(),
            directories: policy.directories.iter().map(String::as_str).collect(),
            ignored: policy
                .directory_ignored_extensions
                .iter()
                .map(|e| e.to_lowercase())
                .collect(),
            evidence: HashMap::new(),
        }
    }

    /// One file of a Contents index.
    pub fn file(&mut self, path: &str, package: &str) {
        let evidence = match self.evidence.get_mut(package) {
            Some(evidence) => evidence,
            None => self.evidence.entry(package.to_string()).or_default(),
        };
        evidence.files += 1;
        let (dirs, name) = path.rsplit_once('/').unwrap_or(("", path));
        let extension = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let python_path_file = extension == "pth"
            && self
                .policy
                .python_path_file_directories
                .iter()
                .any(|d| dirs.rsplit('/').next() == Some(d.as_str()));
        let mut rule = None;
        if python_path_file {
            return;
        }
        if !extension.is_empty() && self.extensions.contains(&extension) {
            rule = Some(format!("extension .{extension}"));
        } else if !self.ignored.contains(&extension)
            && let Some(dir) = dirs.split('/').find(|d| self.directories.contains(d))
        {
            rule = Some(format!("directory {dir}/"));
        }
        if let Some(rule) = rule {
            let (count, paths) = evidence.matches.entry(rule).or_default();
            *count += 1;
            if paths.len() < self.policy.paths_per_reason {
                paths.push(path.to_string());
            }
        }
    }

    /// The candidates among `packages`, each with every reason that chose it, in name order.
    pub fn candidates(&self, packages: &BTreeMap<String, PackageEntry>) -> Vec<Candidate> {
        let policy = self.policy;
        let mut out = Vec::new();
        for entry in packages.values() {
            let name = entry.package.as_str();
            let mut reasons = Vec::new();
            if policy.packages.iter().any(|p| p == name) {
                reasons.push("known data package".to_string());
            }
            if let Some(prefix) = policy
                .package_prefixes
                .iter()
                .find(|p| name.starts_with(p.as_str()))
            {
                reasons.push(format!("known family {prefix}*"));
            }
            let evidence = self.evidence.get(name);
            if let Some(evidence) = evidence {
                for (rule, (count, paths)) in &evidence.matches {
                    let more = count.saturating_sub(paths.len() as u64);
                    let more = if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    };
                    reasons.push(format!("{rule}: {}{more}", paths.join(", ")));
                }
            }
            let files = evidence.map_or(0, |e| e.files);
            if files > 0
                && policy
                    .data_package_suffixes
                    .iter()
                    .any(|s| name.ends_with(s.as_str()))
            {
                let mean = entry.installed_size / files;
                if mean >= policy.data_package_mean_file_bytes {
                    reasons.push(format!(
                        "data package: {files} files of {} on average",
                        human_bytes(mean)
                    ));
                }
            }
            if !reasons.is_empty() {
                out.push(Candidate {
                    entry: entry.clone(),
                    reasons,
                });
            }
        }
        out
    }
}

/// `bytes` for people: `1.5 MB` (SI units, as apt prints sizes).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySource;

    fn entry(name: &str, installed_size: u64) -> PackageEntry {
        PackageEntry {
            package: name.to_string(),
            version: "1".to_string(),
            architecture: "all".to_string(),
            area: "main".to_string(),
            section: "misc".to_string(),
            size: 1,
            installed_size,
        }
    }

    #[test]
    fn each_rule_gives_its_reason_and_code_under_models_is_not_one() {
        let policy: CensusPolicy = PolicySource::embedded().table("census.toml").unwrap();
        let mut selector = Selector::new(&policy);
        selector.file("usr/share/a/net.onnx", "a");
        selector.file("usr/share/a/b.onnx", "a");
        selector.file("usr/share/a/c.ONNX", "a");
        selector.file(
            "usr/lib/python3/dist-packages/django/db/models/base.py",
            "django",
        );
        selector.file("usr/share/t/tessdata/eng.bin", "t");
        selector.file("usr/lib/python3/dist-packages/x-nspkg.pth", "python3-x");
        selector.file("usr/lib/python3/dist-packages/y/net.pth", "python3-y");
        selector.file("usr/share/big/one", "big-data");
        selector.file("usr/share/small/one", "small-data");
        let packages: BTreeMap<String, PackageEntry> = [
            entry("a", 10),
            entry("django", 10),
            entry("python3-x", 10),
            entry("python3-y", 10),
            entry("t", 10),
            entry("big-data", 5 << 20),
            entry("small-data", 1000),
            entry("stockfish", 10),
            entry("tesseract-ocr-fra", 10),
        ]
        .into_iter()
        .map(|e| (e.package.clone(), e))
        .collect();
        let chosen: BTreeMap<String, Vec<String>> = selector
            .candidates(&packages)
            .into_iter()
            .map(|c| (c.entry.package, c.reasons))
            .collect();
        assert_eq!(
            chosen["a"],
            ["extension .onnx: usr/share/a/net.onnx, usr/share/a/b.onnx and 1 more"]
        );
        assert_eq!(
            chosen["t"],
            ["directory tessdata/: usr/share/t/tessdata/eng.bin"]
        );
        assert_eq!(
            chosen["big-data"],
            ["data package: 1 files of 5.2 MB on average"]
        );
        assert_eq!(chosen["stockfish"], ["known data package"]);
        assert_eq!(
            chosen["tesseract-ocr-fra"],
            ["known family tesseract-ocr-*"]
        );
        assert!(!chosen.contains_key("django"));
        assert!(!chosen.contains_key("python3-x"));
        assert_eq!(
            chosen["python3-y"],
            ["extension .pth: usr/lib/python3/dist-packages/y/net.pth"]
        );
        assert!(!chosen.contains_key("small-data"));
    }
}
