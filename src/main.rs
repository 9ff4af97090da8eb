//! The `mq` binary: parse the command line, dispatch, map errors to exit codes.

fn main() {
    eprintln!("mq: no command is implemented yet");
    std::process::exit(1);
}
