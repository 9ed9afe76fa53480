# Single consume: producers move first, the consumers finish the source, then move too and
# work off the backlog on the target. ferry commits every group's offsets at the start of each
# target partition before producers move, so auto.offset.reset=latest cannot skip the backlog.

migration "orders-single" {
  scheme = "single_consume"
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
  include = [".*"]
  exclude = ["^console-consumer-"]
}

hook "switch_producers" {
  command = ["./deploy/switch.sh", "producers", "target"]
  timeout = "15m"
}

hook "switch_consumers" {
  command = ["./deploy/switch.sh", "consumers", "target"]
  timeout = "15m"
}
