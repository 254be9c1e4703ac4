// Where berth keeps what: the one place that knows the layout of the state root
// (persistent: the database, images, containers' writable layers, network caches)
// and of the state directory (gone at reboot: pinned namespaces, shims' exit
// files, the runtimes' state).
#pragma once

#include <string>

namespace berth::pods {

class StateLayout {
 public:
  StateLayout(std::string root, std::string state_dir) : root_(std::move(root)), state_(std::move(state_dir)) {}

  const std::string& root() const { return root_; }
  const std::string& state_dir() const { return state_; }

  std::string LockFile() const { return root_ + "/berthd.lock"; }
  std::string Database() const { return root_ + "/berth.db"; }
  std::string ImagesDir() const { return root_ + "/images"; }
  // A container's bundle and writable layer: ROOT/containers/<id>.
  std::string ContainersDir() const { return root_ + "/containers"; }
  std::string ContainerDir(const std::string& id) const { return ContainersDir() + "/" + id; }
  // What each pod's CNI attachment used, so DEL undoes exactly that.
  std::string NetworkCacheDir() const { return root_ + "/network"; }

  // A pod's pinned namespaces, /dev/shm, hosts and resolv.conf: STATE/pods/<id>.
  std::string PodsDir() const { return state_ + "/pods"; }
  std::string PodDir(const std::string& id) const { return PodsDir() + "/" + id; }
  // A container's exit file and control FIFO: STATE/containers/<id>.
  std::string ContainerRunsDir() const { return state_ + "/containers"; }
  std::string ContainerRunDir(const std::string& id) const { return ContainerRunsDir() + "/" + id; }
  // The state of one runtime handler's containers (its --root).
  std::string RuntimeStateDir(const std::string& handler) const { return state_ + "/runtime/" + handler; }

 private:
  std::string root_;
  std::string state_;
};

}  // namespace berth::pods
