//! Before the first request: can the target be reached at all? A name that does not resolve
//! or a port that refuses is found here in seconds, named once, and the target's cases are not
//! run — instead of every case retrying its way to an `error` (13 minutes of silence at a low
//! `rpm`). Credentials are judged by the first answers (see the runner's early stop).

use std::time::Duration;
use tokio::time::timeout;

/// How long the whole check may take.
const LIMIT: Duration = Duration::from_secs(8);

/// Whether a proxy from the environment would carry the traffic (then a direct connect says
/// nothing, and the check is skipped).
fn proxied(url: &reqwest::Url) -> bool {
    let vars: &[&str] = if url.scheme() == "https" {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    vars.iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// Resolve the base URL's host and open a TCP connection to it; the cause when that fails.
pub async fn reachable(base_url: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(base_url).map_err(|e| format!("not a URL: {e}"))?;
    if proxied(&url) && !crate::http::client::is_loopback(base_url) {
        return Ok(());
    }
    let host = url.host_str().ok_or("the URL has no host")?.to_string();
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url
        .port_or_known_default()
        .ok_or("the URL has no port and no known default")?;
    let check = async {
        let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| format!("cannot resolve `{host}`: {e}"))?
            .collect();
        if addrs.is_empty() {
            return Err(format!("`{host}` resolves to no address"));
        }
        let mut last = String::new();
        for a in &addrs {
            match tokio::net::TcpStream::connect(a).await {
                Ok(_) => return Ok(()),
                Err(e) => last = format!("cannot connect to {a}: {e}"),
            }
        }
        Err(last)
    };
    timeout(LIMIT, check).await.unwrap_or_else(|_| {
        Err(format!(
            "no connection to `{host}:{port}` within {} s",
            LIMIT.as_secs()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_port_and_a_bad_name_are_named() {
        let e = reachable("http://127.0.0.1:1").await.unwrap_err();
        assert!(e.contains("cannot connect"), "{e}");
        let e = reachable("http://no-such-host.invalid:80")
            .await
            .unwrap_err();
        assert!(e.contains("no-such-host.invalid"), "{e}");
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        assert_eq!(reachable(&url).await, Ok(()));
    }
}
