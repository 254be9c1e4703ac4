// std::optional in JSON as nlohmann maps everything else: a value, or null when
// there is none (a missing key reads as none too, with the _WITH_DEFAULT macros).
// nlohmann 3.11 leaves optional to the user.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

namespace nlohmann {

template <typename T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& value) {
    if (value) {
      j = *value;
    } else {
      j = nullptr;
    }
  }
  static void from_json(const json& j, std::optional<T>& value) {
    if (j.is_null()) {
      value.reset();
    } else {
      value = j.get<T>();
    }
  }
};

}  // namespace nlohmann
