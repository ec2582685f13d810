fn main() -> std::process::ExitCode {
    pagopa_gateway::cli::main()
}
