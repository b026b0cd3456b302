#include "services/runtime/distributed/session_codec.h"

#include <cstdint>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/session_state.pb.h"

namespace parley::distributed {
namespace {

// A session as GetOffers leaves it after many calls: 100 earlier
// presentations of a few offers, treatment codes of one server.
v1::SessionState LongSession() {
  v1::SessionState state;
  state.set_session_id("visit-42");
  state.set_interactive_channel("demo");
  state.set_audience_level("Customer");
  state.add_segments("HighValue");
  for (int i = 0; i < 100; ++i) {
    v1::Presentation* presentation = state.add_earlier_presentations();
    presentation->set_treatment_code(
        absl::StrCat("7J3K9QW2M4XZA", 1000000000000 + i * 7919));
    presentation->set_offer(i % 3 == 0 ? "FreeShipping" : "GoldCardUpgrade");
    presentation->set_interaction_point(i % 2 ? "HomePageHero"
                                              : "CheckoutSidebar");
    presentation->set_score(50 + i % 7);
    presentation->mutable_presented_at()->set_seconds(1798675200 + i);
  }
  return state;
}

TEST(SessionCodecTest, ALongSessionIsStoredCompressedAndReadBack) {
  const v1::SessionState state = LongSession();
  const std::string value = EncodeSession(state);
  const size_t raw = state.ByteSizeLong();
  ASSERT_GT(value.size(), 2u);
  EXPECT_EQ(value[0], '\0');
  EXPECT_EQ(value[1], 'L');
  EXPECT_LT(value.size(), raw / 2) << raw << " bytes serialized";
  RecordProperty("serialized_bytes", static_cast<int>(raw));
  RecordProperty("stored_bytes", static_cast<int>(value.size()));
  absl::StatusOr<v1::SessionState> back = DecodeSession(value, "visit-42");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->SerializeAsString(), state.SerializeAsString());
}

TEST(SessionCodecTest, ASmallSessionIsStoredAsItsSerialization) {
  v1::SessionState state;
  state.set_session_id("visit-1");
  state.add_segments("New");
  const std::string value = EncodeSession(state);
  EXPECT_EQ(value, state.SerializeAsString());
  absl::StatusOr<v1::SessionState> back = DecodeSession(value, "visit-1");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->segments(0), "New");
}

// Values written by earlier releases (plain serializations, however
// long) still read.
// Without compression (while servers of earlier releases still serve the
// group) every session is stored as its serialization.
TEST(SessionCodecTest, WithoutCompressionALongSessionIsItsSerialization) {
  const v1::SessionState state = LongSession();
  EXPECT_EQ(EncodeSession(state, /*compress=*/false),
            state.SerializeAsString());
}

TEST(SessionCodecTest, AnEarlierReleasesValueReads) {
  const v1::SessionState state = LongSession();
  absl::StatusOr<v1::SessionState> back =
      DecodeSession(state.SerializeAsString(), "visit-42");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->earlier_presentations_size(), 100);
}

TEST(SessionCodecTest, AnIncompressibleSessionIsStoredAsItsSerialization) {
  v1::SessionState state;
  state.set_session_id("visit-2");
  std::mt19937_64 random(7);
  std::string noise(4096, '\0');
  constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (char& c : noise) c = kAlphabet[random() % 64];
  state.set_segmentation_error(noise);
  EXPECT_EQ(EncodeSession(state), state.SerializeAsString());
}

TEST(SessionCodecTest, DamagedValuesAreDataLoss) {
  std::string value = EncodeSession(LongSession());
  for (const std::string& damaged :
       {value.substr(0, value.size() / 2), std::string("\0X123", 5),
        std::string("\0L", 2), std::string("\0L\xff\xff\xff\xff\x0f", 7),
        // Claims 1 MiB from a few bytes: more than LZ4 can expand to.
        std::string("\0L\x80\x80\x40\x1f\x00", 7),
        std::string("\xff\xff\xff", 3)}) {
    absl::StatusOr<v1::SessionState> read = DecodeSession(damaged, "v");
    EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss)
        << read.status();
  }
  absl::StatusOr<v1::SessionState> read =
      DecodeSession(value.substr(0, value.size() / 2), "visit-42");
  EXPECT_NE(read.status().message().find("visit-42"), std::string::npos);
}

}  // namespace
}  // namespace parley::distributed
