//! home and siteurl: where WordPress believes it lives (the options, or WP_HOME/WP_SITEURL
//! in wp-config.php, which win), compared with where the site is served. A mismatch makes
//! WordPress redirect every request to the address it believes in.

use squadron_core::Investigation;

use super::common;
use super::url::Url;
use super::wplist;

/// One of the two addresses, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    /// `wp_options` or `wp-config.php`.
    pub origin: &'static str,
    pub source: String,
    pub line: String,
}

/// What the turn read about home and siteurl.
#[derive(Debug, Clone, Default)]
pub struct SiteUrls {
    pub home_option: Option<Setting>,
    pub siteurl_option: Option<Setting>,
    pub wp_home: Option<Setting>,
    pub wp_siteurl: Option<Setting>,
    /// Whether wp-config.php was read (so "not defined" means something).
    pub config_read: bool,
    pub options_table: String,
}

impl SiteUrls {
    pub fn gather(inv: &Investigation<'_>) -> SiteUrls {
        let mut s = SiteUrls {
            options_table: "wp_options".to_owned(),
            ..SiteUrls::default()
        };
        for run in inv.runs.iter().filter(|r| r.output.ok()) {
            match run.tool() {
                "site_options" => {
                    for row in wplist::rows(&run.output.stdout) {
                        let (Some(name), Some(value)) =
                            (row.value(&["option_name"]), row.value(&["option_value"]))
                        else {
                            continue;
                        };
                        let setting = Setting {
                            value: value.trim().to_owned(),
                            origin: "wp_options",
                            source: run.command().to_owned(),
                            line: format!("{name} = {}", value.trim()),
                        };
                        s.set_option(name.trim(), setting);
                    }
                }
                "wp_option_get" => {
                    let value = run.output.stdout.trim();
                    if let (Some(name), false) =
                        (run.arg("option"), value.is_empty() || value.contains('\n'))
                    {
                        s.set_option(
                            name,
                            Setting {
                                value: value.to_owned(),
                                origin: "wp_options",
                                source: run.command().to_owned(),
                                line: value.to_owned(),
                            },
                        );
                    }
                }
                _ => {}
            }
        }
        if let Some((cfg, src)) = common::wp_config(inv) {
            s.config_read = true;
            s.options_table = cfg.options_table();
            let define = |name: &str| {
                cfg.get(name).map(|v| Setting {
                    value: v.to_owned(),
                    origin: "wp-config.php",
                    source: src.clone(),
                    line: cfg.line(name).unwrap_or_default().to_owned(),
                })
            };
            s.wp_home = define("WP_HOME");
            s.wp_siteurl = define("WP_SITEURL");
        }
        s
    }

    fn set_option(&mut self, name: &str, setting: Setting) {
        let slot = match name {
            "home" => &mut self.home_option,
            "siteurl" => &mut self.siteurl_option,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(setting);
        }
    }

    /// The home address WordPress uses: WP_HOME when defined, else the option.
    pub fn home(&self) -> Option<&Setting> {
        self.wp_home.as_ref().or(self.home_option.as_ref())
    }

    pub fn siteurl(&self) -> Option<&Setting> {
        self.wp_siteurl.as_ref().or(self.siteurl_option.as_ref())
    }

    /// The settings whose origin (scheme, host, port) differs from `expected`, by name.
    pub fn mismatches(&self, expected: &Url) -> Vec<(&'static str, &Setting)> {
        [("home", self.home()), ("siteurl", self.siteurl())]
            .into_iter()
            .filter_map(|(name, s)| {
                let s = s?;
                let url = Url::parse(&s.value)?;
                (url.origin() != expected.origin()).then_some((name, s))
            })
            .collect()
    }

    pub fn any(&self) -> bool {
        self.home().is_some() || self.siteurl().is_some()
    }
}
