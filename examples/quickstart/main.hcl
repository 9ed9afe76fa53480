# The quickstart migration: the sample "orders" system on the local source broker moves to the
# local target broker. `scripts/quickstart.sh` starts both brokers, seeds the source and sets
# FERRY_SOURCE_BOOTSTRAP / FERRY_TARGET_BOOTSTRAP; the defaults are for brokers you start yourself.

migration "quickstart" {
  scheme = "mirror"
  # Short waits for a demo; the defaults (30s settle, 1h timeout) suit production.
  settle_period = "3s"
  wait_timeout  = "5m"
}

# The pinned ids are those of the quickstart's brokers (the test bed gives each broker a fresh
# cluster id and passes it in FERRY_*_CLUSTER_ID): ferry refuses to run if bootstrap_servers ever
# point at another cluster. Pin your own clusters' ids here; an empty id pins nothing.
cluster "source" {
  bootstrap_servers = [env("FERRY_SOURCE_BOOTSTRAP", "127.0.0.1:19092")]
  cluster_id        = env("FERRY_SOURCE_CLUSTER_ID", "")
}

cluster "target" {
  bootstrap_servers = [env("FERRY_TARGET_BOOTSTRAP", "127.0.0.1:19093")]
  cluster_id        = env("FERRY_TARGET_CLUSTER_ID", "")
}

# Every orders topic and payments; schema and metrics topics stay behind.
topics {
  include = ["^orders\\.", "^payments$"]
  exclude = ["^_"]
}

# payments gets more partitions on the target (its records keep their source partition).
topic "payments" {
  partitions = 8
}

# Keep orders three days on the target instead of one.
topic "orders.v1" {
  config = { "retention.ms" = 259200000 }
}

consumer_groups {
  include = ["^billing-", "^shipping$"]
}

replication {
  start_from = "earliest"
}

# Client switches happen in your deployment system; these stand-ins only say what would happen.
hook "stop_source_consumers" {
  command = ["echo", "stopping consumers on the source"]
  timeout = "1m"
}
hook "start_target_consumers" {
  command = ["echo", "starting consumers on the target"]
  timeout = "1m"
}

hook "stop_source_producers" {
  command = ["echo", "stopping producers on the source"]
  timeout = "1m"
}
hook "start_target_producers" {
  command = ["echo", "starting producers on the target"]
  timeout = "1m"
}

# scripts/quickstart.sh keeps the state file (and hook logs, written beside it) in a temporary
# directory: `--var state_path=/tmp/.../ferry.state.json`. Relative paths are relative to here.
variable "state_path" {
  default = "quickstart.state.json"
}

state {
  path = var.state_path
}
