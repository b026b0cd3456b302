#include "services/runtime/arbiter/arbiter.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "services/runtime/arbiter/ranking.h"
#include "services/runtime/expression/expression.h"

namespace parley::arbiter {
namespace {

constexpr int kNone = -1;
constexpr int kExcluded = -2;

// Whether `now` is inside [effective, expiration), each bound when set.
bool InWindow(const absl::optional<int64_t>& effective,
              const absl::optional<int64_t>& expiration, int64_t now) {
  if (effective.has_value() && now < *effective) return false;
  if (expiration.has_value() && now >= *expiration) return false;
  return true;
}

// Whether the session's history with an offer suppresses it.
bool Suppressed(const v1::SuppressionSettings& settings,
                const ArbitrationInput& input, int offer) {
  if (input.ignore_suppression) return false;
  if (static_cast<size_t>(offer) >= input.offer_states.size()) return false;
  const OfferState& state = input.offer_states[offer];
  const uint32_t max = settings.max_presentations_per_session();
  if (max > 0 && state.presentations >= max) return true;
  if (state.accepted && !settings.keep_accepted()) return true;
  if (state.rejected && !settings.keep_rejected()) return true;
  return false;
}

absl::Status Validate(const channel::CompiledChannel& channel,
                      const ArbitrationInput& input) {
  if (input.bindings == nullptr) {
    return absl::InvalidArgumentError("arbitration needs rule bindings");
  }
  if (input.requested < 1 || input.requested > kMaxRequestedOffers) {
    return absl::InvalidArgumentError(
        absl::StrCat("requested offer count ", input.requested,
                     " is not in [1, ", kMaxRequestedOffers, "]"));
  }
  if (input.zone < 0 ||
      static_cast<size_t>(input.zone) >= channel.zones().size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("zone index ", input.zone, " is out of range"));
  }
  for (int segment : input.segments) {
    if (segment < 0 ||
        static_cast<size_t>(segment) >= channel.segments().size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("segment index ", segment, " is out of range"));
    }
  }
  for (int offer : input.excluded_offers) {
    if (offer < 0 || static_cast<size_t>(offer) >= channel.offers().size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("excluded offer index ", offer, " is out of range"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Arbitrate(const channel::CompiledChannel& channel,
                       const ArbitrationInput& input, ArbiterScratch& scratch,
                       std::vector<RankedOffer>* out, ArbitrationStats* stats) {
  out->clear();
  ArbitrationStats local_stats;
  if (stats == nullptr) stats = &local_stats;
  *stats = ArbitrationStats();
  if (absl::Status status = Validate(channel, input); !status.ok()) {
    return status;
  }

  const size_t offer_count = channel.offers().size();
  std::vector<internal::Candidate>& candidates = scratch.candidates_;
  std::vector<int>& slots = scratch.slot_by_offer_;
  candidates.clear();
  if (slots.size() < offer_count) slots.resize(offer_count, kNone);
  if (candidates.capacity() < offer_count) candidates.reserve(offer_count);
  for (int offer : input.excluded_offers) slots[offer] = kExcluded;

  const v1::SuppressionSettings& suppression = channel.suppression();
  const bool random = channel.tie_break() == v1::TIE_BREAK_RANDOM;
  const expression::Bindings& bindings = *input.bindings;
  for (int segment : input.segments) {
    for (const channel::CompiledRule* rule :
         channel.RulesFor(segment, input.zone)) {
      ++stats->rules_considered;
      const int offer = rule->offer;
      if (slots[offer] == kExcluded) continue;
      if (!InWindow(rule->effective_millis, rule->expiration_millis,
                    input.now_millis)) {
        continue;
      }
      const channel::CompiledOffer& definition = channel.offers()[offer];
      if (!InWindow(definition.effective_millis, definition.expiration_millis,
                    input.now_millis)) {
        continue;
      }
      if (Suppressed(suppression, input, offer)) continue;
      if (rule->eligibility.has_value()) {
        ++stats->expressions_evaluated;
        if (!expression::EvaluateCondition(*rule->eligibility, bindings,
                                           scratch.evaluation_)) {
          continue;
        }
      }
      double score = rule->marketing_score;
      if (rule->score_expression.has_value()) {
        ++stats->expressions_evaluated;
        const expression::Value value = expression::Evaluate(
            *rule->score_expression, bindings, scratch.evaluation_);
        if (!value.is_null() && value.type() == expression::Type::kNumber &&
            std::isfinite(value.number())) {
          score = value.number();
        }
      }
      int& slot = slots[offer];
      if (slot == kNone) {
        slot = static_cast<int>(candidates.size());
        internal::Candidate& candidate = candidates.emplace_back();
        candidate.offer = offer;
        candidate.score = score;
        candidate.rule = rule->index;
        candidate.tie_key =
            random ? internal::RandomTieKey(input.tie_break_seed, offer) : 0;
        candidate.effective_millis = definition.effective_millis.value_or(
            std::numeric_limits<int64_t>::min());
      } else if (score > candidates[slot].score) {
        candidates[slot].score = score;
        candidates[slot].rule = rule->index;
      }
    }
  }

  // Restore the per-offer slots for the next call.
  for (const internal::Candidate& candidate : candidates) {
    slots[candidate.offer] = kNone;
  }
  for (int offer : input.excluded_offers) slots[offer] = kNone;

  internal::RankCandidates(channel.tie_break(), input.requested, candidates);
  const size_t count =
      std::min(candidates.size(), static_cast<size_t>(input.requested));
  out->reserve(count);
  for (size_t i = 0; i < count; ++i) {
    out->push_back(RankedOffer{candidates[i].offer, candidates[i].score,
                               candidates[i].rule});
  }
  return absl::OkStatus();
}

}  // namespace parley::arbiter
