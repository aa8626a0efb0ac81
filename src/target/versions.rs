//! Which API versions a target runs under: `api_version = "2023-06-01" | "2026-10-21" | "both"`
//! in a target table, or `conform run --api-version` (which wins). Without either, a target
//! sends the `anthropic-version` of its `headers`, by default `2026-10-21` like today's SDKs.
//!
//! `both` runs every case under each version: the target becomes two targets,
//! `NAME@2023-06-01` and `NAME@2026-10-21`, reported side by side like the models of a
//! `models` list. They share the endpoint's rate limit and backpressure.

use super::Target;
use crate::protocol::anthropic::wire::{ApiVersion, VERSION_HEADER};

/// The versions a target is run under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersions {
    One(ApiVersion),
    /// Every version, each as a target of its own.
    Both,
}

impl std::str::FromStr for ApiVersions {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "both" => Ok(ApiVersions::Both),
            other => other.parse().map(ApiVersions::One).map_err(|_| {
                format!(
                    "unknown API version {other:?} (expected \"2023-06-01\", \"2026-10-21\" or \"both\")"
                )
            }),
        }
    }
}

impl Target {
    /// The API version this target sends (its `anthropic-version` header), when conform knows
    /// it.
    pub(crate) fn api_version(&self) -> Option<ApiVersion> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(VERSION_HEADER))
            .and_then(|(_, v)| ApiVersion::of_header(v))
    }

    /// This target sending `version` instead of its own `anthropic-version`.
    pub(crate) fn set_api_version(&mut self, version: ApiVersion) {
        self.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case(VERSION_HEADER));
        self.headers.insert(
            0,
            (VERSION_HEADER.to_string(), version.as_str().to_string()),
        );
    }
}

/// The targets to run: each under the versions `chosen` (`--api-version`) or its own
/// `api_version` asks for; `both` makes two targets of one.
pub(crate) fn expand(targets: Vec<Target>, chosen: Option<ApiVersions>) -> Vec<Target> {
    let mut out = Vec::new();
    for mut t in targets {
        match chosen.or(t.api_versions) {
            None => out.push(t),
            Some(ApiVersions::One(v)) => {
                t.set_api_version(v);
                out.push(t);
            }
            Some(ApiVersions::Both) => {
                for v in ApiVersion::ALL {
                    let mut variant = t.clone();
                    variant.name = format!("{}@{v}", t.name);
                    variant.set_api_version(v);
                    variant.api_versions = Some(ApiVersions::One(v));
                    out.push(variant);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::AdHoc;

    fn target() -> Target {
        Target::ad_hoc_with(
            AdHoc {
                name: Some("t".into()),
                base_url: "http://127.0.0.1:9".into(),
                model: "m".into(),
                ..AdHoc::default()
            },
            &|_| None,
        )
        .unwrap()
    }

    #[test]
    fn a_target_sends_todays_version_unless_told_otherwise() {
        let t = target();
        assert_eq!(t.api_version(), Some(ApiVersion::V2026_10_21));
        let one = expand(vec![t.clone()], None);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].api_version(), Some(ApiVersion::V2026_10_21));
        let old = expand(vec![t], Some("2023-06-01".parse().unwrap()));
        assert_eq!(old[0].name, "t");
        assert_eq!(old[0].api_version(), Some(ApiVersion::V2023_06_01));
        let n = old[0]
            .headers
            .iter()
            .filter(|(k, _)| k == VERSION_HEADER)
            .count();
        assert_eq!(n, 1, "{:?}", old[0].headers);
    }

    #[test]
    fn both_makes_one_target_per_version() {
        let both = expand(vec![target()], Some(ApiVersions::Both));
        let got: Vec<(String, Option<ApiVersion>)> = both
            .iter()
            .map(|t| (t.name.clone(), t.api_version()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("t@2023-06-01".to_string(), Some(ApiVersion::V2023_06_01)),
                ("t@2026-10-21".to_string(), Some(ApiVersion::V2026_10_21)),
            ]
        );
        assert!("sometimes".parse::<ApiVersions>().is_err());
        assert_eq!("both".parse(), Ok(ApiVersions::Both));
    }
}
