// berthctl cluster: local Kubernetes clusters whose nodes are berth containers.
//
//   berthctl cluster create [--name N] [--nodes K] [--kubernetes DIR] [--registry 127.0.0.1:PORT]
//   berthctl cluster delete [--name N]
//   berthctl cluster list
//   berthctl cluster start [--name N]   # brings back nodes whose container is gone
//   berthctl cluster load [--name N] ARCHIVE...   # images saved by podman/docker save
//   berthctl cluster kubeconfig [--name N]         # the administrator's kubeconfig
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "cluster/kubeconfig.h"
#include "cluster/node_files.h"
#include "cluster/record.h"
#include "cmd/berthctl/cluster_commands.h"
#include "cmd/berthctl/cluster_nodes.h"
#include "cmd/berthctl/command.h"

namespace po = boost::program_options;

namespace berth::ctl {

namespace {

int Fail(const std::string& command, const Status& status) {
  std::cerr << "berthctl cluster " << command << ": " << status.message() << "\n";
  return 1;
}

int RunDelete(const ClusterOptions& options, const std::vector<std::string>& args) {
  CommandLine line;
  if (int rc = ParseCommand({"cluster delete", "cluster delete [--name N]",
                             "Removes the cluster's nodes, their files and its kubeconfig context", 0, 0},
                            args, po::options_description("Flags"), &line);
      rc >= 0) {
    return rc;
  }
  Status deleted = DeleteCluster(options);
  if (!deleted.ok()) return Fail("delete", deleted);
  std::cout << "Deleted cluster " << options.name << "\n";
  return 0;
}

int RunList(const ClusterOptions& options, const std::vector<std::string>& args) {
  CommandLine line;
  if (int rc = ParseCommand({"cluster list", "cluster list", "Lists the clusters berthctl made", 0, 0}, args,
                            po::options_description("Flags"), &line);
      rc >= 0) {
    return rc;
  }
  std::vector<std::string> names = cluster::ListClusters(options.state_dir);
  if (names.empty()) std::cerr << "No clusters.\n";
  for (const auto& name : names) std::cout << name << "\n";
  return 0;
}

// A node whose pod is gone, not ready or without a running node container gets a new
// pod; its files are written again for its new address (its volumes, with kubelet's
// and berthd's state, stay).
Status Start(const ClusterOptions& options) {
  ASSIGN_OR_RETURN(cluster::ClusterRecord record, cluster::LoadRecord(options.state_dir, options.name));
  ClusterNodes nodes(options.endpoint, options.timeout, options.state_dir);
  ASSIGN_OR_RETURN(std::vector<NodePod> pods, nodes.List(options.name));
  const std::string control_plane_dir = cluster::NodeDir(options.state_dir, options.name,
                                                         record.spec.control_plane_name);
  ASSIGN_OR_RETURN(cluster::ClusterPki pki, cluster::LoadClusterPki(control_plane_dir));
  RETURN_IF_ERROR(nodes.Pull(record.node_image));
  for (const auto& node : record.nodes) {
    bool running = false;
    for (const auto& pod : pods) {
      if (pod.node != node.name) continue;
      if (pod.ready && pod.running) {
        running = true;
      } else {
        RETURN_IF_ERROR(nodes.Remove(pod));
      }
    }
    if (running) continue;
    ASSIGN_OR_RETURN(NodePod pod, nodes.RunPod(record, node));
    if (node.control_plane && pod.ip != record.spec.control_plane_ip) {
      (void)nodes.Remove(pod);
      return absl::FailedPreconditionError(absl::StrCat(
          "the control-plane node came back at ", pod.ip, ", not ", record.spec.control_plane_ip,
          ", which its certificates name; delete the cluster and create it again"));
    }
    ASSIGN_OR_RETURN(cluster::Files files,
                     cluster::NodeFiles(record.spec, {node.name, pod.ip, node.control_plane}, pki));
    const std::string dir = cluster::NodeDir(options.state_dir, options.name, node.name);
    for (const auto& [path, content] : files) {
      // The control-plane node keeps its certificates: kubeconfigs elsewhere trust them.
      if (node.control_plane && std::filesystem::exists(dir + "/" + path)) continue;
      RETURN_IF_ERROR(WriteFileAtomically(dir + "/" + path, content, 0600));
    }
    RETURN_IF_ERROR(nodes.StartNode(record, node, pod));
    std::cout << "Started node " << node.name << " at " << pod.ip << "\n";
  }
  return absl::OkStatus();
}

// The administrator's kubeconfig, as create wrote it; made again from the cluster's
// CA for a cluster created before berthctl kept it.
StatusOr<std::string> AdminKubeconfig(const ClusterOptions& options) {
  ASSIGN_OR_RETURN(cluster::ClusterRecord record, cluster::LoadRecord(options.state_dir, options.name));
  const std::string path = cluster::AdminKubeconfigPath(options.state_dir, options.name);
  if (auto kept = ReadFile(path); kept.ok()) return *kept;
  ASSIGN_OR_RETURN(cluster::ClusterPki pki,
                   cluster::LoadClusterPki(cluster::NodeDir(options.state_dir, options.name,
                                                            record.spec.control_plane_name)));
  ASSIGN_OR_RETURN(cluster::KubeconfigEntry admin, cluster::AdminKubeconfig(record.spec, pki));
  std::string text = cluster::Kubeconfig(admin);
  RETURN_IF_ERROR(WriteFileAtomically(path, text, 0600));
  return text;
}

int RunKubeconfig(const ClusterOptions& options, const std::vector<std::string>& args) {
  CommandLine line;
  if (int rc = ParseCommand({"cluster kubeconfig", "cluster kubeconfig [--name N]",
                             "Prints the cluster administrator's kubeconfig (context berth-N), as "
                             "`kind get kubeconfig` does",
                             0, 0},
                            args, po::options_description("Flags"), &line);
      rc >= 0) {
    return rc;
  }
  auto kubeconfig = AdminKubeconfig(options);
  if (!kubeconfig.ok()) return Fail("kubeconfig", kubeconfig.status());
  std::cout << *kubeconfig;
  return 0;
}

int RunStart(const ClusterOptions& options, const std::vector<std::string>& args) {
  CommandLine line;
  if (int rc = ParseCommand({"cluster start", "cluster start [--name N]",
                             "Starts the cluster's nodes whose containers are gone (after a host restart, or a node "
                             "removed by hand); they rejoin with their state",
                             0, 0},
                            args, po::options_description("Flags"), &line);
      rc >= 0) {
    return rc;
  }
  Status started = Start(options);
  if (!started.ok()) return Fail("start", started);
  return 0;
}

}  // namespace

std::string KubeconfigPath() {
  // Of several files in $KUBECONFIG, kubectl writes new entries to the first.
  const std::string env = std::getenv("KUBECONFIG") ? std::getenv("KUBECONFIG") : "";
  const std::string first = env.substr(0, env.find(':'));
  if (!first.empty()) return first;
  const char* home = std::getenv("HOME");
  return absl::StrCat(home && *home ? home : "/root", "/.kube/config");
}

Status DeleteCluster(const ClusterOptions& options) {
  RETURN_IF_ERROR(cluster::ValidateClusterName(options.name));
  ClusterNodes nodes(options.endpoint, options.timeout, options.state_dir);
  ASSIGN_OR_RETURN(std::vector<NodePod> pods, nodes.List(options.name));
  const std::string dir = cluster::ClusterDir(options.state_dir, options.name);
  if (pods.empty() && !std::filesystem::exists(dir)) {
    return absl::NotFoundError(absl::StrCat("no cluster named ", options.name));
  }
  // Everything that can go goes; what could not is reported together.
  Status result;
  for (const auto& pod : pods) result.Update(nodes.Remove(pod));
  if (!result.ok()) {
    return absl::Status(result.code(), absl::StrCat(result.message(), "; the cluster's files under ", dir,
                                                    " are kept for another try"));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) result.Update(absl::InternalError(absl::StrCat("remove ", dir, ": ", ec.message())));
  const std::string kubeconfig = KubeconfigPath();
  auto existing = ReadFile(kubeconfig);
  if (existing.ok()) {
    auto pruned = cluster::RemoveFromKubeconfig(*existing, "berth-" + options.name);
    if (pruned.ok()) {
      result.Update(WriteUserFile(kubeconfig, *pruned));
    } else {
      result.Update(Annotate(pruned.status(), kubeconfig));
    }
  }
  return result;
}

Status WriteUserFile(const std::string& path, const std::string& content) {
  // Through a link to the file it names; the owner and mode of a file that was
  // there kept (berthctl runs as root, the kubeconfig may be a user's).
  std::error_code ec;
  std::string target = std::filesystem::exists(path, ec) ? std::filesystem::canonical(path, ec).string() : path;
  if (ec) target = path;
  struct stat before;
  const bool existed = ::stat(target.c_str(), &before) == 0;
  std::filesystem::create_directories(std::filesystem::path(target).parent_path(), ec);
  RETURN_IF_ERROR(WriteFileAtomically(target, content, existed ? (before.st_mode & 07777) : 0600));
  if (existed && ::chown(target.c_str(), before.st_uid, before.st_gid) != 0) {
    return ErrnoError(absl::StrCat("chown ", target));
  }
  return absl::OkStatus();
}

int RunCluster(const GlobalOptions& global, const std::vector<std::string>& args) {
  static const char kUsage[] =
      "Usage: berthctl cluster SUBCOMMAND [--name N] [--state DIR] [flags]\n\n"
      "Subcommands:\n"
      "  create   create a cluster whose nodes are berth containers\n"
      "  delete   remove a cluster and everything it made\n"
      "  list     list clusters\n"
      "  start    start the nodes of a cluster whose containers are gone\n"
      "  load     load images saved to archives (podman save, docker save) into a cluster\n"
      "  kubeconfig  print a cluster's administrator kubeconfig\n\n"
      "Common flags:\n"
      "  --name N      the cluster (default berth); its kubeconfig context is berth-N\n"
      "  --state DIR   where clusters keep their files (default /var/lib/berth-cluster)\n";
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
    std::cout << kUsage;
    return args.size() < 2 ? 2 : 0;
  }
  ClusterOptions options;
  options.endpoint = global.endpoint;
  options.timeout = global.timeout;
  // --name and --state belong to every subcommand: taken out here.
  std::vector<std::string> rest = {args[1]};
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string& arg = args[i];
    std::string* value = nullptr;
    std::string flag;
    for (const char* name : {"--name", "--state"}) {
      if (arg == name || arg.rfind(std::string(name) + "=", 0) == 0) {
        flag = name;
        value = flag == "--name" ? &options.name : &options.state_dir;
      }
    }
    if (value == nullptr) {
      rest.push_back(arg);
    } else if (arg == flag) {
      if (i + 1 >= args.size()) {
        std::cerr << "berthctl cluster: " << flag << " needs a value\n";
        return 2;
      }
      *value = args[++i];
    } else {
      *value = arg.substr(flag.size() + 1);
    }
  }
  // Mount sources must be absolute: a relative --state is made so here.
  options.state_dir = std::filesystem::absolute(options.state_dir).lexically_normal().string();
  if (Status valid = cluster::ValidateClusterName(options.name); !valid.ok()) {
    std::cerr << "berthctl cluster: " << valid.message() << "\n";
    return 2;
  }
  const std::string& sub = args[1];
  if (sub == "create") return RunClusterCreate(options, rest);
  if (sub == "delete") return RunDelete(options, rest);
  if (sub == "list") return RunList(options, rest);
  if (sub == "start") return RunStart(options, rest);
  if (sub == "load") return RunClusterLoad(options, rest);
  if (sub == "kubeconfig") return RunKubeconfig(options, rest);
  std::cerr << "berthctl cluster: unknown subcommand " << sub << "\n\n" << kUsage;
  return 2;
}

}  // namespace berth::ctl
