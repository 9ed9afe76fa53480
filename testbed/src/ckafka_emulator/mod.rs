//! A local CKafka API emulator: a small HTTP server that answers the API 3.0 actions ferry uses
//! with the documented request and response shapes, checks the TC3 signature and the timestamp
//! window, enforces the documented limits and error codes, and applies every change to a real
//! broker (the testbed's target Kafka broker), so the data plane sees it. Of topic state it keeps
//! only the replica counts CKafka was asked for (the test broker has one broker, see `broker`).
//!
//! Tests can make it fail on purpose: [`Emulator::inject`] (or `POST /_emulator/faults` with
//! `{"action", "code", "message", "times"}`) queues errors that the next matching requests get.

mod actions;
mod broker;
mod rules;
mod signature;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use serde_json::{Value, json};
use tiny_http::{Header, Request, Response, Server};

use actions::Actions;
pub use actions::Fault;

pub const VERSION: &str = "2019-08-19";

/// Credentials the emulator accepts by default (the quickstart's and the tests').
pub const TEST_SECRET_ID: &str = "AKIDferryEmulatorTestId";
pub const TEST_SECRET_KEY: &str = "ferry-emulator-test-secret-key";
pub const TEST_INSTANCE_ID: &str = "ckafka-emulator";

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The broker changes are applied to.
    pub broker_bootstrap: String,
    pub instance_id: String,
    pub secret_id: String,
    pub secret_key: String,
    /// 0 picks a free port.
    pub port: u16,
}

impl EmulatorConfig {
    pub fn new(broker_bootstrap: &str) -> EmulatorConfig {
        EmulatorConfig {
            broker_bootstrap: broker_bootstrap.to_string(),
            instance_id: TEST_INSTANCE_ID.into(),
            secret_id: TEST_SECRET_ID.into(),
            secret_key: TEST_SECRET_KEY.into(),
            port: 0,
        }
    }
}

/// One request as the emulator answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub action: String,
    /// The error code answered, `None` on success.
    pub error: Option<String>,
    pub request_id: String,
}

/// An error to answer instead of doing the action.
#[derive(Debug, Clone)]
struct Injected {
    /// Action name, or `*` for any.
    action: String,
    fault: Fault,
    times: usize,
}

struct Shared {
    config: EmulatorConfig,
    faults: Mutex<VecDeque<Injected>>,
    calls: Mutex<Vec<Call>>,
    next_id: AtomicU64,
    stop: AtomicBool,
}

/// A running emulator; dropping it stops the server.
pub struct Emulator {
    url: String,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds 127.0.0.1 and serves on a thread of its own.
    pub fn start(config: EmulatorConfig) -> Result<Emulator> {
        let broker = broker::Broker::connect(&config.broker_bootstrap)?;
        let server = Server::http(("127.0.0.1", config.port))
            .map_err(|e| anyhow!("cannot listen on 127.0.0.1:{}: {e}", config.port))?;
        let port = server
            .server_addr()
            .to_ip()
            .context("the server has no IP address")?
            .port();
        let shared = Arc::new(Shared {
            faults: Mutex::new(VecDeque::new()),
            calls: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            stop: AtomicBool::new(false),
            config: config.clone(),
        });
        let mut actions = Actions::new(broker, &config.instance_id);
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("ckafka-emulator".into())
            .spawn(move || {
                while !thread_shared.stop.load(Ordering::SeqCst) {
                    match server.recv_timeout(Duration::from_millis(100)) {
                        Ok(Some(request)) => serve(&thread_shared, &mut actions, request),
                        Ok(None) => {}
                        Err(_) => break,
                    }
                }
            })
            .context("cannot start the emulator thread")?;
        Ok(Emulator {
            url: format!("http://127.0.0.1:{port}"),
            shared,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`: the ckafka block's `endpoint`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn config(&self) -> &EmulatorConfig {
        &self.shared.config
    }

    /// The next `times` requests for `action` (`*`: any) get this error instead.
    pub fn inject(&self, action: &str, code: &str, message: &str, times: usize) {
        lock(&self.shared.faults).push_back(Injected {
            action: action.to_string(),
            fault: Fault::new(code, message),
            times: times.max(1),
        });
    }

    /// Every request answered so far.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.shared.calls).clone()
    }

    /// Blocks until the server stops (for the command-line emulator).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn serve(shared: &Shared, actions: &mut Actions, mut request: Request) {
    let mut body = Vec::new();
    if request.as_reader().read_to_end(&mut body).is_err() {
        let _ = request.respond(Response::empty(400));
        return;
    }
    if request.url() == "/_emulator/faults" {
        let answer = match serde_json::from_slice::<Value>(&body) {
            Ok(v) => {
                let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                lock(&shared.faults).push_back(Injected {
                    action: text("action"),
                    fault: Fault::new(&text("code"), text("message")),
                    times: v.get("times").and_then(Value::as_u64).unwrap_or(1).max(1) as usize,
                });
                Response::from_string("ok\n")
            }
            Err(e) => Response::from_string(format!("bad JSON: {e}\n")).with_status_code(400),
        };
        let _ = request.respond(answer);
        return;
    }
    let header = |name: &str| {
        request
            .headers()
            .iter()
            .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str().to_string())
    };
    let action = header("x-tc-action").unwrap_or_default();
    let request_id = format!(
        "emulator-{:06}-{}",
        shared.next_id.fetch_add(1, Ordering::SeqCst),
        now()
    );
    let outcome = answer(shared, actions, &action, &header, &body);
    let response = match &outcome {
        Ok(result) => json!({"Response": {"Result": result, "RequestId": request_id}}),
        Err(f) => json!({"Response": {
            "Error": {"Code": f.code, "Message": f.message}, "RequestId": request_id
        }}),
    };
    lock(&shared.calls).push(Call {
        action,
        error: outcome.err().map(|f| f.code),
        request_id,
    });
    let content_type = Header::from_bytes("Content-Type", "application/json").expect("valid");
    let _ = request.respond(Response::from_string(response.to_string()).with_header(content_type));
}

/// Checks the request as the real API does (method, version, timestamp window, signature),
/// then answers an injected fault or does the action.
fn answer(
    shared: &Shared,
    actions: &mut Actions,
    action: &str,
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
) -> Result<Value, Fault> {
    let config = &shared.config;
    if action.is_empty() {
        return Err(Fault::new("MissingParameter", "X-TC-Action is required"));
    }
    if header("x-tc-version").as_deref() != Some(VERSION) {
        return Err(Fault::new(
            "InvalidParameterValue",
            format!("X-TC-Version must be {VERSION}"),
        ));
    }
    let timestamp = header("x-tc-timestamp").unwrap_or_default();
    let Ok(ts) = timestamp.parse::<i64>() else {
        return Err(Fault::new("MissingParameter", "X-TC-Timestamp is required"));
    };
    if (now() - ts).abs() > rules::TIMESTAMP_WINDOW_SECONDS {
        return Err(Fault::new(
            "AuthFailure.SignatureExpire",
            "the request timestamp is more than 5 minutes from the server's time",
        ));
    }
    let auth = header("authorization")
        .as_deref()
        .and_then(signature::parse_authorization)
        .ok_or_else(|| {
            Fault::new(
                "AuthFailure.SignatureFailure",
                "the Authorization header is not TC3-HMAC-SHA256",
            )
        })?;
    if auth.secret_id != config.secret_id {
        return Err(Fault::new(
            "AuthFailure.SecretIdNotFound",
            "the SecretId does not exist",
        ));
    }
    let expected =
        signature::expected_signature(&config.secret_key, &auth, &timestamp, header, body);
    if auth.service != "ckafka"
        || auth.date != signature::utc_date(ts)
        || expected.as_deref() != Some(auth.signature.as_str())
    {
        return Err(Fault::new(
            "AuthFailure.SignatureFailure",
            "the request signature does not match",
        ));
    }
    {
        let mut faults = lock(&shared.faults);
        if let Some(i) = faults
            .iter()
            .position(|f| f.action == action || f.action == "*")
        {
            let fault = faults[i].fault.clone();
            faults[i].times -= 1;
            if faults[i].times == 0 {
                faults.remove(i);
            }
            return Err(fault);
        }
    }
    let params: Value = serde_json::from_slice(body)
        .map_err(|e| Fault::new("InvalidParameter", format!("the body is not JSON: {e}")))?;
    actions.handle(action, &params)
}
