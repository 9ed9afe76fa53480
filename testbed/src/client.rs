//! Shared rdkafka plumbing for [`crate::seed`] and [`crate::inspect`].

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use rdkafka::ClientConfig;

/// Timeout for a single request to the broker.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Base client configuration for `bootstrap`.
pub fn config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "ferry-testbed")
        .set("socket.timeout.ms", "30000");
    config
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on the current thread.
///
/// rdkafka's admin futures are completed by the admin client's own polling thread, so no async
/// runtime is needed to drive them.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut context = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => thread::park(),
        }
    }
}

/// The cluster id the broker reports in a metadata response, or `None` if none arrived within
/// `timeout`. rdkafka 0.39 does not wrap `rd_kafka_clusterid`, so this calls it directly.
pub fn cluster_id<C: rdkafka::consumer::ConsumerContext>(
    consumer: &rdkafka::consumer::BaseConsumer<C>,
    timeout: Duration,
) -> Option<String> {
    use rdkafka::client::Client;
    use rdkafka::consumer::Consumer as _;
    let client: &Client<C> = consumer.client();
    let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: the client pointer is valid for the consumer's life; the returned string is
    // allocated by librdkafka and freed with rd_kafka_mem_free after it was copied.
    unsafe {
        let raw = rdkafka::bindings::rd_kafka_clusterid(client.native_ptr(), millis);
        if raw.is_null() {
            return None;
        }
        let id = std::ffi::CStr::from_ptr(raw).to_string_lossy().into_owned();
        rdkafka::bindings::rd_kafka_mem_free(client.native_ptr(), raw.cast());
        Some(id)
    }
}
