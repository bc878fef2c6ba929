//! Images the node cannot pull (`ErrImagePull`, `ImagePullBackOff`, `InvalidImageName`):
//! a tag or repository that does not exist, missing registry credentials, or a registry the
//! node cannot reach; and which image ran before.

use squadron_core::{Finding, Severity};

use super::Context;
use crate::parse::table;

/// Why a pull failed, read from the kubelet's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullFailure {
    NotFound,
    Unauthorized,
    Unreachable,
    RateLimited,
    InvalidName,
    Unknown,
}

/// Classifies a pull error message.
pub fn classify(message: &str) -> PullFailure {
    let m = message.to_ascii_lowercase();
    if m.contains("toomanyrequests") || m.contains("rate limit") {
        PullFailure::RateLimited
    } else if m.contains("unauthorized")
        || m.contains("authentication required")
        || m.contains("access denied")
        || m.contains("pull access denied")
        || m.contains("401 unauthorized")
        || m.contains("403 forbidden")
        || m.contains("status 401")
        || m.contains("status 403")
        || m.contains("denied:")
    {
        PullFailure::Unauthorized
    } else if m.contains("not found") || m.contains("manifest unknown") || m.contains("notfound") {
        PullFailure::NotFound
    } else if m.contains("no such host")
        || m.contains("i/o timeout")
        || m.contains("connection refused")
        || m.contains("network is unreachable")
        || m.contains("tls:")
        || m.contains("x509")
    {
        PullFailure::Unreachable
    } else if m.contains("invalidimagename") || m.contains("invalid reference format") {
        PullFailure::InvalidName
    } else {
        PullFailure::Unknown
    }
}

/// Splits `registry/repo:tag` into (repository, tag).
pub fn split_image(image: &str) -> (&str, Option<&str>) {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
        _ => (image, None),
    }
}

/// The finding, when the failing container cannot get its image.
pub fn diagnose(cx: &Context<'_, '_>) -> Option<Vec<Finding>> {
    let c = cx.pod.failing_container()?;
    let reason = c.waiting_reason.as_deref()?;
    if !matches!(
        reason,
        "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName"
    ) {
        return None;
    }
    let failed = cx.warning_lines(|e| {
        e.message.contains("pull") || e.message.contains("Pull") || e.reason == "Failed"
    });
    let detail_msg = failed
        .iter()
        .find(|l| l.contains("Failed to pull"))
        .cloned()
        .unwrap_or_default();
    let kind = if reason == "InvalidImageName" {
        PullFailure::InvalidName
    } else {
        classify(&detail_msg)
    };
    let (repo, tag) = split_image(&c.image);
    let tag = tag.unwrap_or("latest");
    let title = match kind {
        PullFailure::NotFound => format!(
            "Image {} cannot be pulled: tag {tag} was not found in {repo}",
            c.image
        ),
        PullFailure::Unauthorized => format!(
            "Image {} cannot be pulled: the registry refuses the node's credentials",
            c.image
        ),
        PullFailure::Unreachable => format!(
            "Image {} cannot be pulled: the node cannot reach the registry",
            c.image
        ),
        PullFailure::RateLimited => format!(
            "Image {} cannot be pulled: the registry is rate-limiting pulls",
            c.image
        ),
        PullFailure::InvalidName => format!("Image reference {} is not valid", c.image),
        PullFailure::Unknown => format!("Image {} cannot be pulled", c.image),
    };
    let mut f = Finding::new(Severity::Critical, title)
        .evidence(
            cx.pod_source,
            [format!("{}: {reason}, image {}", c.name, c.image)],
        )
        .evidence(cx.events_source, failed);

    let previous = previous_image(cx, &c.image);
    if let Some((rs, img)) = &previous {
        f = f.detail(format!("The previous ReplicaSet {rs} runs {img} and its pods are ready, so the Deployment keeps serving on the old version while the rollout is stuck."));
    }
    if let Some(run) = cx.inv.last("rollout_history").filter(|r| r.output.ok()) {
        let revs: Vec<String> = run
            .output
            .stdout
            .lines()
            .filter(|l| {
                l.trim()
                    .chars()
                    .next()
                    .is_some_and(|ch| ch.is_ascii_digit())
            })
            .map(str::to_owned)
            .collect();
        f = f.evidence(run.command(), revs.into_iter().rev().take(3).rev());
    }
    let deploy = cx.deployment().unwrap_or_else(|| "<deployment>".into());
    let ns = &cx.pod.namespace;
    f = match kind {
        PullFailure::NotFound | PullFailure::InvalidName => {
            let mut f = f.detail(format!(
                "The registry answered, so access works; the reference {} itself does not exist. Check the tag for a typo.",
                c.image
            ));
            let target = previous.as_ref().map(|(_, img)| img.clone()).unwrap_or_else(|| format!("{repo}:<existing tag>"));
            f = f.fix_with_code(
                format!("Set the image to a tag that exists in {repo} (fix it in the pipeline that wrote {tag}):"),
                "sh",
                format!("kubectl set image deployment/{deploy} {}={target} --namespace={ns}", c.name),
            );
            f.fix_with_code("Or roll back to the previous revision:", "sh", format!("kubectl rollout undo deployment/{deploy} --namespace={ns}"))
        }
        PullFailure::Unauthorized => f.fix(format!(
            "Give the pod pull credentials for the registry: create a docker-registry Secret in {ns} and reference it in `imagePullSecrets` of the pod template (or the ServiceAccount)."
        )),
        PullFailure::Unreachable => f.fix("Check DNS, egress firewall rules and the registry's TLS certificate from the node; a mirror or pull-through cache avoids the dependency."),
        PullFailure::RateLimited => f.fix("Authenticate pulls, use a pull-through cache or mirror, or pin images in your own registry."),
        PullFailure::Unknown => f.fix(format!("Run `kubectl describe pod {} -n {ns}` for the kubelet's full pull error.", cx.pod.name)),
    };
    Some(vec![f])
}

/// Another ReplicaSet of the same workload whose pods are ready, and its image.
fn previous_image(cx: &Context<'_, '_>, current: &str) -> Option<(String, String)> {
    let deploy = cx.deployment()?;
    let run = cx.inv.last("replicasets").filter(|r| r.output.ok())?;
    table(&run.output.stdout).into_iter().find_map(|row| {
        let name = row.value(&["name"])?;
        let ready: u64 = row.value(&["ready"])?.parse().ok()?;
        let image = row.value(&["images"])?;
        let same_workload = name
            .strip_prefix(&deploy)
            .is_some_and(|r| r.starts_with('-'));
        (same_workload && ready > 0 && image != current)
            .then(|| (name.to_owned(), image.to_owned()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_errors_are_classified_by_their_words() {
        assert_eq!(
            classify("failed to resolve reference \"r/x:v9\": r/x:v9: not found"),
            PullFailure::NotFound
        );
        assert_eq!(
            classify("manifest unknown: manifest unknown"),
            PullFailure::NotFound
        );
        assert_eq!(
            classify(
                "pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed"
            ),
            PullFailure::Unauthorized
        );
        assert_eq!(classify("401 Unauthorized"), PullFailure::Unauthorized);
        assert_eq!(
            classify("dial tcp: lookup r.example.com: no such host"),
            PullFailure::Unreachable
        );
        assert_eq!(
            classify("toomanyrequests: You have reached your pull rate limit"),
            PullFailure::RateLimited
        );
    }

    #[test]
    fn images_split_into_repository_and_tag() {
        assert_eq!(
            split_image("registry:5000/shop/api:v2.81"),
            ("registry:5000/shop/api", Some("v2.81"))
        );
        assert_eq!(
            split_image("registry:5000/shop/api"),
            ("registry:5000/shop/api", None)
        );
        assert_eq!(split_image("nginx@sha256:abc"), ("nginx", None));
    }
}
