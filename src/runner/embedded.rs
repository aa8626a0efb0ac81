//! The embedded default target: the reference server started in-process on a free loopback
//! port, so `conform run` works on a fresh machine with no key and no network.

use crate::mock::{self, MockConfig, MockHandle};
use crate::target::{AdHoc, Target};
use std::net::{Ipv4Addr, SocketAddr};

/// The name of the embedded target in reports and snapshots.
pub(crate) const TARGET_NAME: &str = "reference";
const KEY_VAR: &str = "CONFORM_REFERENCE_KEY";

/// Start the reference server (with optional faults) and return it with its target.
pub async fn start(faults: Vec<mock::Fault>) -> std::io::Result<(MockHandle, Target)> {
    start_with(MockConfig {
        faults,
        ..MockConfig::default()
    })
    .await
}

/// Start a reference server configured as given (a realistic model, another seed…) and return
/// it with its target, named [`TARGET_NAME`] like the default one.
pub async fn start_with(config: MockConfig) -> std::io::Result<(MockHandle, Target)> {
    let key = config.api_key.clone();
    let model = mock::DEFAULT_MODEL.to_string();
    let handle = mock::spawn(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
    let target = Target::ad_hoc_with(
        AdHoc {
            name: Some(TARGET_NAME.to_string()),
            base_url: handle.base_url(),
            model,
            api_key_env: Some(KEY_VAR.to_string()),
            auth: None,
            headers: Vec::new(),
        },
        &|var| (var == KEY_VAR).then(|| key.clone()),
    )
    .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok((handle, target))
}
