//! `smsgw`: the node binary and the admins' CLI. The command line is `cli`;
//! this file only picks the allocator, parses and prints the error.

// mimalloc's thread-local free lists instead of glibc's arenas: under load
// the node allocates and frees small buffers on every thread (sled nodes,
// frames, JSON), and glibc's malloc/free/consolidate was about a fifth of its
// CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod alarm;
mod api;
mod apps;
mod callbacks;
mod cdr;
mod cli;
mod console;
mod gateway;
mod service;
mod storage;

use clap::Parser;

fn main() -> std::process::ExitCode {
    match cli::run(cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The chain of causes, without a backtrace: these are messages
            // for people at a terminal.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
