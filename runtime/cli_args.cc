#include "runtime/cli_args.h"

#include "absl/strings/str_cat.h"

namespace berth::runtime {

StatusOr<Args> ParseArgs(const std::vector<std::string>& in, const FlagSpec& spec) {
  Args args;
  for (size_t i = 0; i < in.size(); ++i) {
    std::string arg = in[i];
    if (!args.positional.empty() || arg.size() < 2 || arg[0] != '-') {
      // Flags end at the first positional argument (the id), like runc's exec.
      args.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      args.positional.insert(args.positional.end(), in.begin() + i + 1, in.end());
      break;
    }
    std::string name, value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    } else {
      name = arg;
    }
    if (auto a = spec.aliases.find(name); a != spec.aliases.end()) {
      name = a->second;
    } else {
      name = name.substr(name.find_first_not_of('-'));
    }
    if (spec.without_value.count(name)) {
      args.switches.insert(name);
    } else if (spec.with_value.count(name)) {
      if (!has_value) {
        if (i + 1 >= in.size()) return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
        value = in[++i];
      }
      args.values[name] = value;
      args.repeated.emplace(name, value);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
    }
  }
  return args;
}

}  // namespace berth::runtime
