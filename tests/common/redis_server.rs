//! A throwaway redis-server for one test: started on a free loopback port with no persistence,
//! stopped (killed) when dropped. `scripts/bootstrap.sh` installs the binary.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

/// A free loopback port (bound, then released for a child process or a test to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Sends one inline command and returns the raw reply.
pub async fn command(port: u16, line: &str) -> std::io::Result<String> {
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    tcp.write_all(format!("{line}\r\n").as_bytes()).await?;
    let mut reply = vec![0u8; 64 * 1024];
    let n = tokio::time::timeout(Duration::from_secs(2), tcp.read(&mut reply))
        .await
        .map_err(|_| std::io::Error::other("no reply"))??;
    Ok(String::from_utf8_lossy(&reply[..n]).into_owned())
}

impl RedisServer {
    pub async fn start() -> RedisServer {
        let mut server = RedisServer {
            port: free_port(),
            child: None,
        };
        server.restart().await;
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Starts it (again, on the same port, empty) and waits until it answers PING.
    pub async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed (scripts/bootstrap.sh redis)");
        self.child = Some(child);
        for _ in 0..100 {
            if command(self.port, "PING")
                .await
                .is_ok_and(|r| r.starts_with("+PONG"))
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    /// Refuses `command` (`NOPERM`) from now on, keeping the data and the connections: a store
    /// that answers some requests and fails others (`eval` carries the ended-session records,
    /// `set` the one-time values).
    pub async fn refuse(&self, command: &str) {
        let reply = self::command(self.port, &format!("ACL SETUSER default -{command}")).await;
        assert!(
            reply.is_ok_and(|r| r.starts_with("+OK")),
            "ACL refuses {command}"
        );
    }

    /// Takes `command` again.
    pub async fn allow(&self, command: &str) {
        let reply = self::command(self.port, &format!("ACL SETUSER default +{command}")).await;
        assert!(
            reply.is_ok_and(|r| r.starts_with("+OK")),
            "ACL allows {command}"
        );
    }

    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }

    /// Every key under `prefix`, with its TTL in seconds (-1: none).
    pub async fn keys_with_ttl(&self, prefix: &str) -> Vec<(String, i64)> {
        let reply = command(self.port, &format!("KEYS {prefix}*"))
            .await
            .unwrap_or_default();
        let keys: Vec<String> = reply
            .lines()
            .filter(|l| !l.starts_with('*') && !l.starts_with('$'))
            .map(str::to_string)
            .collect();
        let mut out = Vec::new();
        for key in keys {
            let ttl = command(self.port, &format!("TTL {key}"))
                .await
                .ok()
                .and_then(|r| r.trim().trim_start_matches(':').parse().ok())
                .unwrap_or(-2);
            out.push((key, ttl));
        }
        out
    }
}
