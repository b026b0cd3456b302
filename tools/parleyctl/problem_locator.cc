#include "tools/parleyctl/problem_locator.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace parley::parleyctl {
namespace {

// The lists that named elements of each kind live in, as JSON names.
struct Kind {
  const char* words;
  std::vector<const char*> lists;
};

const std::vector<Kind>& Kinds() {
  static const auto* kinds = new std::vector<Kind>{
      {"audience level", {"audienceLevels"}},
      {"zone", {"zones"}},
      {"interaction point", {"interactionPoints"}},
      {"offer", {"offers"}},
      {"segment", {"segments"}},
      {"flowchart", {"flowcharts"}},
      {"treatment rule", {"treatmentRules"}},
      {"event", {"events"}},
      {"session parameter", {"sessionParameters"}},
      {"audience-ID field", {"audienceIdFields"}},
      {"profile attribute", {"profileAttributes"}},
      {"field", {"audienceIdFields", "profileAttributes", "derivedFields"}},
      {"box", {"boxes"}},
      {"derived field", {"derivedFields"}},
  };
  return *kinds;
}

// "audience level" -> "audienceLevel"; "audience-ID field" ->
// "audienceIdField".
std::string CamelCase(absl::string_view words) {
  std::string out;
  bool upper = false;
  for (const char c : words) {
    if (c == ' ' || c == '-' || c == '_') {
      upper = !out.empty();
      continue;
    }
    out.push_back(upper ? absl::ascii_toupper(c) : absl::ascii_tolower(c));
    upper = false;
  }
  return out;
}

// "audienceLevels" -> "audience_levels".
std::string SnakeCase(absl::string_view camel) {
  std::string out;
  for (const char c : camel) {
    if (absl::ascii_isupper(c)) {
      out.push_back('_');
      out.push_back(absl::ascii_tolower(c));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// A member of `object` by its JSON or .proto name.
const Json* Member(const Json& object, absl::string_view json_name) {
  if (!object.is_object()) return nullptr;
  if (const Json* found = object.Find(json_name)) return found;
  if (const Json* found = object.Find(SnakeCase(json_name))) return found;
  return object.Find(CamelCase(json_name));
}

// A list called `name` in `object` or in one of its object members (a box
// keeps its derived fields in "select").
const Json* FindList(const Json& object, absl::string_view name) {
  if (const Json* list = Member(object, name); list && list->is_array()) {
    return list;
  }
  for (const auto& [key, value] : object.members()) {
    if (!value.is_object()) continue;
    if (const Json* list = Member(value, name); list && list->is_array()) {
      return list;
    }
  }
  return nullptr;
}

// The element named `name` in a list of `kind` under `object`: the first,
// or the second when `second` (for "defined twice").
const Json* FindNamed(const Json& object, const Kind& kind,
                      absl::string_view name, bool second) {
  for (const char* list_name : kind.lists) {
    const Json* list = FindList(object, list_name);
    if (list == nullptr) continue;
    int seen = 0;
    for (const Json& item : list->items()) {
      const Json* item_name = Member(item, "name");
      if (item_name != nullptr && item_name->text() == name &&
          ++seen == (second ? 2 : 1)) {
        return &item;
      }
    }
  }
  return nullptr;
}

SourcePosition PositionOf(const Json& value) {
  return {value.line(), value.column()};
}

}  // namespace

SourcePosition LocateProblem(const Json& document, absl::string_view problem) {
  const bool twice = absl::StrContains(problem, "defined twice");
  const Json* current = &document;
  bool found_any = false;
  absl::string_view rest = problem;
  if (absl::ConsumePrefix(&rest, "channel: ")) {
    if (absl::StartsWith(rest, "name ")) {
      if (const Json* name = Member(document, "name")) return PositionOf(*name);
    }
  }
  while (!rest.empty()) {
    // `kind 'name'` or `words` up to the next ": ".
    const size_t quote = rest.find(" '");
    const size_t colon = rest.find(": ");
    if (quote != absl::string_view::npos &&
        (colon == absl::string_view::npos || quote < colon)) {
      const absl::string_view kind_words = rest.substr(0, quote);
      const size_t name_start = quote + 2;
      size_t name_end = rest.find('\'', name_start);
      // A name's closing quote is followed by ':', ' ' or the end.
      while (name_end != absl::string_view::npos &&
             name_end + 1 < rest.size() && rest[name_end + 1] != ':' &&
             rest[name_end + 1] != ' ') {
        name_end = rest.find('\'', name_end + 1);
      }
      if (name_end == absl::string_view::npos) break;
      const absl::string_view name =
          rest.substr(name_start, name_end - name_start);
      const Json* next = nullptr;
      for (const Kind& kind : Kinds()) {
        if (kind_words == kind.words) {
          next = FindNamed(*current, kind, name, twice);
          if (next != nullptr) break;
        }
      }
      if (next == nullptr) {
        // A reference such as "segment 'S' is not defined": the member of
        // that name ("segment", "audienceLevel", "startBox").
        if (const Json* reference = Member(*current, CamelCase(kind_words))) {
          return PositionOf(*reference);
        }
        break;
      }
      current = next;
      found_any = true;
      rest.remove_prefix(name_end + 1);
      if (!absl::ConsumePrefix(&rest, ": ")) break;
      continue;
    }
    // "eligibility: ..." or "score expression: ...": a member of the
    // current element.
    const absl::string_view words =
        colon == absl::string_view::npos ? rest : rest.substr(0, colon);
    if (const Json* member = Member(*current, CamelCase(words));
        member != nullptr && current != &document) {
      return PositionOf(*member);
    }
    break;
  }
  if (!found_any) return {};
  return PositionOf(*current);
}

SourcePosition LocatePath(const Json& document, absl::string_view path) {
  const Json* current = &document;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    // "name[3]" or "name".
    absl::string_view name = part;
    int index = -1;
    if (const size_t open = part.find('[');
        open != absl::string_view::npos && absl::EndsWith(part, "]")) {
      name = part.substr(0, open);
      if (!absl::SimpleAtoi(part.substr(open + 1, part.size() - open - 2),
                            &index)) {
        break;
      }
    }
    const Json* next = Member(*current, name);
    if (next == nullptr) break;
    if (index >= 0) {
      if (!next->is_array() ||
          index >= static_cast<int>(next->items().size())) {
        current = next;
        break;
      }
      next = &next->items()[index];
    }
    current = next;
  }
  if (current == &document) return {};
  return PositionOf(*current);
}

}  // namespace parley::parleyctl
