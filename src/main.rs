//! The `arqonbus` binary: parses the command line and reports errors at the
//! edge; everything else is in the library.

use clap::Parser;

fn main() {
    let cli = arqonbus::cli::Cli::parse();
    arqonbus::logging::init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(arqonbus::cli::exit::FAILED);
        }
    };
    let code = match runtime.block_on(arqonbus::cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            arqonbus::cli::exit::FAILED
        }
    };
    std::process::exit(code);
}
