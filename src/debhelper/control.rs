//! The binary packages of `debian/control`, and which of them this build acts on, decided as
//! debhelper's `getpackages` does: by architecture (`all` is arch-independent, `any` or a
//! matching architecture or wildcard is arch-dependent) and by build profile.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// One binary package paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryPackage {
    pub name: String,
    pub architecture: String,
    /// False when `Build-Profiles` excludes it from this build.
    pub in_profile: bool,
    /// The substvars its paragraph uses.
    pub substvars: Vec<String>,
}

impl BinaryPackage {
    pub fn is_indep(&self) -> bool {
        self.architecture == "all"
    }
}

/// What the build acts on: the source name and the binary packages in control-file order.
#[derive(Debug, Clone)]
pub struct ControlFile {
    pub source: String,
    /// The source paragraph's `Maintainer`.
    pub maintainer: String,
    pub homepage: Option<String>,
    pub section: Option<String>,
    pub packages: Vec<BinaryPackage>,
    host_arch: String,
    /// The active build profiles (`DEB_BUILD_PROFILES`).
    profiles: Vec<String>,
}

impl ControlFile {
    /// Reads `debian/control` under `root` ([`crate::control`]), with the active build profiles
    /// from `DEB_BUILD_PROFILES` and the host architecture from `DEB_HOST_ARCH` or
    /// dpkg-architecture.
    pub fn read(root: &Path) -> Result<Self> {
        let control = crate::control::ControlFile::read(root)?;
        let profiles: Vec<String> = std::env::var("DEB_BUILD_PROFILES")
            .unwrap_or_default()
            .split_whitespace()
            .map(String::from)
            .collect();
        let mut packages = Vec::new();
        for binary in control.binaries {
            let in_profile = match &binary.build_profiles {
                Some(formula) => {
                    evaluate_restriction_formula(formula, &profiles).with_context(|| {
                        format!(
                            "{}: package {}: bad Build-Profiles",
                            crate::control::PATH,
                            binary.name
                        )
                    })?
                }
                None => true,
            };
            packages.push(BinaryPackage {
                name: binary.name,
                architecture: binary.architecture,
                in_profile,
                substvars: binary.substvars,
            });
        }
        let host_arch = match std::env::var("DEB_HOST_ARCH") {
            Ok(arch) if !arch.is_empty() => arch,
            _ => dpkg_architecture_value("DEB_HOST_ARCH")?,
        };
        Ok(Self {
            source: control.source,
            maintainer: control.maintainer.with_context(|| {
                format!(
                    "{}: the source paragraph has no Maintainer field",
                    crate::control::PATH
                )
            })?,
            homepage: control.homepage,
            section: control.section,
            packages,
            host_arch,
            profiles,
        })
    }

    /// Whether `package`'s paragraph uses the substvar `name` (dpkg-gencontrol warns about a
    /// substvar with a value that no field uses).
    pub fn uses_substvar(&self, package: &str, name: &str) -> bool {
        self.packages
            .iter()
            .any(|p| p.name == package && p.substvars.iter().any(|v| v == name))
    }

    /// Whether the build profile `name` is active in this build.
    pub fn profile_active(&self, name: &str) -> bool {
        self.profiles.iter().any(|p| p == name)
    }

    /// Every package listed, whatever the build.
    pub fn all_names(&self) -> Vec<String> {
        self.packages.iter().map(|p| p.name.clone()).collect()
    }

    pub fn is_known(&self, name: &str) -> bool {
        self.packages.iter().any(|p| p.name == name)
    }

    /// Arch-independent packages enabled by the build profiles.
    pub fn indep(&self) -> Vec<String> {
        self.enabled()
            .filter(|p| p.is_indep())
            .map(|p| p.name.clone())
            .collect()
    }

    /// Arch-dependent packages built for the host architecture and enabled by the profiles.
    pub fn arch(&self) -> Vec<String> {
        self.enabled()
            .filter(|p| !p.is_indep() && self.builds_on_host(p))
            .map(|p| p.name.clone())
            .collect()
    }

    /// Both kinds, in control-file order.
    pub fn both(&self) -> Vec<String> {
        self.enabled()
            .filter(|p| p.is_indep() || self.builds_on_host(p))
            .map(|p| p.name.clone())
            .collect()
    }

    pub fn host_arch(&self) -> &str {
        &self.host_arch
    }

    fn enabled(&self) -> impl Iterator<Item = &BinaryPackage> {
        self.packages.iter().filter(|p| p.in_profile)
    }

    fn builds_on_host(&self, package: &BinaryPackage) -> bool {
        package
            .architecture
            .split_whitespace()
            .any(|arch| arch_matches(&self.host_arch, arch))
    }
}

/// Whether architecture `host` is covered by `pattern` (a name, `any`, or a wildcard such as
/// `linux-any`, which dpkg-architecture decides, as debhelper's `samearch` does via Dpkg::Arch).
fn arch_matches(host: &str, pattern: &str) -> bool {
    if pattern == "any" || pattern == host {
        return true;
    }
    if !pattern.contains("any") {
        return false;
    }
    Command::new("dpkg-architecture")
        .args(["-a", host, "-i", pattern])
        .env_remove("DEB_HOST_ARCH")
        .output()
        .map(|out| out.status.success())
        .unwrap_or(false)
}

fn dpkg_architecture_value(variable: &str) -> Result<String> {
    super::tool_output(Command::new("dpkg-architecture").arg(format!("-q{variable}")))
}

/// Evaluates a `Build-Profiles` restriction formula such as `<!nocheck> <pkg.foo.bar cross>`:
/// the package is built when any `<…>` list has all its terms true, a term being a profile
/// name that must be active or `!name` that must not.
pub fn evaluate_restriction_formula(formula: &str, active: &[String]) -> Result<bool> {
    let mut rest = formula.trim();
    let mut any_list = false;
    while !rest.is_empty() {
        let Some(after_open) = rest.strip_prefix('<') else {
            bail!("expected '<' at \"{rest}\"");
        };
        let Some((list, after)) = after_open.split_once('>') else {
            bail!("missing '>' in \"{formula}\"");
        };
        any_list = true;
        let satisfied = list
            .split_whitespace()
            .all(|term| match term.strip_prefix('!') {
                Some(name) => !active.iter().any(|p| p == name),
                None => active.iter().any(|p| p == term),
            });
        if satisfied {
            return Ok(true);
        }
        rest = after.trim_start();
    }
    Ok(!any_list)
}

#[cfg(test)]
mod tests {
    use super::evaluate_restriction_formula as eval;

    #[test]
    fn restriction_formulas_follow_dpkg_semantics() {
        let active = vec!["nocheck".to_string(), "pkg.foo.nomodel".to_string()];
        assert!(!eval("<!nocheck>", &active).unwrap());
        assert!(eval("<!nocheck> <pkg.foo.nomodel>", &active).unwrap());
        assert!(eval("<nocheck pkg.foo.nomodel>", &active).unwrap());
        assert!(!eval("<nocheck !pkg.foo.nomodel>", &active).unwrap());
        assert!(eval("<!cross>", &[]).unwrap());
        assert!(eval("<stage1", &[]).is_err());
    }
}
