// Entering a container's namespaces: new ones are unshared, ones with a path are
// joined with setns. The pid namespace only affects children, so it is handled by
// the process that forks the container's init (PreparePidNamespace), before the fork.
#pragma once

#include <sys/types.h>

#include "base/status.h"
#include "base/unique_fd.h"
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

// A user namespace is joined by path, and last: the container's other namespaces
// and its mounts are made by the runtime as the host's root (so /proc, /sys and
// device nodes need nothing from the namespace), then the process enters the pod's
// user namespace just before it takes the container's user and capabilities.
// CheckUserNamespace refuses what berth-runtime cannot do (a new user namespace).
// The namespace is opened before the rootfs is entered (its path is the host's),
// and entered after: an empty fd when the spec has none.
Status CheckUserNamespace(const Spec& spec);
StatusOr<UniqueFd> OpenUserNamespace(const Spec& spec);
Status EnterUserNamespace(const UniqueFd& userns);
// Whether pid's user namespace differs from the caller's (what exec must join).
bool InOtherUserNamespace(pid_t pid);

Status SetHostnames(const Spec& spec);

// Whether the container gets a namespace of this OCI type apart from the caller's:
// a new one, or one joined by path that is not the caller's own (a bundle may name
// /proc/1/ns/net, which is the host's).
bool HasPrivateNamespace(const Spec& spec, absl::string_view type);

// Refuses what would change the host through a namespace the container shares with
// it: sysctls outside the container's own namespaces, a hostname without a UTS
// namespace of its own (runc refuses both too), network devices moved into the host's
// own namespace.
Status CheckHostIsolation(const Spec& spec);

// The CLONE_NEW* flags (pid excluded) whose namespace differs between the process
// and the caller: what `exec` must join.
StatusOr<int> NamespacesToJoin(pid_t pid);

}  // namespace berth::runtime
