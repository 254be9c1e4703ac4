// Reads of one field of a JSON document that may hold anything: a CNI plugin's
// answer, a registry's reply, a client's message, a checkpoint from elsewhere, a
// file that was cut short on disk. nlohmann's value() and get() throw when a field
// is there with another type, and an exception that escapes ends berthd: these
// answer the fallback instead, so a field of the wrong type reads as a missing one.
#pragma once

#include <concepts>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth {

// The member `key` of `object`, or nullptr when `object` is not an object or has
// no such member.
inline const nlohmann::json* JsonMember(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// The string `key` of `object`, or `fallback` when it is missing or not a string.
inline std::string JsonString(const nlohmann::json& object, std::string_view key, std::string fallback = {}) {
  const nlohmann::json* member = JsonMember(object, key);
  return member && member->is_string() ? member->get<std::string>() : std::move(fallback);
}

// The integer `key` of `object` when it is one that T holds; nullopt when it is
// missing, not an integer (a float, a string) or out of T's range.
template <std::integral T>
std::optional<T> JsonInteger(const nlohmann::json& object, std::string_view key) {
  const nlohmann::json* member = JsonMember(object, key);
  if (!member) return std::nullopt;
  if (member->is_number_unsigned()) {
    auto value = member->get<uint64_t>();
    if (value > static_cast<uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
    return static_cast<T>(value);
  }
  if (member->is_number_integer()) {
    auto value = member->get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (value < 0 || static_cast<uint64_t>(value) > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        return std::nullopt;
      }
    } else {
      if (value < std::numeric_limits<T>::min() || value > std::numeric_limits<T>::max()) return std::nullopt;
    }
    return static_cast<T>(value);
  }
  return std::nullopt;
}

// The array of strings `key` of `object`; nullopt when it is missing, not an
// array, or holds anything but strings.
inline std::optional<std::vector<std::string>> JsonStrings(const nlohmann::json& object, std::string_view key) {
  const nlohmann::json* member = JsonMember(object, key);
  if (!member || !member->is_array()) return std::nullopt;
  std::vector<std::string> strings;
  for (const auto& item : *member) {
    if (!item.is_string()) return std::nullopt;
    strings.push_back(item.get<std::string>());
  }
  return strings;
}

}  // namespace berth
