//! Global flags: where the cluster is, who we are, how to print. They are
//! accepted after any subcommand and read from `ARQONBUS_*` variables.

use crate::client::{Client, ClientOptions};
use crate::transport::TlsCredentials;
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
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
        Ok(Client::new(ClientOptions::new(
            self.endpoints.clone(),
            self.credentials()?,
        ))?)
    }

    pub fn json(&self) -> bool {
        self.output == Output::Json
    }
}
