// The command-line flags of berth-runtime's verbs, parsed as runc takes them.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"

namespace berth::runtime {

// A verb's flags and positional arguments: "--name value", "--name=value", "-n value".
struct Args {
  std::map<std::string, std::string> values;
  std::set<std::string> switches;
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> repeated;

  bool Has(const std::string& name) const { return switches.count(name) || values.count(name); }
  std::string Get(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? "" : it->second;
  }
};

struct FlagSpec {
  std::map<std::string, std::string> aliases;  // "-b" -> "bundle"
  std::set<std::string> with_value;
  std::set<std::string> without_value;
};

// "--name value", "--name=value" and aliases ("-b value"); flags end at the first
// positional argument (the id), as runc's exec has it, or at "--".
StatusOr<Args> ParseArgs(const std::vector<std::string>& in, const FlagSpec& spec);

}  // namespace berth::runtime
