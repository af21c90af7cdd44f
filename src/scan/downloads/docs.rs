//! Documentation (READMEs, Markdown, reStructuredText, plain text): every line stands alone,
//! with no comments, variables or blocks. Commands shown in it are run by hand, if at all.

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
