//! The dependency map of ARCHITECTURE.md, checked: no crate of the
//! workspace may reach (through its normal dependencies, transitively) a
//! crate the map forbids it. A change that adds such a dependency fails
//! here, naming the path by which it came in. The core is also read as
//! text: it may not touch files, clocks, the environment or the operating
//! system's randomness.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::process::Command;

/// What each crate may not depend on, as ARCHITECTURE.md states it.
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "arqonbus-core",
        &[
            "tokio",
            "sled",
            "quinn",
            "openraft",
            "arqonbus-proto",
            "arqonbus-transport",
            "arqonbus-client",
            "arqonbus",
        ],
    ),
    (
        "arqonbus-proto",
        &[
            "tokio",
            "quinn",
            "sled",
            "openraft",
            "arqonbus-transport",
            "arqonbus-client",
            "arqonbus",
        ],
    ),
    (
        "arqonbus-transport",
        &[
            "sled",
            "openraft",
            "clap",
            "nix",
            "rcgen",
            "arqonbus-client",
            "arqonbus",
        ],
    ),
    (
        "arqonbus-client",
        &["sled", "openraft", "clap", "nix", "rcgen", "arqonbus"],
    ),
    (
        "arqonbus-testkit",
        &["sled", "openraft", "rcgen", "arqonbus"],
    ),
    ("arqonbus-chaos", &["sled", "openraft", "arqonbus"]),
    (
        "arqonbus-sim",
        &[
            "sled",
            "openraft",
            "nix",
            "rcgen",
            "arqonbus",
            "arqonbus-testkit",
        ],
    ),
    ("arqonbus-lazyfs", &["arqonbus", "openraft", "quinn"]),
    (
        "arqonbus-hpo",
        &[
            "arqonbus",
            "arqonbus-core",
            "arqonbus-proto",
            "arqonbus-transport",
            "arqonbus-client",
            "tokio",
        ],
    ),
];

/// The host's target triple, from `rustc -vV`.
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_string()
}

/// Package name → the names of its normal (not dev, not build)
/// dependencies on this host, from `cargo metadata`. Filtered to the host
/// so that it needs only the crates a build here downloads: offline, an
/// unfiltered graph would need every platform's crates in the cache.
fn normal_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let host = host_triple();
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata is JSON");
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().expect("id"),
                p["name"].as_str().expect("name"),
            )
        })
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().expect("resolve nodes") {
        let from = names[node["id"].as_str().expect("node id")].to_string();
        let deps = graph.entry(from).or_default();
        for dep in node["deps"].as_array().expect("deps") {
            let normal = dep["dep_kinds"]
                .as_array()
                .expect("dep_kinds")
                .iter()
                .any(|k| k["kind"].is_null());
            if normal {
                deps.insert(names[dep["pkg"].as_str().expect("pkg")].to_string());
            }
        }
    }
    graph
}

/// The path from `from` to `to` through normal dependencies, if any.
fn path(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> Option<Vec<String>> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    while let Some(at) = queue.pop_front() {
        for next in graph.get(at).into_iter().flatten() {
            if next == from || came_from.contains_key(next.as_str()) {
                continue;
            }
            came_from.insert(next, at);
            if next == to {
                let mut path = vec![to.to_string()];
                let mut step = to;
                while let Some(&prev) = came_from.get(step) {
                    path.push(prev.to_string());
                    step = prev;
                }
                path.reverse();
                return Some(path);
            }
            queue.push_back(next);
        }
    }
    None
}

#[test]
fn no_crate_reaches_what_the_map_forbids_it() {
    let graph = normal_graph();
    let mut broken = Vec::new();
    for (krate, forbidden) in FORBIDDEN {
        assert!(
            graph.contains_key(*krate),
            "{krate} is not in the workspace"
        );
        for f in *forbidden {
            if let Some(p) = path(&graph, krate, f) {
                broken.push(format!(
                    "{krate} must not depend on {f}: {}",
                    p.join(" -> ")
                ));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_check_would_see_a_forbidden_dependency() {
    // The node does depend on sled and, through the client, on tokio: the
    // search finds both, so an empty result above means something.
    let graph = normal_graph();
    assert!(path(&graph, "arqonbus", "sled").is_some());
    let via = path(&graph, "arqonbus-client", "tokio").expect("client uses tokio");
    assert_eq!(via.first().map(String::as_str), Some("arqonbus-client"));
}

/// Every `.rs` file under `dir`, except tests and test builders.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read source dir").flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            sources(&path, out);
        } else if name.ends_with(".rs") && !name.starts_with("tests") && name != "testing.rs" {
            out.push(path);
        }
    }
}

#[test]
fn the_core_reads_no_file_clock_or_environment() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("core/src");
    let mut files = Vec::new();
    sources(&core, &mut files);
    assert!(files.len() > 5, "found the core's sources in {core:?}");
    let banned = [
        "std::fs",
        "std::env",
        "std::net",
        "std::process",
        "SystemTime",
        "Instant",
        // The core links rand for seeded reservoirs only (rollout/): never
        // the operating system's randomness, under either of its names.
        "thread_rng",
        "rand::rng(",
        "OsRng",
        "from_os_rng",
        "from_entropy",
        "getrandom",
    ];
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        // Unit tests at the bottom of a file may use what they like.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for b in banned {
            if code.contains(b) {
                found.push(format!("{}: {b}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the core must stay pure:\n{}",
        found.join("\n")
    );
}
