//! The measured client impact of each check: `impact.json`, written by the calibration test
//! (`tests/integration/calibration`, `CONFORM_CALIBRATE=write`) from runs of the official
//! Python and TypeScript SDKs and Claude Code against every calibration case, and embedded
//! here. A check's impact per client is the worst over the cases that target it (hangs >
//! raises > data-lost > ok); a check no case targets is `unknown`. The human table is
//! `docs/client-impact.md`.

#[cfg(test)]
use super::ClientImpact;
use super::Impact;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The committed measurements.
const MEASURED: &str = include_str!("impact.json");

/// The measured impact of one check, and the calibration cases it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Measured {
    #[serde(flatten)]
    pub impact: Impact,
    /// The calibration cases that target the check (names in docs/client-impact.md).
    pub cases: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct File {
    checks: BTreeMap<String, Measured>,
}

fn table() -> &'static BTreeMap<String, Measured> {
    static TABLE: OnceLock<BTreeMap<String, Measured>> = OnceLock::new();
    TABLE.get_or_init(|| {
        // The file is generated and checked by the calibration test; a file that does not
        // parse (a hand edit gone wrong) measures nothing rather than failing every command.
        serde_json::from_str::<File>(MEASURED)
            .map(|f| f.checks)
            .unwrap_or_default()
    })
}

/// The measurement of a check id (a family member by its own id, e.g.
/// `schema.event.message_delta`), when some calibration case targets it.
pub(crate) fn measured(id: &str) -> Option<&'static Measured> {
    table().get(id)
}

/// The measured impact per client of a check id; [`Impact::UNKNOWN`] when not measured.
pub fn impact_of(id: &str) -> Impact {
    measured(id).map_or(Impact::UNKNOWN, |m| m.impact)
}

impl Impact {
    /// The worst impact over the clients.
    #[cfg(test)]
    pub(crate) fn worst(&self) -> ClientImpact {
        self.per_client()
            .iter()
            .map(|(_, i)| *i)
            .max()
            .unwrap_or(ClientImpact::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_file_parses_and_names_declared_checks() {
        let f: File = serde_json::from_str(MEASURED).expect("impact.json parses");
        for id in f.checks.keys() {
            assert!(
                super::super::get(id).is_some(),
                "{id} is not in the catalogue"
            );
        }
    }

    #[test]
    fn worst_orders_hangs_raises_data_lost_ok() {
        let i = Impact {
            python_sdk: ClientImpact::Ok,
            typescript_sdk: ClientImpact::DataLost,
            claude_code: ClientImpact::Raises,
        };
        assert_eq!(i.worst(), ClientImpact::Raises);
        assert!(ClientImpact::Hangs > ClientImpact::Raises);
        assert!(ClientImpact::Ok > ClientImpact::Unknown);
        assert_eq!(Impact::UNKNOWN.worst(), ClientImpact::Unknown);
    }
}
