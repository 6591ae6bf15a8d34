fn main() -> std::process::ExitCode {
    basisset::cli::main()
}
