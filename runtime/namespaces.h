// Entering a container's namespaces: new ones are unshared, ones with a path are
// joined with setns. The pid namespace only affects children, so it is handled by
// the process that forks the container's init (PreparePidNamespace), before the fork.
#pragma once

#include <sys/types.h>

#include "base/status.h"
#include "runtime/spec.h"

namespace berth::runtime {

// CLONE_NEW* for an OCI namespace type ("network" -> CLONE_NEWNET).
StatusOr<int> NamespaceFlag(absl::string_view type);
// The namespace types a container may have (for the features document).
std::vector<std::string> SupportedNamespaceTypes();

// Makes the caller's next child pid 1 of a new pid namespace, or a member of the one
// the spec names. No-op when the spec shares the host's.
Status PreparePidNamespace(const Spec& spec);

// In the init, before any mount: joins the namespaces with a path, then unshares the
// new ones (except pid and cgroup: the cgroup namespace is unshared by
// UnshareCgroupNamespace once the init sits in its cgroup, so that cgroup becomes
// the namespace's root).
Status EnterNamespaces(const Spec& spec);
Status UnshareCgroupNamespace(const Spec& spec);

Status SetHostnames(const Spec& spec);

// Whether the container gets a namespace of this OCI type apart from the caller's:
// a new one, or one joined by path that is not the caller's own (a bundle may name
// /proc/1/ns/net, which is the host's).
bool HasPrivateNamespace(const Spec& spec, absl::string_view type);

// Refuses what would change the host through a namespace the container shares with
// it: sysctls outside the container's own namespaces, a hostname without a UTS
// namespace of its own (runc refuses both too).
Status CheckHostIsolation(const Spec& spec);

// The CLONE_NEW* flags (pid excluded) whose namespace differs between the process
// and the caller: what `exec` must join.
StatusOr<int> NamespacesToJoin(pid_t pid);

}  // namespace berth::runtime
