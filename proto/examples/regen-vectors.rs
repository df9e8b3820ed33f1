//! Rewrites the protocol's golden vectors in `proto/vectors/` from
//! `arqonbus_proto::vectors::catalogue()`. Run it only on purpose, after
//! an intended format change, and review the diff:
//!
//! ```text
//! cargo run -p arqonbus-proto --example regen-vectors
//! ```

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    match arqonbus_proto::vectors::regenerate(&dir) {
        Ok(n) => println!("wrote {n} vectors to {}", dir.display()),
        Err(e) => {
            eprintln!("regen-vectors: {e}");
            std::process::exit(1);
        }
    }
}
