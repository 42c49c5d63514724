use std::process::ExitCode;

/// mimalloc returns freed memory to the system far better than the system allocator does
/// when millions of short-lived cells are freed among long-lived records.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use recon::cli::{Cli, Command, LogFormat, ReviewCommand};
use recon::commands::{self, ExitStatus, Failure};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = matches!(&cli.command, Command::Run(args) if args.quiet);
    recon::logs::init(cli.log_format, cli.log_level.as_deref(), quiet);
    hide_panic_messages();
    // A panic is a bug: its guards remove the staging folder and locks on the way out, and it
    // ends as an internal error (exit 1) like any other.
    let outcome = std::panic::catch_unwind(|| dispatch(&cli)).unwrap_or_else(|_| {
        Err(Failure::Internal(
            "recon stopped on an internal error; nothing was published and the ledger is as it was"
                .into(),
        ))
    });
    let status = match outcome {
        Ok(status) => status,
        Err(failure) => {
            let exit_code = failure.exit_status() as u8;
            match cli.log_format {
                LogFormat::Json => tracing::error!(exit_code, "{}", failure.message()),
                LogFormat::Human => eprintln!("error: {}", failure.message()),
            }
            failure.exit_status()
        }
    };
    ExitCode::from(status as u8)
}

/// A panic's message may quote a cell (a slice of a name, say), so the hook says where recon
/// stopped, never what the message says, unless `RECON_PANIC_DETAIL` is set.
fn hide_panic_messages() {
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: panic{place} (its message may quote a cell and is not shown; RECON_PANIC_DETAIL=1 shows it)");
        if std::env::var_os("RECON_PANIC_DETAIL").is_some() {
            eprintln!("{info}");
        }
    }));
}

fn dispatch(cli: &Cli) -> Result<ExitStatus, Failure> {
    match &cli.command {
        Command::Run(args) => commands::run::run(args),
        Command::National(args) => commands::national::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::CheckConfig { file } => commands::check_config::run(file),
        Command::Ledger(command) => commands::ledger::run(command),
        Command::Eval {
            run_out,
            truth,
            json,
        } => commands::eval::run(run_out, truth, json.as_deref()),
        Command::Synth {
            persons,
            provinces,
            province,
            seed,
            noise,
            variety,
            as_of,
            out,
        } => commands::synth::run(
            (*persons, usize::from(*provinces), province),
            *seed,
            (noise, *variety),
            as_of,
            out,
        ),
        Command::Report {
            out,
            county,
            output,
        } => commands::report::run(out, county.as_deref(), output.as_deref()),
        Command::Link {
            inputs,
            config,
            out,
            model,
        } => commands::link::run(&commands::link::LinkArgs {
            config,
            inputs,
            out,
            model: model.as_deref(),
        }),
        Command::Explain {
            out,
            file,
            row,
            candidates,
            full,
            ledger,
        } => commands::explain::run(&commands::explain::ExplainArgs {
            out,
            file,
            row: *row,
            candidates: *candidates,
            full: *full,
            ledger: ledger.as_deref(),
        }),
        Command::Rules { id, config } => commands::rules::run(id.as_deref(), config.as_deref()),
        Command::Review(ReviewCommand::Import {
            files,
            ledger,
            rejects,
        }) => commands::review_import(files, ledger, rejects.as_deref()),
    }
}
