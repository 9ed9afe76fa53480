//! Thin: parse arguments, run, map the error to an exit code once.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    ferry::allocator::limit_malloc_arenas();
    let cli = match ferry::cli::Cli::try_parse_from(ferry::cli::terraform_style_args(
        std::env::args_os(),
    )) {
        Ok(cli) => cli,
        Err(e) => return usage(e),
    };
    // librdkafka's lines arrive as target `librdkafka` at the level ferry gives them
    // (cluster::kafka_log): errors and warnings always, connection trouble librdkafka retries
    // with -v, its debug lines and end-of-partition notices with -vv. rdkafka's own `log`
    // records reach the same subscriber through the log bridge `init` installs.
    let level = match cli.verbose {
        0 => "warn",
        1 => "ferry=debug,librdkafka=info,warn",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level)),
        )
        .with_writer(|| ferry::masking::MaskedStderr)
        .with_ansi(
            !cli.no_color
                && std::env::var_os("NO_COLOR").is_none()
                && std::io::stderr().is_terminal(),
        )
        .with_target(false)
        .init();
    match ferry::run::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let style = console::Style::new().red().bold().for_stderr();
            let message = ferry::masking::mask(&e.to_string());
            eprintln!("{} {message}", style.apply_to("Error:"));
            ExitCode::from(1)
        }
    }
}

/// clap's own exit code for a usage error is 2, which ferry uses for "changes pending" and
/// "drift": a typo in a CI job would read as drift. Usage errors exit 1 like every other error;
/// `--help` and `--version` print to stdout and exit 0.
fn usage(e: clap::Error) -> ExitCode {
    let _ = e.print();
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}
