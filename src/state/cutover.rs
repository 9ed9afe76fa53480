//! When clients stopped on the source and started on the target (mirror), and the pauses that
//! follow: the migration's only downtime, kept so that a report after the change window, or a
//! run resumed after a crash, still has the whole measurement.

use serde::{Deserialize, Serialize};

/// Each time is set once, by the first attempt, so a rerun after a crash measures the pause
/// the clients really had, not the rerun's share of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cutover {
    /// `stop_source_consumers` began (RFC 3339, milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumers_stopped_at: Option<String>,
    /// `start_target_consumers` finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumers_started_at: Option<String>,
    /// Seconds from the first to the second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_pause_seconds: Option<f64>,
    /// `stop_source_producers` began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producers_stopped_at: Option<String>,
    /// `start_target_producers` finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producers_started_at: Option<String>,
    /// Seconds from the first to the second: how long nobody could write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_pause_seconds: Option<f64>,
}

/// Which client fleet a cutover hook moves, and in which direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutoverEdge {
    ConsumersStopped,
    ConsumersStarted,
    ProducersStopped,
    ProducersStarted,
}

impl CutoverEdge {
    /// The mirror hook that marks this edge: stops are measured from the hook's start, starts
    /// to its end, so the pause is an upper bound of what clients saw.
    pub fn of_hook(hook: &str) -> Option<CutoverEdge> {
        match hook {
            "stop_source_consumers" => Some(CutoverEdge::ConsumersStopped),
            "start_target_consumers" => Some(CutoverEdge::ConsumersStarted),
            "stop_source_producers" => Some(CutoverEdge::ProducersStopped),
            "start_target_producers" => Some(CutoverEdge::ProducersStarted),
            _ => None,
        }
    }

    pub fn is_stop(self) -> bool {
        matches!(
            self,
            CutoverEdge::ConsumersStopped | CutoverEdge::ProducersStopped
        )
    }
}

impl Cutover {
    pub fn is_empty(&self) -> bool {
        self == &Cutover::default()
    }

    /// Records `edge` at `at` (RFC 3339); a stop already recorded is kept. Returns the pause it
    /// closes, in seconds, for a start whose stop is known.
    pub fn record(&mut self, edge: CutoverEdge, at: &str) -> Option<f64> {
        let (stopped, started, pause) = match edge {
            CutoverEdge::ConsumersStopped | CutoverEdge::ConsumersStarted => (
                &mut self.consumers_stopped_at,
                &mut self.consumers_started_at,
                &mut self.consumer_pause_seconds,
            ),
            CutoverEdge::ProducersStopped | CutoverEdge::ProducersStarted => (
                &mut self.producers_stopped_at,
                &mut self.producers_started_at,
                &mut self.write_pause_seconds,
            ),
        };
        if edge.is_stop() {
            stopped.get_or_insert_with(|| at.to_string());
            return None;
        }
        *started = Some(at.to_string());
        let seconds = seconds_between(stopped.as_deref()?, at)?;
        *pause = Some(seconds);
        Some(seconds)
    }
}

fn seconds_between(from: &str, to: &str) -> Option<f64> {
    let from = humantime::parse_rfc3339(from).ok()?;
    let to = humantime::parse_rfc3339(to).ok()?;
    Some(to.duration_since(from).ok()?.as_secs_f64())
}

/// Now, RFC 3339 with milliseconds: pauses are a few seconds, whole seconds would hide them.
pub fn now_rfc3339_millis() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_runs_from_the_first_stop_to_the_start() {
        let mut c = Cutover::default();
        assert_eq!(
            c.record(CutoverEdge::ProducersStopped, "2026-12-02T10:00:00.000Z"),
            None
        );
        // A rerun after a crash runs the stop hook again: the first stop stays.
        c.record(CutoverEdge::ProducersStopped, "2026-12-02T10:00:05.000Z");
        let pause = c.record(CutoverEdge::ProducersStarted, "2026-12-02T10:00:07.250Z");
        assert_eq!(pause, Some(7.25));
        assert_eq!(c.write_pause_seconds, Some(7.25));
        assert_eq!(c.consumer_pause_seconds, None);
    }

    #[test]
    fn a_start_without_a_recorded_stop_measures_nothing() {
        let mut c = Cutover::default();
        assert_eq!(
            c.record(CutoverEdge::ConsumersStarted, "2026-12-02T10:00:00.000Z"),
            None
        );
        assert_eq!(c.consumer_pause_seconds, None);
        assert!(!c.is_empty());
    }

    #[test]
    fn only_mirror_cutover_hooks_are_edges() {
        assert_eq!(
            CutoverEdge::of_hook("stop_source_producers"),
            Some(CutoverEdge::ProducersStopped)
        );
        assert_eq!(CutoverEdge::of_hook("switch_producers"), None);
    }
}
