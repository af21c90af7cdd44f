//! Hub calls: Python calls that fetch a model (or data) by name, with or without a URL
//! (`from_pretrained("gpt2")`, `hf_hub_download(repo_id=…, filename=…)`, `torch.hub.load`,
//! Keras' `get_file(fname, origin=…, file_hash=…)`, …). The calls and which argument says what
//! are the `[[hub-calls]]` table of `policy/downloads.toml`; this module only reads a parsed
//! call against it.

use super::policy::{Argument, DownloadPolicy, HubCall};
use super::syntax::Variables;
use crate::scan::Verification;
use crate::scan::finding::Hub;

/// One call found on a logical line: its dotted name and its arguments, evaluated where they
/// are string expressions of literals and known variables.
#[derive(Debug, Clone)]
pub struct Call {
    pub name: String,
    pub positional: Vec<ArgValue>,
    pub keywords: Vec<(String, ArgValue)>,
}

/// An argument's value, as far as reading the text tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgValue {
    /// A string expression, evaluated; `source` as written; `used` the variables it read.
    Str {
        value: String,
        source: String,
        used: Vec<String>,
    },
    /// A bare name whose value is not known (`model_name`, `True`).
    Name(String),
    /// Anything else, as written.
    Other(String),
}

impl ArgValue {
    /// The value as a comparison with a policy value sees it: a string's content, a name.
    fn text(&self) -> &str {
        match self {
            ArgValue::Str { value, .. } => value,
            ArgValue::Name(name) | ArgValue::Other(name) => name,
        }
    }

    fn string(&self) -> Option<&str> {
        match self {
            ArgValue::Str { value, .. } => Some(value),
            _ => None,
        }
    }
}

impl Call {
    fn argument(&self, argument: &Argument) -> Option<&ArgValue> {
        argument
            .keyword
            .as_deref()
            .and_then(|k| self.keyword(k))
            .or_else(|| argument.position.and_then(|p| self.positional.get(p)))
    }

    fn keyword(&self, keyword: &str) -> Option<&ArgValue> {
        self.keywords
            .iter()
            .find(|(k, _)| k == keyword)
            .map(|(_, v)| v)
    }

    /// The call's last name (`ResNet50` of `keras.applications.ResNet50`).
    fn last_name(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }

    fn named(&self, names: &[String]) -> bool {
        names.iter().any(|n| {
            n == "*"
                || self.name == *n
                || self
                    .name
                    .strip_suffix(n.as_str())
                    .is_some_and(|head| head.ends_with('.'))
        })
    }

    fn keywords_match(&self, wanted: &std::collections::BTreeMap<String, String>) -> bool {
        wanted
            .iter()
            .all(|(k, v)| self.keyword(k).is_some_and(|got| got.text() == v))
    }

    fn any_keyword_matches(&self, wanted: &std::collections::BTreeMap<String, String>) -> bool {
        wanted
            .iter()
            .any(|(k, v)| self.keyword(k).is_some_and(|got| got.text() == v))
    }
}

/// What a hub call fetches, read from its arguments.
#[derive(Debug, Clone)]
pub struct HubFetch {
    pub hub: Hub,
    /// The https URL, when the call is given one or the policy's template makes it.
    pub url: Option<String>,
    pub url_as_written: Option<String>,
    /// The variables read to make the values.
    pub used: Vec<String>,
    pub dataset: bool,
    /// The check the call itself makes (a digest argument).
    pub checked: Option<Verification>,
    pub format: Option<String>,
    /// What the reader should know: a repository named by a variable not known in the file.
    pub note: Option<String>,
}

/// Hub commands on a command line (`python -m spacy download en_core_web_sm` in a script, a
/// Makefile or a README): a table name made of several words (`spacy download`) followed by
/// its arguments, which end at the command's end (`;`, `&&`, `|`, a closing quote).
pub fn command_calls(policy: &DownloadPolicy, text: &str) -> Vec<Call> {
    let mut calls = Vec::new();
    for name in policy.hub_calls.iter().flat_map(|c| &c.names) {
        if !name.contains(' ') {
            continue;
        }
        for (at, _) in text.match_indices(name.as_str()) {
            let starts_word = text[..at]
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || "\"'`;(".contains(c));
            if !starts_word {
                continue;
            }
            let rest = &text[at + name.len()..];
            let end = rest
                .find([';', '&', '|', '"', '\'', '`', ')'])
                .unwrap_or(rest.len());
            let positional = rest[..end]
                .split_whitespace()
                .filter(|w| !w.starts_with('-'))
                .map(|w| ArgValue::Str {
                    value: w.to_string(),
                    source: w.to_string(),
                    used: Vec::new(),
                })
                .collect();
            calls.push(Call {
                name: name.clone(),
                positional,
                keywords: Vec::new(),
            });
        }
    }
    calls
}

/// The call once per literal string its first bare-name argument is known to hold
/// (`from_pretrained(model_type)` after `assert model_type in {'gpt2', 'gpt2-xl'}`): a fetch
/// per model it may name. Only one argument is expanded, so the calls never outnumber that
/// name's choices; a call without such an argument comes back alone.
pub fn with_choices(call: Call, vars: &Variables) -> Vec<Call> {
    let choices_of = |value: &ArgValue| match value {
        ArgValue::Name(name) => vars.choices_of(name).map(|c| (name.clone(), c.to_vec())),
        _ => None,
    };
    let found = call
        .positional
        .iter()
        .enumerate()
        .find_map(|(at, v)| Some((Some(at), None, choices_of(v)?)))
        .or_else(|| {
            call.keywords
                .iter()
                .enumerate()
                .find_map(|(at, (_, v))| Some((None, Some(at), choices_of(v)?)))
        });
    let Some((positional, keyword, (name, choices))) = found else {
        return vec![call];
    };
    choices
        .into_iter()
        .map(|value| {
            let mut one = call.clone();
            let slot = positional
                .and_then(|at| one.positional.get_mut(at))
                .or_else(|| keyword.and_then(|at| one.keywords.get_mut(at).map(|(_, v)| v)));
            if let Some(slot) = slot {
                *slot = ArgValue::Str {
                    value,
                    source: name.clone(),
                    used: vec![name.clone()],
                };
            }
            one
        })
        .collect()
}

/// Reads `call` against the policy's hub-call table: the first entry it matches.
pub fn fetch_of(policy: &DownloadPolicy, call: &Call) -> Option<HubFetch> {
    policy
        .hub_calls
        .iter()
        .find(|entry| {
            call.named(&entry.names)
                && (entry.names.iter().all(|n| n != "*") || !entry.require.is_empty())
                && call.keywords_match(&entry.require)
                && !call.any_keyword_matches(&entry.unless)
        })
        .and_then(|entry| read_call(policy, entry, call))
}

fn read_call(policy: &DownloadPolicy, entry: &HubCall, call: &Call) -> Option<HubFetch> {
    let mut used = Vec::new();
    let mut note = None;
    let mut value_of = |argument: &Option<Argument>, what: &str| -> Option<String> {
        let argument = argument.as_ref()?;
        // A class's name (`ResNet50(weights="imagenet")`); a lower-case callee is a variable
        // or a helper taking the same keyword (`app(weights=…)`, `_obtain_input_shape(…)`).
        if argument.call_name {
            let name = call.last_name();
            return name
                .starts_with(|c: char| c.is_ascii_uppercase())
                .then(|| name.to_string());
        }
        match call.argument(argument)? {
            ArgValue::Str { value, used: u, .. } => {
                used.extend(u.iter().cloned());
                Some(value.clone())
            }
            ArgValue::Name(name) | ArgValue::Other(name) => {
                if note.is_none() {
                    note = Some(format!("{what} given by `{name}`, not known in the file"));
                }
                None
            }
        }
    };
    let mut repo = value_of(&entry.repo, "repository");
    let file = value_of(&entry.file, "file");
    let mut revision = value_of(&entry.revision, "revision");
    let url_argument = entry.url.as_ref().and_then(|a| call.argument(a));
    let dataset = !entry.dataset_if.is_empty() && call.keywords_match(&entry.dataset_if);
    if let Some(ArgValue::Str { used: u, .. }) = url_argument {
        used.extend(u.iter().cloned());
    }
    // A path on disk is not a hub: `from_pretrained("./checkpoints")`.
    if repo.as_deref().is_some_and(|r| {
        policy
            .local_prefixes
            .iter()
            .any(|p| r.starts_with(p.as_str()))
    }) {
        return None;
    }
    if let (Some(separator), Some(full)) = (&entry.revision_separator, repo.clone())
        && let Some((name, rev)) = full.split_once(separator.as_str())
    {
        repo = Some(name.to_string());
        revision = revision.or_else(|| Some(rev.to_string()));
    }
    let (url, url_as_written) = match url_argument {
        Some(ArgValue::Str {
            value,
            source,
            used,
        }) => {
            let written = (!used.is_empty()).then(|| source.clone());
            (Some(value.clone()), written)
        }
        Some(_) => (None, None),
        None => {
            let template = if dataset {
                entry.dataset_url_template.as_deref()
            } else {
                entry.url_template.as_deref()
            };
            let fields = [repo.as_deref(), file.as_deref(), revision.as_deref()];
            (fill_template(entry, template, fields), None)
        }
    };
    // A call that names nothing known in the file (`load_state_dict_from_url(self.url)`,
    // `load_model(name)`) is a library's own plumbing passing its caller's choice along: what
    // is fetched is written where the caller names it, and reported there. A pinned revision
    // is something known (`from_pretrained(name, revision="v1.0")`).
    if repo.is_none() && file.is_none() && url.is_none() && revision.is_none() {
        return None;
    }
    // A call given a URL that is not one (a local path) fetches nothing.
    if url_argument.is_some_and(|v| v.string().is_some()) && !url.as_deref().is_some_and(is_url) {
        return None;
    }
    let named_algorithm = entry
        .hash_algorithm
        .as_ref()
        .and_then(|a| call.argument(a))
        .map(|v| v.text().to_string());
    let checked = entry.hashes.iter().find_map(|h| {
        let value = call.argument(&h.argument())?;
        if matches!(value, ArgValue::Name(n) if n == "None") {
            return None;
        }
        Some(
            h.algorithm
                .verification(value.string(), named_algorithm.as_deref()),
        )
    });
    Some(HubFetch {
        hub: Hub {
            service: entry.service.clone(),
            repo,
            revision,
            file,
        },
        url,
        url_as_written,
        used,
        dataset,
        checked,
        format: entry.format.clone(),
        note,
    })
}

fn is_url(text: &str) -> bool {
    ["https://", "http://", "ftp://"].iter().any(|s| {
        text.get(..s.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(s))
    })
}

/// A URL template of the policy filled with known values (repository, file, revision); `None`
/// when one it needs is unknown.
fn fill_template(
    entry: &HubCall,
    template: Option<&str>,
    [repo, file, revision]: [Option<&str>; 3],
) -> Option<String> {
    let template = template?;
    let revision = revision.or(entry.default_revision.as_deref());
    let mut url = template.to_string();
    for (field, value) in [("{repo}", repo), ("{file}", file), ("{revision}", revision)] {
        if url.contains(field) {
            url = url.replace(field, value?);
        }
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::downloads::policy::tests::policy;

    fn string(value: &str) -> ArgValue {
        ArgValue::Str {
            value: value.to_string(),
            source: format!("{value:?}"),
            used: Vec::new(),
        }
    }

    #[test]
    fn names_match_whole_or_by_their_last_parts() {
        let call = |name: &str| Call {
            name: name.to_string(),
            positional: vec![string("gpt2")],
            keywords: Vec::new(),
        };
        let p = policy();
        assert!(fetch_of(&p, &call("AutoModel.from_pretrained")).is_some());
        assert!(fetch_of(&p, &call("from_pretrained")).is_some());
        assert!(fetch_of(&p, &call("my_from_pretrained")).is_none());
        assert!(fetch_of(&p, &call("ResNet50")).is_none(), "no weights=");
    }

    #[test]
    fn local_paths_are_not_hubs() {
        let call = Call {
            name: "from_pretrained".into(),
            positional: vec![string("./checkpoints/best")],
            keywords: Vec::new(),
        };
        assert!(fetch_of(&policy(), &call).is_none());
    }
}
