//! Makefiles (GNU Make, and automake's `Makefile.am`/`Makefile.in`): `NAME = value` in its
//! flavours, `$(NAME)`/`${NAME}` and `$@` references, rules. Which targets a package build
//! reaches decides whether a recipe's download is part of the build.

use std::collections::{HashSet, VecDeque};

use super::syntax::{Assignment, Blocks, Reference, Syntax, Value, Variables, is_name_char};

/// Reads one Makefile, keeping its rules.
#[derive(Debug, Default)]
pub struct Make {
    /// The first target of the rule whose recipe is being read: what `$@` stands for.
    target: Option<String>,
    rules: Vec<Rule>,
}

/// A Make rule: its targets and prerequisites (expanded), and its block.
#[derive(Debug, Clone)]
struct Rule {
    targets: Vec<String>,
    prerequisites: Vec<String>,
    block: u32,
}

/// A parsed assignment: the name, the value as written, and whether it appends (`+=`).
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    name: String,
    value: String,
    append: bool,
}

impl Syntax for Make {
    fn continuation_mark(&self) -> Option<char> {
        Some('\\')
    }

    /// A line not indented by a tab ends the recipe before it; a rule line opens a block
    /// named by its targets.
    fn track_block(&mut self, text: &str, vars: &Variables, blocks: &mut Blocks) {
        if text.starts_with('\t') {
            return;
        }
        self.target = None;
        blocks.enter(0);
        if parse_assignment(text).is_some() {
            return;
        }
        let Some((targets, prerequisites)) = text.trim().split_once(':') else {
            return;
        };
        let targets = self.expand(targets, vars).text;
        let prerequisites = prerequisites.split(';').next().unwrap_or("");
        let prerequisites = self.expand(prerequisites, vars).text;
        let targets: Vec<String> = targets.split_whitespace().map(String::from).collect();
        if targets.is_empty() || targets[0].starts_with('.') {
            return;
        }
        let block = blocks.open(&targets.join(" "));
        self.target = targets.first().cloned();
        self.rules.push(Rule {
            targets,
            prerequisites: prerequisites
                .split_whitespace()
                .filter(|p| *p != "|")
                .map(String::from)
                .collect(),
            block,
        });
    }

    fn assignment(&self, text: &str, vars: &Variables) -> Option<Assignment> {
        let parsed = parse_assignment(text)?;
        let mut value = Value::expanded(self, parsed.value, vars);
        if parsed.append
            && let Some(old) = vars.get(&parsed.name)
        {
            value.text = format!("{old} {}", value.text);
        }
        Some(Assignment {
            name: parsed.name,
            value: Some(value),
        })
    }

    fn reference(&self, text: &str, vars: &Variables) -> Option<Reference> {
        let special = |value: String| Reference {
            value,
            name: None,
            len: 2,
        };
        if text.starts_with("$$") {
            return Some(special("$".to_string()));
        }
        if text.starts_with("$@") {
            return Some(special(self.target.clone()?));
        }
        let rest = text.strip_prefix('$')?;
        let close = match rest.chars().next()? {
            '(' => ')',
            '{' => '}',
            _ => return None,
        };
        let end = rest.find(close)?;
        let name = &rest[1..end];
        Some(Reference {
            value: vars.get(name)?.to_string(),
            name: Some(name.to_string()),
            len: end + 2,
        })
    }

    /// The blocks of rules not reached from the goals a package build runs: those given, and
    /// the default goal (the first target that is not a pattern).
    fn blocks_outside_build(&self, build_goals: &[String]) -> HashSet<u32> {
        let mut goals: Vec<String> = build_goals.to_vec();
        if let Some(default) = self
            .rules
            .iter()
            .flat_map(|r| r.targets.first())
            .find(|t| !t.contains('%'))
        {
            goals.push(default.clone());
        }
        let mut reached: HashSet<String> = HashSet::new();
        let mut queue: VecDeque<String> = goals.into_iter().collect();
        let mut reached_blocks = HashSet::new();
        while let Some(goal) = queue.pop_front() {
            if !reached.insert(goal.clone()) {
                continue;
            }
            for rule in &self.rules {
                if rule.targets.iter().any(|t| target_matches(t, &goal)) {
                    reached_blocks.insert(rule.block);
                    queue.extend(rule.prerequisites.iter().cloned());
                }
            }
        }
        self.rules
            .iter()
            .map(|r| r.block)
            .filter(|b| !reached_blocks.contains(b))
            .collect()
    }
}

/// `[export|override] NAME op value` with op one of `=`, `:=`, `::=`, `?=`, `+=`. Recipe lines
/// (tab-indented) are commands, never assignments.
fn parse_assignment(line: &str) -> Option<Parsed> {
    if line.starts_with('\t') {
        return None;
    }
    let mut rest = line.trim();
    for keyword in ["export ", "override "] {
        if let Some(after) = rest.strip_prefix(keyword) {
            rest = after.trim_start();
        }
    }
    let end = rest
        .find(|c: char| !(is_name_char(c) || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    let (name, after) = rest.split_at(end);
    if name.is_empty() {
        return None;
    }
    let after = after.trim_start();
    let (op, value) = ["::=", ":=", "?=", "+=", "="]
        .iter()
        .find_map(|op| after.strip_prefix(op).map(|v| (*op, v)))?;
    if value.starts_with('=') {
        return None;
    }
    Some(Parsed {
        name: name.to_string(),
        value: value.trim().to_string(),
        append: op == "+=",
    })
}

/// A Make target or pattern (`%.bin`) matching `name`.
fn target_matches(target: &str, name: &str) -> bool {
    match target.split_once('%') {
        Some((prefix, suffix)) => {
            name.len() >= prefix.len() + suffix.len()
                && name.starts_with(prefix)
                && name.ends_with(suffix)
        }
        None => target == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_but_not_rules_or_recipes() {
        let parsed = parse_assignment("MODEL := model-$(HASH).bin").unwrap();
        assert_eq!(
            (parsed.name.as_str(), parsed.value.as_str(), parsed.append),
            ("MODEL", "model-$(HASH).bin", false)
        );
        assert!(parse_assignment("FLAGS += -O2").unwrap().append);
        assert!(parse_assignment("all: model.bin").is_none());
        assert!(parse_assignment("\tURL=x").is_none());
    }

    #[test]
    fn references_escapes_and_the_recipe_target() {
        let mut vars = Variables::default();
        vars.set("B", "https://h".into());
        let make = Make {
            target: Some("t".to_string()),
            rules: Vec::new(),
        };
        assert_eq!(make.expand("$(B)/$@ $${X}", &vars).text, "https://h/t ${X}");
    }

    #[test]
    fn targets_no_build_goal_reaches() {
        let mut make = Make::default();
        let mut blocks = Blocks::default();
        let vars = Variables::default();
        for line in ["all: model.bin", "model.bin:", "%.o: %.c", "fetch-extra:"] {
            make.track_block(line, &vars, &mut blocks);
        }
        let goals = ["install".to_string()];
        assert_eq!(make.blocks_outside_build(&goals), HashSet::from([3, 4]));
    }
}
