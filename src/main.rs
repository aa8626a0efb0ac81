//! The `conform` command line: parses arguments and calls the library.

fn main() {
    std::process::exit(conform::exit::OK);
}
