//! Documentation (READMEs, Markdown, reStructuredText, plain text) and JSON data: every line
//! stands alone, with no comments, variables or blocks. Commands shown in documentation are
//! run by hand, if at all; a JSON catalogue's URLs are fetched by whatever reads it.

use super::policy::DownloadPolicy;
use super::syntax::{Assignment, Blocks, Reference, Syntax, Variables};

pub struct Docs;

impl Syntax for Docs {
    /// `#` starts a heading, not a comment.
    fn is_comment(&self, _line: &str) -> bool {
        false
    }

    fn track_block(&mut self, _text: &str, _vars: &Variables, _blocks: &mut Blocks) {}

    fn assignment(&self, _text: &str, _vars: &Variables) -> Option<Assignment> {
        None
    }

    fn reference(&self, _text: &str, _vars: &Variables) -> Option<Reference> {
        None
    }

    fn runs_commands(&self) -> bool {
        false
    }
}

/// JSON data (`data.json` of ONNX's real-model tests: `{"model_name": …, "url": "https://…"}`):
/// read like documentation, except that a URL under a key naming one (`json-url-keys` in
/// `policy/downloads.toml`) is fetched by the program that reads the file, and is reported
/// when it is about models, as a generic fetch would be. Only files up to the policy's
/// `max-file-size` are read, as every other text file.
pub struct Json;

impl Syntax for Json {
    fn is_comment(&self, _line: &str) -> bool {
        false
    }

    fn track_block(&mut self, _text: &str, _vars: &Variables, _blocks: &mut Blocks) {}

    fn assignment(&self, _text: &str, _vars: &Variables) -> Option<Assignment> {
        None
    }

    fn reference(&self, _text: &str, _vars: &Variables) -> Option<Reference> {
        None
    }

    fn runs_commands(&self) -> bool {
        false
    }

    fn fetches(&self, policy: &DownloadPolicy, text: &str) -> bool {
        policy.json_url_value(text)
    }
}
