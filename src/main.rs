//! The `arqonbus` binary: parses the command line and reports errors at the
//! edge. `cli` holds one module per command, `bench` the benchmarks; the
//! node itself is the `arqonbus` library.

mod bench;
mod cli;
mod logging;

use clap::Parser;

fn main() {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; anything
            // else is a usage error (the README's exit code 2).
            let _ = e.print();
            std::process::exit(match e.use_stderr() {
                true => cli::exit::USAGE,
                false => cli::exit::OK,
            });
        }
    };
    logging::init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(cli::exit::FAILED);
        }
    };
    let code = match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            cli::exit::FAILED
        }
    };
    std::process::exit(code);
}
