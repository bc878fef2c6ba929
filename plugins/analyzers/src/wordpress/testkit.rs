//! A small harness for the analyzer's tests: renders tool calls from the real squad
//! manifest (so canonical lines are the ones production prints), feeds each run through
//! `learn` as the planner does, then diagnoses and flattens the findings into answer text.

use std::collections::BTreeMap;

use squadron_core::output::ToolOutput;
use squadron_core::squad::BuildContext;
use squadron_core::{Analyzer, Entities, Finding, Investigation, Severity, Squad, ToolRun};

use super::WordpressAnalyzer;

const MANIFEST: &str = include_str!("../../../../squads/wordpress/squad.toml");

pub fn squad() -> Squad {
    let cx = BuildContext {
        file: "squads/wordpress/squad.toml",
        prompt_exists: &|_| true,
        analyzer_exists: &|_| true,
    };
    match Squad::from_toml(MANIFEST, &cx) {
        Ok(s) => s,
        Err(e) => panic!("the wordpress manifest does not build: {e}"),
    }
}

/// One turn under test.
pub struct Kit {
    squad: Squad,
    pub entities: Entities,
    pub runs: Vec<ToolRun>,
    /// 2024-11-21T12:00:00Z unless a test sets it.
    pub now: i64,
}

impl Kit {
    /// A node with a site at https://shop.example, WordPress in /var/www/html and a MySQL
    /// database `shop_wp`.
    pub fn new() -> Kit {
        let mut entities = Entities::new();
        entities.set("site_url", "https://shop.example");
        entities.set("wordpress_path", "/var/www/html");
        entities.set("database", "shop_wp");
        entities.set("db_engine", "mysql");
        Kit {
            squad: squad(),
            entities,
            runs: Vec::new(),
            now: 1_732_190_400,
        }
    }

    /// Renders `tool` with `args` (the rest from entities, as the planner binds them), gives
    /// it the output, and lets the analyzer learn from it.
    pub fn run(
        &mut self,
        tool: &str,
        args: &[(&str, &str)],
        exit: i32,
        stdout: &str,
        stderr: &str,
    ) -> &mut Kit {
        let Some(t) = self.squad.tool(tool).cloned() else {
            panic!("no tool {tool}");
        };
        let mut bound: BTreeMap<String, String> = BTreeMap::new();
        for p in &t.params {
            if let Some(v) = self.entities.get(&p.name) {
                bound.insert(p.name.clone(), v.to_owned());
            }
        }
        if matches!(t.kind, squadron_core::squad::ToolKind::Sql { .. }) {
            bound.insert(
                "database".into(),
                self.entities
                    .get("database")
                    .unwrap_or("shop_wp")
                    .to_owned(),
            );
        }
        for (k, v) in args {
            bound.insert((*k).to_owned(), (*v).to_owned());
        }
        let invocation = match t.render(&bound) {
            Ok(i) => i,
            Err(e) => panic!("{tool} does not render: {e}"),
        };
        let run = ToolRun {
            node: "wp-test".into(),
            invocation,
            output: ToolOutput::finished(exit, stdout.to_owned(), stderr.to_owned()),
        };
        WordpressAnalyzer.learn(&run, &mut self.entities, "");
        self.runs.push(run);
        self
    }

    /// Shorthand for a successful run.
    pub fn ok(&mut self, tool: &str, args: &[(&str, &str)], stdout: &str) -> &mut Kit {
        self.run(tool, args, 0, stdout, "")
    }

    pub fn diagnose(&mut self, intent: &str) -> Vec<Finding> {
        let mut inv = Investigation {
            squad: "wordpress",
            intent,
            message: "",
            runs: &self.runs,
            entities: &mut self.entities,
            now: self.now,
        };
        let mut f = WordpressAnalyzer.diagnose(&mut inv);
        f.sort_by_key(|b| std::cmp::Reverse(b.severity));
        f
    }

    /// The findings as one text, the way an answer shows them.
    pub fn answer(&mut self, intent: &str) -> String {
        text(&self.diagnose(intent))
    }
}

/// Findings flattened to text: titles, details, evidence, fixes and code.
pub fn text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let label = match f.severity {
            Severity::Critical => "Problem",
            Severity::Warning => "Warning",
            Severity::Info => "Note",
        };
        out.push_str(&format!("{label}: {}\n", f.title));
        for d in &f.details {
            out.push_str(&format!("{d}\n"));
        }
        for e in &f.evidence {
            out.push_str(&format!(
                "Evidence from `{}`:\n{}\n",
                e.source,
                e.lines.join("\n")
            ));
        }
        for fix in &f.fixes {
            out.push_str(&format!("- {}\n", fix.text));
            if let Some(c) = &fix.code {
                out.push_str(&format!("{}\n", c.body));
            }
        }
    }
    out
}
