//! glibc's allocator gives each thread that allocates its own arena (up to 8 per core), and
//! librdkafka allocates every message on its broker threads and frees it on another: each arena
//! keeps what it freed. One trial on the copy bench (5,000,000 records of 100 B, `ferry
//! replicate`, `MALLOC_ARENA_MAX=2` in the environment) peaked at 228 MiB against 290 MiB with the
//! default; the full benchmark runs with this call still peaked at 330-336 MiB, which is not yet
//! understood (docs/benchmarks.md). Hand-written: a different Rust global allocator would not
//! reach librdkafka's C allocations.

/// Limits glibc to two malloc arenas for the whole process, unless `MALLOC_ARENA_MAX` says
/// otherwise. Call before any thread starts.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; no other thread exists yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
