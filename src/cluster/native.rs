//! Small safe wrappers over the librdkafka handles rdkafka 0.39 keeps private: event queues,
//! events and admin options. Each borrows the client it belongs to, so none can outlive it.

use std::ffi::{CStr, c_void};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::client::{Client, ClientContext};
use rdkafka::types::RDKafkaErrorCode;

/// An event queue of one client.
pub(super) struct Queue<'a> {
    ptr: NonNull<rd::rd_kafka_queue_t>,
    _client: PhantomData<&'a ()>,
}

impl<'a> Queue<'a> {
    /// A new, empty queue of this client, for the results of admin requests.
    pub fn new<C: ClientContext>(client: &'a Client<C>) -> Queue<'a> {
        // SAFETY: the client handle is valid for 'a; librdkafka returns a new queue reference.
        let ptr = unsafe { rd::rd_kafka_queue_new(client.native_ptr()) };
        Queue::from_raw(ptr)
    }

    /// The client's main queue, where logs, statistics and global errors arrive.
    pub fn main<C: ClientContext>(client: &'a Client<C>) -> Queue<'a> {
        // SAFETY: as above; `queue_get_main` returns a new reference that we destroy on drop.
        let ptr = unsafe { rd::rd_kafka_queue_get_main(client.native_ptr()) };
        Queue::from_raw(ptr)
    }

    fn from_raw(ptr: *mut rd::rd_kafka_queue_t) -> Queue<'a> {
        Queue {
            ptr: NonNull::new(ptr).expect("librdkafka returned no queue"),
            _client: PhantomData,
        }
    }

    pub fn ptr(&self) -> *mut rd::rd_kafka_queue_t {
        self.ptr.as_ptr()
    }

    /// The next event, waiting at most `timeout`.
    pub fn poll(&self, timeout: Duration) -> Option<Event<'a>> {
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: the queue is valid; a returned event is owned by the caller.
        let ev = unsafe { rd::rd_kafka_queue_poll(self.ptr(), ms) };
        NonNull::new(ev).map(|ptr| Event {
            ptr,
            _client: PhantomData,
        })
    }
}

impl Drop for Queue<'_> {
    fn drop(&mut self) {
        // SAFETY: we own this queue reference; late admin results for a destroyed queue are
        // dropped by librdkafka.
        unsafe { rd::rd_kafka_queue_destroy(self.ptr()) }
    }
}

// SAFETY: librdkafka queues may be polled from any thread.
unsafe impl Send for Queue<'_> {}

/// One event taken from a queue, destroyed on drop.
pub(super) struct Event<'a> {
    ptr: NonNull<rd::rd_kafka_event_t>,
    _client: PhantomData<&'a ()>,
}

impl Event<'_> {
    pub fn ptr(&self) -> *mut rd::rd_kafka_event_t {
        self.ptr.as_ptr()
    }

    /// One of the `RD_KAFKA_EVENT_*` constants.
    pub fn kind(&self) -> i32 {
        // SAFETY: the event is valid while self lives.
        unsafe { rd::rd_kafka_event_type(self.ptr()) }
    }

    /// The event's error, if it carries one.
    pub fn error(&self) -> Option<(RDKafkaErrorCode, String)> {
        // SAFETY: the event is valid; the error string lives as long as the event.
        let code = unsafe { rd::rd_kafka_event_error(self.ptr()) };
        if code == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            return None;
        }
        let text = unsafe { cstr(rd::rd_kafka_event_error_string(self.ptr())) };
        Some((code.into(), text))
    }

    /// The opaque value given to [`AdminOptions::new`] for the request this event answers.
    pub fn opaque(&self) -> usize {
        // SAFETY: the event is valid; the opaque is an integer we stored, never dereferenced.
        unsafe { rd::rd_kafka_event_opaque(self.ptr()) as usize }
    }

    /// Facility, message and syslog level of a log event.
    pub fn log(&self) -> Option<(String, String, i32)> {
        let (mut fac, mut msg, mut level) = (std::ptr::null(), std::ptr::null(), 0);
        // SAFETY: the event is valid; the strings live as long as the event and are copied.
        let rc = unsafe { rd::rd_kafka_event_log(self.ptr(), &mut fac, &mut msg, &mut level) };
        (rc == 0).then(|| unsafe { (cstr(fac), cstr(msg), level) })
    }

    /// The JSON of a statistics event.
    pub fn stats(&self) -> Option<&str> {
        // SAFETY: the event is valid; the JSON lives as long as the event (tied to &self).
        let json = unsafe { rd::rd_kafka_event_stats(self.ptr()) };
        if json.is_null() {
            return None;
        }
        unsafe { CStr::from_ptr(json) }.to_str().ok()
    }
}

impl Drop for Event<'_> {
    fn drop(&mut self) {
        // SAFETY: we own the event; results read from it were copied out before.
        unsafe { rd::rd_kafka_event_destroy(self.ptr()) }
    }
}

/// Options of one admin request: a request timeout and an opaque that comes back on its result.
pub(super) struct AdminOptions<'a> {
    ptr: NonNull<rd::rd_kafka_AdminOptions_t>,
    _client: PhantomData<&'a ()>,
}

impl<'a> AdminOptions<'a> {
    pub fn new<C: ClientContext>(client: &'a Client<C>, timeout: Duration, opaque: usize) -> Self {
        let any = rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_ANY;
        // SAFETY: the client is valid for 'a.
        let raw = unsafe { rd::rd_kafka_AdminOptions_new(client.native_ptr(), any) };
        let ptr = NonNull::new(raw).expect("librdkafka returned no admin options");
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        let mut errstr = [0 as std::ffi::c_char; 256];
        // SAFETY: options valid; a timeout within i32 range is always accepted, and on a failure
        // the default (socket.timeout.ms) stays in force, which is still a deadline.
        unsafe {
            rd::rd_kafka_AdminOptions_set_request_timeout(
                ptr.as_ptr(),
                ms,
                errstr.as_mut_ptr(),
                errstr.len(),
            );
            rd::rd_kafka_AdminOptions_set_opaque(ptr.as_ptr(), opaque as *mut c_void);
        }
        AdminOptions {
            ptr,
            _client: PhantomData,
        }
    }

    /// How long the broker may take to carry the operation out (CreateTopics,
    /// CreatePartitions) before it answers; without it the broker answers as soon as it has
    /// started the operation.
    pub fn with_operation_timeout(self, timeout: Duration) -> Self {
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        let mut errstr = [0 as std::ffi::c_char; 256];
        // SAFETY: options valid; a failure (out of range) leaves the default of 0 in force.
        unsafe {
            rd::rd_kafka_AdminOptions_set_operation_timeout(
                self.ptr(),
                ms,
                errstr.as_mut_ptr(),
                errstr.len(),
            );
        }
        self
    }

    pub fn ptr(&self) -> *mut rd::rd_kafka_AdminOptions_t {
        self.ptr.as_ptr()
    }
}

impl Drop for AdminOptions<'_> {
    fn drop(&mut self) {
        // SAFETY: librdkafka copies the options into each request, so we may free them.
        unsafe { rd::rd_kafka_AdminOptions_destroy(self.ptr()) }
    }
}

/// The cluster id the client learnt from its last Metadata response, waiting at most `timeout`
/// for the first one. `None` on timeout or when the broker reports no id.
pub(super) fn cluster_id<C: ClientContext>(
    client: &Client<C>,
    timeout: Duration,
) -> Option<String> {
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: the client is valid; the returned string is ours and freed with rd_kafka_mem_free
    // (rdkafka's own `fetch_cluster_id` leaks it).
    unsafe {
        let raw = rd::rd_kafka_clusterid(client.native_ptr(), ms);
        if raw.is_null() {
            return None;
        }
        let id = cstr(raw);
        rd::rd_kafka_mem_free(client.native_ptr(), raw.cast());
        Some(id)
    }
}

/// Copies a C string; null becomes "".
///
/// # Safety
/// `ptr` is null or points to a NUL-terminated string.
pub(super) unsafe fn cstr(ptr: *const std::ffi::c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: guaranteed by the caller.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned()
}

/// The result of one admin request sent to `queue`, failed when it did not come before `deadline`.
pub(super) fn single_result<'a>(
    queue: &Queue<'a>,
    deadline: std::time::Instant,
) -> Result<Event<'a>, AdminFailure> {
    collect_results(queue, 1, deadline)
        .pop()
        .flatten()
        .ok_or_else(AdminFailure::timed_out)
}

/// As [`single_result`], also failing on the request-level error the event carries.
pub(super) fn checked_result<'a>(
    queue: &Queue<'a>,
    deadline: std::time::Instant,
) -> Result<Event<'a>, AdminFailure> {
    let event = single_result(queue, deadline)?;
    match event.error() {
        Some((code, message)) => Err(AdminFailure { code, message }),
        None => Ok(event),
    }
}

/// An event of another type than the request's result (a librdkafka contract broken).
pub(super) fn wrong_type(event: &Event<'_>) -> AdminFailure {
    AdminFailure {
        code: RDKafkaErrorCode::Fail,
        message: format!("unexpected event type {}", event.kind()),
    }
}

/// Waits for the results of `count` admin requests sent to `queue` with opaques `0..count`:
/// slot `i` holds the event of request `i`, or `None` when it did not arrive before `deadline`.
pub(super) fn collect_results<'a>(
    queue: &Queue<'a>,
    count: usize,
    deadline: std::time::Instant,
) -> Vec<Option<Event<'a>>> {
    let mut results: Vec<Option<Event<'a>>> = (0..count).map(|_| None).collect();
    let mut pending = count;
    while pending > 0 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        let Some(event) = queue.poll(left) else {
            continue;
        };
        let slot = event.opaque();
        if slot < count && results[slot].is_none() {
            results[slot] = Some(event);
            pending -= 1;
        }
    }
    results
}

/// The error of a failed admin request or of one of its resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AdminFailure {
    pub code: RDKafkaErrorCode,
    pub message: String,
}

impl AdminFailure {
    pub fn timed_out() -> AdminFailure {
        AdminFailure {
            code: RDKafkaErrorCode::OperationTimedOut,
            message: "no result before the deadline".into(),
        }
    }
}

impl AdminFailure {
    /// Reads and destroys an error object librdkafka handed over (`NULL`: no error).
    ///
    /// # Safety
    /// `error` is null or an error object owned by the caller.
    pub unsafe fn take(error: *mut rd::rd_kafka_error_t) -> Option<AdminFailure> {
        if error.is_null() {
            return None;
        }
        // SAFETY: guaranteed by the caller; the string is copied before the error is freed.
        unsafe {
            let failure = AdminFailure {
                code: rd::rd_kafka_error_code(error).into(),
                message: cstr(rd::rd_kafka_error_string(error)),
            };
            rd::rd_kafka_error_destroy(error);
            Some(failure)
        }
    }

    /// A failure of one resource of an answer: its code and the broker's message (the code's
    /// description when the broker sent none).
    ///
    /// # Safety
    /// `message` is null or points to a NUL-terminated string.
    pub unsafe fn of_resource(
        code: rd::rd_kafka_resp_err_t,
        message: *const std::ffi::c_char,
    ) -> Option<AdminFailure> {
        if code == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            return None;
        }
        let code: RDKafkaErrorCode = code.into();
        // SAFETY: guaranteed by the caller.
        let mut message = unsafe { cstr(message) };
        if message.is_empty() {
            message = code.to_string();
        }
        Some(AdminFailure { code, message })
    }

    /// A request that could not be built (a name with a NUL byte, a count out of range).
    pub fn invalid(message: String) -> AdminFailure {
        AdminFailure {
            code: RDKafkaErrorCode::InvalidArgument,
            message,
        }
    }
}
