//! The `conform` binary: the command line lives in the library ([`conform::cli`]).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(conform::cli::main());
}
