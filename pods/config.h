// berthd's configuration: embedded defaults, overridden by a YAML file (--config),
// overridden by command-line flags. Each section validates itself; an unknown key or
// a bad value is an INVALID_ARGUMENT naming the key, so berthd refuses to start
// rather than run with a setting the operator did not mean.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/log.h"
#include "base/status.h"
#include "image/registry_hosts.h"
#include "nri/options.h"

namespace berth::pods {

struct CniConfig {
  // Directory searched for the network config (the lexicographically first file).
  std::string conf_dir = "/etc/cni/net.d";
  // Directories searched, in order, for plugin binaries.
  std::vector<std::string> bin_dirs = {"/opt/cni/bin", "/usr/lib/cni"};
  // When set, a network config rendered from this file (its {{.PodCIDR}} replaced by
  // the pod CIDR kubelet sends through UpdateRuntimeConfig) is written to
  // conf_dir/10-berth.conflist, as containerd's conf_template does.
  std::string conf_template;
  // How long one plugin call (ADD, CHECK or DEL) may take before it is killed.
  int plugin_timeout_seconds = 60;

  Status Validate() const;
};

struct ImagesConfig {
  // References kubelet must never garbage-collect (reported as pinned).
  std::vector<std::string> pinned;
  // Layers of one image fetched and unpacked at once.
  int max_concurrent_downloads = 3;
  // A registry connection that moves less than 1 KiB/s for this long is dead (as
  // containerd's image_pull_progress_timeout); the request is retried, then fails.
  int pull_progress_timeout_seconds = 60;
  // What one image layer may expand to, uncompressed; 0 sets no
  // limit but the filesystem's (a full disk fails the pull with RESOURCE_EXHAUSTED).
  int64_t max_layer_bytes = 0;

  Status Validate() const;
};

struct RuntimesConfig {
  // The binaries of the runc and crun handlers; a handler whose binary is not there
  // is not offered. berth's own runtime is always berth-runtime beside berthd.
  std::string runc_path = "/usr/sbin/runc";
  std::string crun_path = "/usr/bin/crun";
  // CRIU, for checkpoint and restore (`criu check` must pass on this host).
  std::string criu_path = "/usr/sbin/criu";
  // CheckpointContainer dumps established TCP connections too (CRIU's
  // --tcp-established); off, a container with one cannot be checkpointed.
  bool checkpoint_tcp_established = false;
  // More handler names, each running one of the built-in runtimes ("berth", "runc",
  // "crun"), as RuntimeClasses name them: e.g. test-handler -> runc, the handler
  // Kubernetes' node e2e suite asks for. Each keeps its own runtime state.
  std::map<std::string, std::string> handlers;

  Status Validate() const;
};

struct StreamingConfig {
  // Where the Exec/Attach/PortForward URLs point: loopback by default (kubelet, on
  // the node, proxies every client's connection there), port 0 picks a free one.
  std::string address = "127.0.0.1";
  int port = 0;
  // A session with no traffic either way for this long is closed (PINGs count).
  int idle_timeout_seconds = 4 * 3600;
  // How long an exec's output may stay open after the process exited (a background
  // child holding it) before the session ends anyway.
  int drain_timeout_seconds = 30;
  // TLS (off when unset): a PEM certificate and key; with a client CA, only clients
  // holding a certificate it signed may connect.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;

  Status Validate() const;
};

struct CdiConfig {
  // Where vendors' CDI spec files are, in rising priority: a device in a later
  // directory overrides one of the same name in an earlier (cdi/registry.h).
  std::vector<std::string> spec_dirs = {"/etc/cdi", "/var/run/cdi"};
};

struct MetricsConfig {
  // Where Prometheus scrapes berthd's own metrics (/metrics), "HOST:PORT"; empty, the
  // default, serves none. Port 0 picks a free one (logged at start).
  std::string address;

  Status Validate() const;
};

struct Config {
  // The CRI endpoint: a unix socket, created mode 0660.
  std::string socket = "/run/berth/berth.sock";
  // Persistent state: the database, images, container bundles.
  std::string root = "/var/lib/berth";
  // Transient state that must not survive a reboot: pinned namespaces, shim sockets.
  std::string state_dir = "/run/berth";
  LogLevel log_level = LogLevel::kInfo;
  // How pod and container cgroups are named and managed. Only "cgroupfs" for now:
  // berth writes the cgroup tree directly (this is what kubelet's cgroupDriver must say).
  std::string cgroup_driver = "cgroupfs";
  CniConfig cni;
  // The runtime handler for pods whose RuntimeClass names none: "berth" (the
  // built-in runtime, berth-runtime beside berthd), "runc", "crun" or a name from
  // runtimes.handlers.
  std::string default_runtime_handler = "berth";
  RuntimesConfig runtimes;
  // Registry mirrors and plain-HTTP registries (registry.hosts.<host>.mirrors,
  // registry.hosts.<host>.skip_upstream, registry.insecure).
  image::RegistryConfig registry;
  ImagesConfig images;
  StreamingConfig streaming;
  MetricsConfig metrics;
  // NRI plugins (nri/options.h): off unless nri.enable.
  nri::NriOptions nri;
  CdiConfig cdi;
  // Block I/O classes NRI plugins may give containers (pods/blockio_classes.h);
  // empty: none.
  std::string blockio_config_file;

  Status Validate() const;
  // The effective configuration as YAML, in the same form the file takes.
  std::string ToYaml() const;
};

// Parses a config document; source names it in errors (a file path, say).
StatusOr<Config> ParseConfig(absl::string_view yaml, absl::string_view source);
// Reads and parses a config file.
StatusOr<Config> LoadConfigFile(const std::string& path);

}  // namespace berth::pods
