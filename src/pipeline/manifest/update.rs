//! Refreshes an existing `debian/mlmodel.toml` from a new draft (`init --manifest-only
//! --update`), as `toml_edit` documents so that the maintainer's comments, layout and facts
//! survive: only what a scan knows changes.
//!
//! A drafted model matches an existing one that lists any of its files, or else has its name.
//! A match gets the draft's `files` and `[model.pins]` (a new upstream release brings new
//! digests), and its `format` when the maintainer's is still a placeholder; every other key is
//! left as it is. A drafted model with no match is appended with its placeholders. An existing
//! model the scan no longer finds is kept, with a warning: only the maintainer removes models.

use anyhow::{Context, Result};
use toml_edit::{DocumentMut, Item, Table};

use super::PLACEHOLDER_PREFIX;
use crate::error::ResultExt;

/// What an update changed, for the report.
#[derive(Debug, Default)]
pub struct Changes {
    /// Models whose files or pins changed.
    pub refreshed: Vec<String>,
    /// Models found by the scan and added.
    pub added: Vec<String>,
    /// Models the scan no longer finds (kept).
    pub unmatched: Vec<String>,
}

/// The text of `existing` updated with the scan facts of `draft`; `origin` names the existing
/// manifest in messages.
pub fn update(origin: &str, existing: &str, draft: &str) -> Result<(String, Changes)> {
    let mut document: DocumentMut = existing
        .parse()
        .with_context(|| format!("{origin}: not valid TOML, so it cannot be updated"))
        .input()?;
    let fresh: DocumentMut = draft
        .parse()
        .context("the drafted manifest is not valid TOML")
        .internal()?;
    let mut changes = Changes::default();
    let mut next_position = max_position(document.as_table()) + 1;
    let drafted = fresh
        .get("model")
        .and_then(Item::as_array_of_tables)
        .map(|models| models.iter().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    if document.get("model").is_none() {
        document.insert("model", Item::ArrayOfTables(Default::default()));
    }
    let models = document
        .get_mut("model")
        .and_then(Item::as_array_of_tables_mut)
        .with_context(|| format!("{origin}: `model` is not an array of [[model]] tables"))
        .input()?;
    let mut matched = vec![false; models.len()];
    for mut new in drafted {
        let index = models
            .iter()
            .position(|old| shares_a_file(old, &new))
            .or_else(|| models.iter().position(|old| name(old) == name(&new)));
        match index {
            Some(index) => {
                matched[index] = true;
                let old = models.get_mut(index).expect("index from position");
                if refresh(old, &new) {
                    changes.refreshed.push(name(old).unwrap_or_default());
                }
            }
            None => {
                changes.added.push(name(&new).unwrap_or_default());
                // Positions order tables in the output: the new model goes after everything.
                renumber(&mut new, &mut next_position);
                models.push(new);
            }
        }
    }
    for (model, matched) in models.iter().zip(matched) {
        if !matched {
            changes.unmatched.push(name(model).unwrap_or_default());
        }
    }
    Ok((document.to_string(), changes))
}

fn name(model: &Table) -> Option<String> {
    model.get("name")?.as_str().map(str::to_string)
}

fn files(model: &Table) -> Vec<String> {
    model
        .get("files")
        .and_then(Item::as_array)
        .map(|files| {
            files
                .iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn shares_a_file(old: &Table, new: &Table) -> bool {
    let old_files = files(old);
    files(new).iter().any(|f| old_files.contains(f))
}

/// Gives `old` the scan facts of `new`; whether anything changed.
fn refresh(old: &mut Table, new: &Table) -> bool {
    let mut changed = false;
    if files(old) != files(new)
        && let Some(files) = new.get("files")
    {
        replace_value(old, "files", files);
        changed = true;
    }
    if let Some(new_pins) = new.get("pins").and_then(Item::as_table) {
        match old.get_mut("pins").and_then(Item::as_table_mut) {
            Some(old_pins) => {
                let stale: Vec<String> = old_pins
                    .iter()
                    .map(|(key, _)| key.to_string())
                    .filter(|key| !new_pins.contains_key(key))
                    .collect();
                for key in stale {
                    old_pins.remove(&key);
                    changed = true;
                }
                for (key, pin) in new_pins.iter() {
                    // A pin the scan could not see (a fetched file) never replaces one the
                    // maintainer or `dh-mlmodel pin` filled in.
                    if pin.to_string().contains(PLACEHOLDER_PREFIX) && old_pins.contains_key(key) {
                        continue;
                    }
                    let same = old_pins
                        .get(key)
                        .is_some_and(|old| old.to_string().trim() == pin.to_string().trim());
                    if !same {
                        replace_value(old_pins, key, pin);
                        changed = true;
                    }
                }
            }
            None => {
                old.insert("pins", Item::Table(new_pins.clone()));
                changed = true;
            }
        }
    }
    let placeholder_format = old
        .get("format")
        .and_then(Item::as_str)
        .is_none_or(|f| f.starts_with(PLACEHOLDER_PREFIX));
    if placeholder_format
        && let Some(format) = new.get("format")
        && format
            .as_str()
            .is_some_and(|f| !f.starts_with(PLACEHOLDER_PREFIX))
    {
        replace_value(old, "format", format);
        changed = true;
    }
    changed
}

/// Sets `table[key]` to `item`, keeping the key's place and comments when it exists.
fn replace_value(table: &mut Table, key: &str, item: &Item) {
    match table.get_mut(key) {
        Some(slot) => *slot = item.clone(),
        None => {
            table.insert(key, item.clone());
        }
    }
}

fn max_position(table: &Table) -> isize {
    let own = table.position().unwrap_or(0);
    table
        .iter()
        .filter_map(|(_, item)| match item {
            Item::Table(sub) => Some(max_position(sub)),
            Item::ArrayOfTables(array) => array.iter().map(max_position).max(),
            _ => None,
        })
        .fold(own, isize::max)
}

/// Numbers `table` and its sub-tables from `next` on, in their current order.
fn renumber(table: &mut Table, next: &mut isize) {
    table.set_position(Some(*next));
    *next += 1;
    for (_, item) in table.iter_mut() {
        match item {
            Item::Table(sub) => renumber(sub, next),
            Item::ArrayOfTables(array) => array.iter_mut().for_each(|t| renumber(t, next)),
            _ => {}
        }
    }
}
