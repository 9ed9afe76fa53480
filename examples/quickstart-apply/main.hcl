# The quickstart's applied migration: a live application (a producer of numbered records and a
# consumer group) moves from the local source broker to the local target broker with the
# single_consume scheme. `scripts/quickstart.sh` starts the brokers (the source holds the
# quickstart data set, orders.v1 among it) and runs scripts/quickstart-demo.sh, which starts the
# application, applies this migration and checks that no record was lost.

migration "quickstart-apply" {
  scheme        = "single_consume"
  settle_period = "2s" # a demo: lag 0 for 2s is enough to call the source drained
  wait_timeout  = "2m"
}

cluster "source" {
  bootstrap_servers = [env("FERRY_SOURCE_BOOTSTRAP", "127.0.0.1:19092")]
}

cluster "target" {
  bootstrap_servers = [env("FERRY_TARGET_BOOTSTRAP", "127.0.0.1:19093")]
}

# orders.v1 (6 partitions) is created on the target like the source's; no records are copied:
# producers move to the target and the consumers follow once they finished the source.
topics {
  include = ["^orders\\.v1$"]
}

consumer_groups {
  include = ["^quickstart-app$"]
}

# The client switches: each stops the application, points it at $FERRY_TARGET_BOOTSTRAP and
# starts it again, as a deployment system would (see app.sh).
hook "switch_producers" {
  command = ["./switch_producers.sh"]
  timeout = "1m"
}

hook "switch_consumers" {
  command = ["./switch_consumers.sh"]
  timeout = "1m"
}

# The demo keeps the state file (and the hook logs, written beside it) in a temporary directory:
# `--var state_path=/tmp/.../ferry.state.json`. Relative paths are relative to this directory.
variable "state_path" {
  default = "quickstart-apply.state.json"
}

state {
  path = var.state_path
}
