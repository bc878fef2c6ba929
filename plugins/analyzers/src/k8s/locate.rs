//! Finds the pod a user means in a `kubectl get pods --all-namespaces` listing: the pod they
//! named, or the unhealthiest pod of the workload they named, in the namespace they named
//! when there is one.

use crate::parse::{Row, table};

/// A pod from the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub namespace: String,
    pub name: String,
    pub ready: String,
    pub status: String,
    pub restarts: String,
}

impl Listed {
    fn from_row(row: &Row, default_ns: Option<&str>) -> Option<Listed> {
        Some(Listed {
            namespace: row.value(&["namespace"]).or(default_ns)?.to_owned(),
            name: row.value(&["name"])?.to_owned(),
            ready: row.get(&["ready"]).unwrap_or_default().to_owned(),
            status: row.get(&["status"]).unwrap_or_default().to_owned(),
            restarts: row.get(&["restarts"]).unwrap_or_default().to_owned(),
        })
    }

    /// How unhealthy the pod looks: higher is worse.
    pub fn badness(&self) -> u8 {
        let mut score = 0;
        if !matches!(self.status.as_str(), "Running" | "Completed" | "Succeeded") {
            score += 4;
        }
        if let Some((a, b)) = self.ready.split_once('/')
            && a != b
        {
            score += 2;
        }
        if self
            .restarts
            .split_whitespace()
            .next()
            .is_some_and(|n| n != "0")
        {
            score += 1;
        }
        score
    }
}

/// Reads the listing.
pub fn pods(text: &str, default_ns: Option<&str>) -> Vec<Listed> {
    table(text)
        .iter()
        .filter_map(|r| Listed::from_row(r, default_ns))
        .collect()
}

/// Whether `pod` belongs to the workload or pod the user named.
fn matches_target(pod: &str, target: &str) -> bool {
    pod == target
        || pod.strip_prefix(target).is_some_and(|rest| {
            rest.starts_with('-')
                && rest[1..]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The pods the user means, worst first; the first is the one to investigate.
pub fn choose(listing: &[Listed], target: Option<&str>, namespace: Option<&str>) -> Vec<Listed> {
    let target = target.map(str::to_ascii_lowercase);
    let in_ns = |p: &&Listed| namespace.is_none_or(|ns| p.namespace == ns);
    let mut picked: Vec<Listed> = match &target {
        Some(t) => {
            if let Some(exact) = listing.iter().find(|p| &p.name == t) {
                return vec![exact.clone()];
            }
            let named: Vec<&Listed> = listing
                .iter()
                .filter(|p| matches_target(&p.name, t))
                .collect();
            let narrowed: Vec<&Listed> = named.iter().copied().filter(in_ns).collect();
            let chosen = if narrowed.is_empty() { named } else { narrowed };
            chosen.into_iter().cloned().collect()
        }
        None => Vec::new(),
    };
    if picked.is_empty() {
        picked = listing
            .iter()
            .filter(in_ns)
            .filter(|p| namespace.is_some() || !p.namespace.starts_with("kube-"))
            .filter(|p| p.badness() > 0)
            .cloned()
            .collect();
    }
    picked.sort_by_key(|p| std::cmp::Reverse(p.badness()));
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "NAMESPACE     NAME                               READY   STATUS             RESTARTS        AGE
production    payment-service-7d8f9c             0/1     CrashLoopBackOff   8 (3m10s ago)   18m
production    payment-service-5b8c6d9f47-k2xqp   1/1     Running            0               6d
staging       payment-service-5b8c6d9f47-aaaaa   0/1     Pending            0               6d
kube-system   coredns-5d78c9869d-9tq2x           1/1     Running            0               212d
";

    #[test]
    fn an_exact_pod_name_wins() {
        let l = pods(LISTING, None);
        let c = choose(&l, Some("payment-service-5b8c6d9f47-k2xqp"), None);
        assert_eq!(c[0].name, "payment-service-5b8c6d9f47-k2xqp");
    }

    #[test]
    fn a_workload_name_picks_its_unhealthiest_pod_in_the_named_namespace() {
        let l = pods(LISTING, None);
        assert_eq!(
            choose(&l, Some("payment-service"), Some("production"))[0].name,
            "payment-service-7d8f9c"
        );
        assert_eq!(
            choose(&l, Some("payment-service"), Some("staging"))[0].namespace,
            "staging"
        );
    }

    #[test]
    fn without_a_name_the_unhealthy_pods_of_the_namespace_are_chosen() {
        let l = pods(LISTING, None);
        let c = choose(&l, None, Some("production"));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].status, "CrashLoopBackOff");
    }

    #[test]
    fn a_name_that_is_only_a_prefix_of_a_word_does_not_match() {
        assert!(!matches_target("payment-servicex-1", "payment-service"));
        assert!(matches_target(
            "search-indexer-8477cd9b6f-5tqjd",
            "search-indexer"
        ));
    }
}
