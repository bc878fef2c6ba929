//! Redirect chains rebuilt from the turn's HTTP runs: start at the site's front page,
//! follow each `Location` to the run that fetched it, and stop at a final answer, a URL seen
//! before (a loop), or a hop nobody fetched.

use squadron_core::Investigation;
use squadron_core::output::ToolRun;

use super::common;
use super::http::Response;
use super::url::{self, Url};

/// Hops followed at most.
pub const MAX_HOPS: usize = 8;

/// One request of the chain.
#[derive(Debug, Clone)]
pub struct Hop {
    pub url: Url,
    pub command: String,
    pub response: Option<Response>,
    /// Why the request failed, when it did.
    pub error: Option<String>,
}

impl Hop {
    /// `https://a/ -> 301 (WordPress) -> https://b/`
    pub fn describe(&self) -> String {
        match (&self.response, &self.error) {
            (Some(r), _) if r.is_redirect() => format!(
                "{} answers {} ({}) to {}",
                self.url.text(),
                r.status,
                r.redirected_by(),
                r.header("location").unwrap_or_default()
            ),
            (Some(r), _) => format!("{} answers {}", self.url.text(), r.status_line),
            (None, Some(e)) => format!("{} fails: {e}", self.url.text()),
            (None, None) => self.url.text(),
        }
    }

    /// The hop's status line, Location and X-Redirect-By, for evidence.
    pub fn evidence(&self) -> Vec<String> {
        let Some(r) = &self.response else {
            return self.error.iter().cloned().collect();
        };
        let mut lines = vec![r.status_line.clone()];
        lines.extend(r.header_line("location"));
        lines.extend(r.header_line("x-redirect-by"));
        lines
    }
}

/// A followed chain.
#[derive(Debug, Clone)]
pub struct Chain {
    pub hops: Vec<Hop>,
    /// The index of the hop the last redirect points back to.
    pub loops_to: Option<usize>,
    /// Where the last redirect points when nobody fetched it.
    pub unfollowed: Option<Url>,
}

impl Chain {
    pub fn redirects(&self) -> usize {
        self.hops
            .iter()
            .filter(|h| h.response.as_ref().is_some_and(Response::is_redirect))
            .count()
    }

    /// The hosts of the loop, in order: `www.a -> old.a -> www.a`.
    pub fn path_text(&self) -> String {
        let mut parts: Vec<String> = self.hops.iter().map(|h| h.url.text()).collect();
        if let Some(h) = self.loops_to.and_then(|i| self.hops.get(i)) {
            parts.push(h.url.text());
        }
        if let Some(u) = &self.unfollowed {
            parts.push(u.text());
        }
        parts.join(" -> ")
    }
}

fn hop_of(run: &ToolRun, url: Url) -> Hop {
    let response = run
        .output
        .ok()
        .then(|| Response::parse(&run.output.stdout))
        .flatten();
    let error = if response.is_none() {
        common::first_error_line(run).or_else(|| Some("no answer".to_owned()))
    } else {
        None
    };
    Hop {
        url,
        command: run.command().to_owned(),
        response,
        error,
    }
}

/// The chain that starts at the turn's first front-page request.
pub fn chain(inv: &Investigation<'_>) -> Option<Chain> {
    let fetched: Vec<(&ToolRun, Url)> = inv
        .runs
        .iter()
        .filter(|r| matches!(r.tool(), "site_home" | "http_get"))
        .filter_map(|r| Url::parse(common::fetched_url(r)).map(|u| (r, u)))
        .collect();
    let (first_run, first_url) = fetched
        .iter()
        .find(|(r, _)| r.tool() == "site_home")
        .or_else(|| fetched.first())?;
    let mut chain = Chain {
        hops: vec![hop_of(first_run, first_url.clone())],
        loops_to: None,
        unfollowed: None,
    };
    while chain.hops.len() <= MAX_HOPS {
        let Some(last) = chain.hops.last() else { break };
        let Some(r) = last.response.as_ref().filter(|r| r.is_redirect()) else {
            break;
        };
        let Some(next) = r
            .header("location")
            .and_then(|l| url::resolve(&last.url, l))
        else {
            break;
        };
        if let Some(i) = chain.hops.iter().position(|h| h.url.same_page(&next)) {
            chain.loops_to = Some(i);
            break;
        }
        match fetched.iter().find(|(_, u)| u.same_page(&next)) {
            Some((run, u)) => chain.hops.push(hop_of(run, u.clone())),
            None => {
                chain.unfollowed = Some(next);
                break;
            }
        }
    }
    Some(chain)
}
