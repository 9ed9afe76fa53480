# Dual consume: a second consumer fleet reads the target while the first drains the source.
# No backlog anywhere; the price is running both fleets for a while.

migration "orders-dual" {
  scheme = "dual_consume"
}

cluster "source" {
  bootstrap_servers = [env("FERRY_SOURCE_BOOTSTRAP", "127.0.0.1:19092")]
}

cluster "target" {
  bootstrap_servers = [env("FERRY_TARGET_BOOTSTRAP", "127.0.0.1:19093")]
}

topics {
  include = ["^orders\\.", "^payments$"]
}

consumer_groups {
  include = ["^billing-", "^shipping$"]
}

# Starts the second consumer fleet against the target; ferry then waits for its members.
hook "start_target_consumers" {
  command = ["./deploy/consumers.sh", "start", "target"]
}

hook "switch_producers" {
  command = ["./deploy/switch.sh", "producers", "target"]
}

# Runs once every group has drained the source.
hook "stop_source_consumers" {
  command = ["./deploy/consumers.sh", "stop", "source"]
}
