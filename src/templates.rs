//! The one minijinja set-up every template of `templates/` renders with: a value missing from the
//! context is an error, never an empty string, and block tags leave no blank lines behind.

use minijinja::{Environment, UndefinedBehavior};

/// An environment with the project's settings and no templates yet.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.add_filter("toml", toml_string);
    env
}

/// A TOML basic string holding `value`, quotes and escapes included.
fn toml_string(value: String) -> String {
    toml::Value::String(value).to_string()
}
