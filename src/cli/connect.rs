//! Global flags: where the cluster is, who we are, how to print. They are
//! accepted after any subcommand and read from `ARQONBUS_*` variables.

use anyhow::{bail, Context};
use arqonbus_client::{Client, ClientOptions};
use arqonbus_transport::parse_resolve;
use arqonbus_transport::TlsCredentials;
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Node endpoints, `host:port` separated by commas.
    #[arg(long, global = true, env = "ARQONBUS_ENDPOINTS", value_delimiter = ',')]
    pub endpoints: Vec<String>,
    /// Certificate directory (with `ca.pem`, `<user>.pem`, `<user>.key`).
    #[arg(long, global = true, env = "ARQONBUS_CERTS")]
    pub certs: Option<PathBuf>,
    /// Whose certificate to use from `--certs`.
    #[arg(long, global = true, env = "ARQONBUS_USER")]
    pub user: Option<String>,
    /// CA certificate file (instead of `--certs`/`--user`).
    #[arg(long, global = true)]
    pub ca: Option<PathBuf>,
    /// Client certificate file.
    #[arg(long, global = true)]
    pub cert: Option<PathBuf>,
    /// Client key file.
    #[arg(long, global = true)]
    pub key: Option<PathBuf>,
    /// Dial `host:port` at `ip:port` instead of looking it up, keeping
    /// `host` for the certificate check: `node1:7100=127.0.0.1:17101`,
    /// separated by commas. For nodes that advertise names only their own
    /// network resolves (containers); applies to leader redirects too.
    #[arg(long, global = true, env = "ARQONBUS_RESOLVE", value_delimiter = ',', value_parser = check_resolve)]
    pub resolve: Vec<String>,
    /// Output format of commands that print data.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

impl GlobalArgs {
    pub fn credentials(&self) -> anyhow::Result<TlsCredentials> {
        match (&self.ca, &self.cert, &self.key, &self.certs, &self.user) {
            (Some(ca), Some(cert), Some(key), _, _) => {
                Ok(TlsCredentials::from_files(ca, cert, key)
                    .context("loading --ca/--cert/--key")?)
            }
            (None, None, None, Some(dir), Some(user)) => Ok(TlsCredentials::from_dir(dir, user)
                .with_context(|| {
                    format!("loading the certificate of `{user}` from {}", dir.display())
                })?),
            _ => bail!("give an identity: --certs DIR --user NAME, or --ca, --cert and --key"),
        }
    }

    pub fn client(&self) -> anyhow::Result<Client> {
        if self.endpoints.is_empty() {
            bail!("give the cluster's endpoints: --endpoints A,B,C or ARQONBUS_ENDPOINTS");
        }
        let mut options = ClientOptions::new(self.endpoints.clone(), self.credentials()?);
        options.resolve = self.resolve_map();
        Ok(Client::new(options)?)
    }

    /// The `--resolve` entries; empty ones (`ARQONBUS_RESOLVE=`) are none.
    pub fn resolve_map(&self) -> BTreeMap<String, SocketAddr> {
        self.resolve
            .iter()
            .filter_map(|e| parse_resolve(e).ok())
            .collect()
    }

    pub fn json(&self) -> bool {
        self.output == Output::Json
    }
}

/// A `--resolve` entry is `host:port=ip:port`, or empty (ignored).
fn check_resolve(entry: &str) -> Result<String, String> {
    if !entry.trim().is_empty() {
        parse_resolve(entry)?;
    }
    Ok(entry.to_string())
}
