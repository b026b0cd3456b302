#include "services/common/names.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace parley {
namespace {

constexpr size_t kMaxNameLength = 63;
constexpr size_t kMaxAddressLength = 255;
constexpr size_t kMaxPathLength = 512;
constexpr size_t kMaxPathSegments = 16;

// Quotes a value for an error message, cut short if it is long.
std::string Quoted(absl::string_view value) {
  constexpr size_t kShown = 80;
  if (value.size() <= kShown) return absl::StrCat("'", value, "'");
  return absl::StrCat("'", value.substr(0, kShown), "...' (", value.size(),
                      " characters)");
}

bool IsMemberIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

absl::Status ValidateGroupName(absl::string_view field,
                               absl::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is empty; name the server group (e.g. 'web')"));
  }
  if (name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " ", Quoted(name), " is longer than ",
                     kMaxNameLength, " characters"));
  }
  bool valid = absl::ascii_islower(static_cast<unsigned char>(name.front())) &&
               name.back() != '-';
  for (char c : name) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '-') {
      valid = false;
    }
  }
  if (!valid) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " ", Quoted(name),
        " is not a valid group name: use lower-case letters, digits and '-',"
        " starting with a letter and not ending with '-'"));
  }
  return absl::OkStatus();
}

absl::Status ValidateMemberId(absl::string_view field, absl::string_view id) {
  if (id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is empty; give the member a unique id"));
  }
  if (id.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " ", Quoted(id), " is longer than ", kMaxNameLength,
                     " characters"));
  }
  for (char c : id) {
    if (!IsMemberIdChar(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " ", Quoted(id),
                       " may hold only letters, digits, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateAddress(absl::string_view field,
                             absl::string_view address) {
  if (address.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is empty; give host:port"));
  }
  if (address.size() > kMaxAddressLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is longer than ", kMaxAddressLength, " characters"));
  }
  size_t colon = address.rfind(':');
  uint32_t port = 0;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port == 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " ", Quoted(address),
                     " is not host:port with a port from 1 to 65535"));
  }
  return absl::OkStatus();
}

absl::Status ValidateConfigPath(absl::string_view field, absl::string_view path,
                                bool allow_empty) {
  if (path.empty()) {
    if (allow_empty) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is empty; give a path such as 'groups/web/cache/type'"));
  }
  if (path.size() > kMaxPathLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is longer than ", kMaxPathLength, " characters"));
  }
  std::vector<absl::string_view> segments = absl::StrSplit(path, '/');
  if (segments.size() > kMaxPathSegments) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " ", Quoted(path), " has more than ",
                     kMaxPathSegments, " segments"));
  }
  for (absl::string_view segment : segments) {
    if (segment.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " ", Quoted(path),
          " has an empty segment: no leading, trailing or doubled '/'"));
    }
    for (char c : segment) {
      if (!IsMemberIdChar(c)) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, " ", Quoted(path),
            " may hold only letters, digits, '_', '.', '-' and '/'"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace parley
