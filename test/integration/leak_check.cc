#include "test/integration/leak_check.h"

#include <dirent.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"

namespace berth::testing {
namespace {

std::set<std::string> ListDir(const std::string& path) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

void ListCgroups(const std::filesystem::path& dir, int depth, std::set<std::string>& out) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_directory(ec) || entry.is_symlink(ec)) continue;
    out.insert(entry.path().string());
    if (depth > 1) ListCgroups(entry.path(), depth - 1, out);
  }
}

// What a test can leave in the host's packet filter: rules, and chains of its own.
// The built-in chains (those with a policy) are left out: they appear when a table
// is first used (the first portmap ADD on a fresh machine loads "nat"), and a
// table's mere existence is not a leak. Counters are left out too.
std::set<std::string> PacketFilterRules(const char* save_command, const char* family) {
  std::set<std::string> rules;
  FILE* save = ::popen(absl::StrCat(save_command, " 2>/dev/null").c_str(), "r");
  if (save == nullptr) return rules;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, save)) > 0) out.append(buf, n);
  ::pclose(save);
  std::string table;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    if (line[0] == '*') {
      table = std::string(line.substr(1));
    } else if (line[0] == ':') {
      // ":NAME POLICY [packets:bytes]"; a user chain's policy is "-".
      std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
      if (fields.size() >= 2 && fields[1] == "-") rules.insert(absl::StrCat(family, " ", table, ": ", fields[0]));
    } else if (absl::StartsWith(line, "-A ")) {
      rules.insert(absl::StrCat(family, " ", table, ": ", line));
    }
  }
  return rules;
}

}  // namespace

HostSnapshot HostSnapshot::Take(const std::string& marker) {
  HostSnapshot snap;
  for (const auto& pid : ListDir("/proc")) {
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    auto cmdline = ReadFile(absl::StrCat("/proc/", pid, "/cmdline"));
    if (!cmdline.ok() || cmdline->empty()) continue;
    std::replace(cmdline->begin(), cmdline->end(), '\0', ' ');
    if (cmdline->find(marker) != std::string::npos) snap.processes.insert(absl::StrCat(pid, " ", *cmdline));
  }
  if (auto mountinfo = ReadFile("/proc/self/mountinfo"); mountinfo.ok()) {
    for (absl::string_view line : absl::StrSplit(*mountinfo, '\n', absl::SkipEmpty())) {
      std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
      if (fields.size() > 4) snap.mounts.insert(std::string(fields[4]));
    }
  }
  snap.netns = ListDir("/run/netns");
  snap.links = ListDir("/sys/class/net");
  // Pod cgroups sit under their parent a few levels down; four covers them. Only
  // cgroups of berth's (under /berth, or a parent tests name with "berth") count:
  // other software on the host makes and removes cgroups of its own meanwhile.
  std::set<std::string> cgroups;
  ListCgroups("/sys/fs/cgroup", 4, cgroups);
  for (const auto& path : cgroups) {
    if (path.find("berth") != std::string::npos) snap.cgroups.insert(path);
  }
  snap.iptables = PacketFilterRules("iptables-save", "ipv4");
  snap.iptables.merge(PacketFilterRules("ip6tables-save", "ipv6"));
  return snap;
}

std::vector<std::string> FindLeaks(const HostSnapshot& before, const HostSnapshot& after) {
  std::vector<std::string> leaks;
  auto added = [&](const char* kind, const std::set<std::string>& b, const std::set<std::string>& a) {
    for (const auto& item : a) {
      if (!b.count(item)) leaks.push_back(absl::StrCat(kind, ": ", item));
    }
  };
  added("process", before.processes, after.processes);
  added("mount", before.mounts, after.mounts);
  added("netns", before.netns, after.netns);
  added("link", before.links, after.links);
  added("cgroup", before.cgroups, after.cgroups);
  added("iptables", before.iptables, after.iptables);
  return leaks;
}

}  // namespace berth::testing
