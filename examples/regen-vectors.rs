//! Rewrites the protocol's golden vectors in `proto/vectors/` from
//! `arqonbus::proto::vectors::catalogue()`. Run it only on purpose, after
//! an intended format change, and review the diff:
//!
//! ```text
//! cargo run --example regen-vectors
//! ```

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("proto/vectors");
    match arqonbus::proto::vectors::regenerate(&dir) {
        Ok(n) => println!("wrote {n} vectors to {}", dir.display()),
        Err(e) => {
            eprintln!("regen-vectors: {e}");
            std::process::exit(1);
        }
    }
}
