//! glibc's allocator gives each thread that allocates its own arena (up to 8 per core), and
//! librdkafka allocates every message on its broker threads and frees it on another: each arena
//! keeps what it freed. Two arenas bound that. (An earlier note here quoted peaks of 228 and 290
//! MiB for this setting; those were the benchmark's own size, which Linux counts into a spawned
//! child's `ru_maxrss`. Measured as the process's own high-water mark, `ferry replicate` on
//! 5,000,000 records of 100 B peaks near 63 MiB: docs/benchmarks.md.) Hand-written: a different
//! Rust global allocator would not reach librdkafka's C allocations.

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
