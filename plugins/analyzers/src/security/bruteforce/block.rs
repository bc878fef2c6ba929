//! Whether the firewall already drops an attacking address, and the command that would.

use super::super::firewall::Firewall;

/// Whether a firewall rule already drops the address.
pub fn blocked_by(fw: &Firewall, ip: &str) -> bool {
    let ufw = fw.ufw.as_ref().is_some_and(|u| {
        u.active
            && u.rules.iter().any(|r| {
                r.from.as_deref() == Some(ip) && matches!(r.action.as_str(), "deny" | "reject")
            })
    });
    let host = format!("{ip}/32");
    let ipt = fw.iptables.as_ref().is_some_and(|c| {
        c.0.values().flat_map(|ch| &ch.rules).any(|r| {
            (r.source == ip || r.source == host) && matches!(r.target.as_str(), "DROP" | "REJECT")
        })
    });
    let nft = fw.nft.as_ref().is_some_and(|n| {
        n.chains.values().flat_map(|c| &c.rules).any(|r| {
            r.contains(&format!("saddr {ip} ")) && (r.contains("drop") || r.contains("reject"))
        })
    });
    ufw || ipt || nft
}

/// The command that blocks the address, in the firewall tool the host uses.
pub fn block_command(fw: &Firewall, ip: &str) -> String {
    if fw.ufw.as_ref().is_some_and(|u| u.active) {
        format!("sudo ufw insert 1 deny from {ip} to any")
    } else {
        format!(
            "sudo iptables -I INPUT -s {ip} -j DROP   # persist: sudo netfilter-persistent save"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::firewall::{Firewall, iptables, ufw};
    use super::*;

    #[test]
    fn a_drop_rule_or_a_ufw_deny_for_the_address_counts_as_blocked() {
        let fw = Firewall {
            iptables: iptables::parse(
                "Chain INPUT (policy ACCEPT)\ntarget     prot opt source               destination\nDROP       all  --  192.0.2.9            0.0.0.0/0\n",
            ),
            ..Firewall::default()
        };
        assert!(blocked_by(&fw, "192.0.2.9"));
        assert!(!blocked_by(&fw, "192.0.2.10"));
        assert!(block_command(&fw, "192.0.2.10").starts_with("sudo iptables -I INPUT"));
        let fw = Firewall {
            ufw: ufw::parse(
                "Status: active\n\nTo                         Action      From\n--                         ------      ----\nAnywhere                   DENY IN     192.0.2.10\n",
            ),
            ..Firewall::default()
        };
        assert!(blocked_by(&fw, "192.0.2.10"));
        assert_eq!(
            block_command(&fw, "192.0.2.11"),
            "sudo ufw insert 1 deny from 192.0.2.11 to any"
        );
    }
}
