//! Who owns a listening TCP port, read from `/proc` (Linux only).
//!
//! Readiness of a broker is "its own pid owns the listening socket on its port": a plain
//! connect-to-port check would also pass when a stale process (an earlier broker, another test's
//! broker) holds the port while the broker we just spawned has exited or is still starting.
//!
//! The kernel lists every socket of the network namespace in `/proc/net/tcp` and
//! `/proc/net/tcp6` with its state and inode; a process's open sockets appear in
//! `/proc/PID/fd` as links named `socket:[INODE]`.

use std::fs;
use std::path::Path;

/// TCP state code of a listening socket in `/proc/net/tcp*`.
const TCP_LISTEN: &str = "0A";

/// Inodes of the sockets listening on `port` (any local address, IPv4 or IPv6).
pub fn listen_inodes(port: u16) -> Vec<u64> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = fs::read_to_string(table) {
            inodes.extend(parse_listen_inodes(&text, port));
        }
    }
    inodes
}

/// Parses one `/proc/net/tcp`-style table: the inodes of LISTEN sockets whose local port is
/// `port`.
///
/// Columns: `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout
/// inode ...`, addresses as `HEXADDR:HEXPORT`.
pub fn parse_listen_inodes(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = fields.get(1)?;
            let state = fields.get(3)?;
            let inode = fields.get(9)?;
            let (_, hex_port) = local.rsplit_once(':')?;
            let local_port = u16::from_str_radix(hex_port, 16).ok()?;
            (local_port == port && *state == TCP_LISTEN)
                .then(|| inode.parse::<u64>().ok())
                .flatten()
                .filter(|&inode| inode != 0)
        })
        .collect()
}

/// The socket inodes among the open file descriptors of `pid`.
fn socket_inodes_of(fd_dir: &Path) -> Vec<u64> {
    let Ok(entries) = fs::read_dir(fd_dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let target = fs::read_link(entry.ok()?.path()).ok()?;
            let target = target.to_str()?;
            target
                .strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect()
}

/// True when process `pid` has a socket listening on `port` open.
pub fn pid_owns_listener(pid: u32, port: u16) -> bool {
    let listening = listen_inodes(port);
    if listening.is_empty() {
        return false;
    }
    socket_inodes_of(&Path::new("/proc").join(pid.to_string()).join("fd"))
        .iter()
        .any(|inode| listening.contains(inode))
}

/// Pids of the processes (readable by us) that hold a socket listening on `port`.
///
/// Scans every `/proc/PID/fd`; meant for error messages, not for polling.
pub fn listener_pids(port: u16) -> Vec<u32> {
    let listening = listen_inodes(port);
    if listening.is_empty() {
        return Vec::new();
    }
    let Ok(procs) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = procs
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            socket_inodes_of(&entry.path().join("fd"))
                .iter()
                .any(|inode| listening.contains(inode))
                .then_some(pid)
        })
        .collect();
    pids.sort_unstable();
    pids
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 41299 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41300 1 0000000000000000 100 0 0 10 0
   3: 0100007F:1F90 0100007F:D2F1 06 00000000:00000000 03:00000F2B 00000000     0        0 0 3 0000000000000000
";

    #[test]
    fn finds_only_listening_sockets_on_the_port() {
        assert_eq!(parse_listen_inodes(TABLE, 0x1F90), vec![41234]);
        assert_eq!(parse_listen_inodes(TABLE, 0x1F91), vec![41300]);
        assert!(parse_listen_inodes(TABLE, 9).is_empty());
    }

    #[test]
    fn own_listener_is_found() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(pid_owns_listener(std::process::id(), port));
        assert_eq!(listener_pids(port), vec![std::process::id()]);
        drop(listener);
        assert!(!pid_owns_listener(std::process::id(), port));
    }
}
