fn main() {
    eprintln!("soquete-server: not built yet");
    std::process::exit(1);
}
