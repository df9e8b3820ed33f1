//! Where to dial a node named `host:port`, and the name to check its
//! certificate against. The name always comes from the address as given;
//! the socket address comes from a `--resolve` override (like curl's), for
//! node names this host cannot resolve, or else from the system resolver.

use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Overrides of name resolution: `host:port` → the address to dial.
pub type Overrides = BTreeMap<String, SocketAddr>;

/// The host part of `host:port`, without IPv6 brackets.
fn host_of(addr: &str) -> Result<&str, String> {
    let (host, _) = addr.rsplit_once(':').ok_or("expected host:port")?;
    Ok(host.trim_start_matches('[').trim_end_matches(']'))
}

/// Splits `host:port` into the name to verify and the socket address,
/// asking the system resolver.
pub async fn resolve(addr: &str) -> Result<(String, SocketAddr), String> {
    let host = host_of(addr)?.to_string();
    let mut found = tokio::net::lookup_host(addr)
        .await
        .map_err(|e| e.to_string())?;
    let sock = found.next().ok_or_else(|| "no address found".to_string())?;
    Ok((host, sock))
}

/// The name to check the server's certificate against and the socket
/// address to dial: from `overrides` if `addr` is there, else looked up.
pub async fn locate(addr: &str, overrides: &Overrides) -> Result<(String, SocketAddr), String> {
    match overrides.get(addr) {
        Some(sock) => Ok((host_of(addr)?.to_string(), *sock)),
        None => resolve(addr).await.map_err(|e| {
            format!("{e} (a node name this host cannot resolve? map it with --resolve NAME:PORT=IP:PORT)")
        }),
    }
}

/// Parses one `host:port=ip:port` override.
pub fn parse_resolve(entry: &str) -> Result<(String, SocketAddr), String> {
    let (name, addr) = entry
        .split_once('=')
        .ok_or_else(|| format!("`{entry}`: expected host:port=ip:port"))?;
    let name = name.trim();
    match name.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {}
        _ => return Err(format!("`{entry}`: `{name}` is not host:port")),
    }
    let addr = addr
        .trim()
        .parse::<SocketAddr>()
        .map_err(|e| format!("`{entry}`: `{addr}` is not ip:port ({e})"))?;
    Ok((name.to_string(), addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_override_keeps_the_name_for_tls_and_dials_the_given_address() {
        let mut overrides = BTreeMap::new();
        let published: SocketAddr = "127.0.0.1:17101".parse().unwrap();
        overrides.insert("node1:7100".to_string(), published);
        // `node1` does not resolve here; the override is used instead.
        assert_eq!(
            locate("node1:7100", &overrides).await.unwrap(),
            ("node1".to_string(), published)
        );
        // Anything else is looked up as before.
        assert_eq!(
            locate("127.0.0.1:7102", &overrides).await.unwrap(),
            ("127.0.0.1".to_string(), "127.0.0.1:7102".parse().unwrap())
        );
    }

    #[test]
    fn resolve_entries_parse_or_are_named() {
        assert_eq!(
            parse_resolve("node1:7100=127.0.0.1:17101").unwrap(),
            ("node1:7100".to_string(), "127.0.0.1:17101".parse().unwrap())
        );
        for bad in [
            "node1:7100",
            "node1=127.0.0.1:1",
            ":7100=127.0.0.1:1",
            "node1:7100=node1:1",
        ] {
            let e = parse_resolve(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}
