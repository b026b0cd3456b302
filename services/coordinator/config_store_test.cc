#include "services/coordinator/config_store.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/parley/v1/coordinator.pb.h"
#include "services/common/testing/status_matchers.h"
#include "services/coordinator/durable_store.h"

namespace parley::coordinator {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using ::parley::testing::MakeTempDir;
using ::parley::testing::StatusIs;

std::vector<std::string> Paths(const v1::ListConfigResponse& list) {
  std::vector<std::string> paths;
  for (const v1::ConfigEntry& entry : list.entries()) {
    paths.push_back(entry.path());
  }
  return paths;
}

std::vector<std::string> Paths(const v1::ConfigEvent& event) {
  std::vector<std::string> paths;
  for (const v1::ConfigEntry& entry : event.entries()) {
    paths.push_back(entry.path());
  }
  return paths;
}

bool ProtoEquals(const google::protobuf::Message& a,
                 const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

TEST(PathIsUnderTest, PrefixSemantics) {
  EXPECT_TRUE(PathIsUnder("a/b", "a/b"));
  EXPECT_TRUE(PathIsUnder("a/b/c", "a/b"));
  EXPECT_TRUE(PathIsUnder("a/b/c/d", "a/b"));
  EXPECT_FALSE(PathIsUnder("a/bc", "a/b"));
  EXPECT_FALSE(PathIsUnder("a/b-c", "a/b"));
  EXPECT_FALSE(PathIsUnder("a", "a/b"));
  EXPECT_FALSE(PathIsUnder("x/a/b", "a/b"));
  EXPECT_TRUE(PathIsUnder("anything/at/all", ""));
  EXPECT_TRUE(PathIsUnder("", ""));
}

class ConfigStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("config_store_test");
    Open();
  }

  void TearDown() override {
    config_.reset();
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void Open() {
    absl::StatusOr<std::unique_ptr<DurableStore>> store =
        DurableStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    absl::StatusOr<std::unique_ptr<ConfigStore>> config =
        ConfigStore::Load(store_.get());
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = std::move(*config);
  }

  void Reopen() {
    config_.reset();
    store_.reset();
    Open();
  }

  uint64_t MustSet(const std::string& path, const std::string& value) {
    absl::StatusOr<v1::ConfigEntry> entry =
        config_->Set(path, value, std::nullopt);
    EXPECT_TRUE(entry.ok()) << entry.status();
    return entry.ok() ? entry->version() : 0;
  }

  uint64_t Revision() const { return config_->List("").revision(); }

  std::string dir_;
  std::unique_ptr<DurableStore> store_;
  std::unique_ptr<ConfigStore> config_;
};

TEST_F(ConfigStoreTest, EmptyStore) {
  v1::ListConfigResponse list = config_->List("");
  EXPECT_THAT(list.entries(), IsEmpty());
  EXPECT_EQ(list.revision(), 0u);
  EXPECT_THAT(config_->Get("a/b"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no configuration entry at 'a/b'")));
}

TEST_F(ConfigStoreTest, SetGetAndRevisionGrowth) {
  absl::StatusOr<v1::ConfigEntry> first =
      config_->Set("app/timeout", "30", std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->path(), "app/timeout");
  EXPECT_EQ(first->value(), "30");
  EXPECT_EQ(first->version(), 1u);

  EXPECT_EQ(MustSet("app/name", "parley"), 2u);
  EXPECT_EQ(MustSet("app/timeout", "45"), 3u);

  absl::StatusOr<v1::ConfigEntry> timeout = config_->Get("app/timeout");
  ASSERT_TRUE(timeout.ok()) << timeout.status();
  EXPECT_EQ(timeout->value(), "45");
  EXPECT_EQ(timeout->version(), 3u);
  absl::StatusOr<v1::ConfigEntry> name = config_->Get("app/name");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->value(), "parley");
  EXPECT_EQ(name->version(), 2u);

  v1::ListConfigResponse list = config_->List("");
  EXPECT_EQ(list.revision(), 3u);
  EXPECT_THAT(Paths(list), ElementsAre("app/name", "app/timeout"));
}

TEST_F(ConfigStoreTest, BinaryValuesRoundTrip) {
  const std::string value("a\0b\xff", 4);
  MustSet("blob", value);
  absl::StatusOr<v1::ConfigEntry> entry = config_->Get("blob");
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->value(), value);
}

TEST_F(ConfigStoreTest, ListUsesPathPrefixSemantics) {
  for (const char* path :
       {"a/b", "a/b/c", "a/b/c/d", "a/bc", "a/b-x", "a", "b", "ab/c"}) {
    MustSet(path, "v");
  }
  EXPECT_THAT(Paths(config_->List("a/b")),
              ElementsAre("a/b", "a/b/c", "a/b/c/d"));
  EXPECT_THAT(Paths(config_->List("a/b/c")), ElementsAre("a/b/c", "a/b/c/d"));
  EXPECT_THAT(Paths(config_->List("a")),
              ElementsAre("a", "a/b", "a/b-x", "a/b/c", "a/b/c/d", "a/bc"));
  EXPECT_THAT(Paths(config_->List("")), ::testing::SizeIs(8));
  v1::ListConfigResponse none = config_->List("zzz");
  EXPECT_THAT(none.entries(), IsEmpty());
  EXPECT_EQ(none.revision(), 8u);
}

TEST_F(ConfigStoreTest, CompareAndSet) {
  // 0: must not exist yet.
  absl::StatusOr<v1::ConfigEntry> created = config_->Set("lock", "a", 0);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->version(), 1u);

  EXPECT_THAT(config_->Set("lock", "b", 0),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("'lock' is at version 1"),
                             HasSubstr("not the expected 0"))));
  EXPECT_THAT(config_->Set("lock", "b", 7),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("'lock' is at version 1"),
                             HasSubstr("not the expected 7"))));
  EXPECT_THAT(config_->Set("missing", "x", 3),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("'missing' is at version 0"),
                             HasSubstr("does not exist"))));
  // The failures wrote nothing.
  EXPECT_EQ(Revision(), 1u);
  EXPECT_EQ(config_->Get("lock")->value(), "a");
  EXPECT_THAT(config_->Get("missing"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing")));

  absl::StatusOr<v1::ConfigEntry> updated = config_->Set("lock", "b", 1);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->version(), 2u);
  EXPECT_EQ(config_->Get("lock")->value(), "b");
  EXPECT_EQ(config_->Get("lock")->version(), 2u);

  // The old version no longer matches.
  EXPECT_THAT(config_->Set("lock", "c", 1),
              StatusIs(absl::StatusCode::kAborted,
                       HasSubstr("'lock' is at version 2")));
}

TEST_F(ConfigStoreTest, Delete) {
  MustSet("a", "1");  // version 1
  MustSet("b", "2");  // version 2

  EXPECT_THAT(config_->Delete("nope", std::nullopt),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no configuration entry at 'nope'")));
  EXPECT_THAT(config_->Delete("nope", 0),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'nope'")));
  EXPECT_THAT(config_->Delete("a", 2),
              StatusIs(absl::StatusCode::kAborted,
                       AllOf(HasSubstr("'a' is at version 1"),
                             HasSubstr("not the expected 2"))));
  EXPECT_TRUE(config_->Get("a").ok());
  EXPECT_EQ(Revision(), 2u);

  absl::StatusOr<uint64_t> deleted = config_->Delete("a", 1);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 3u);
  EXPECT_EQ(config_->Get("a").status().code(), absl::StatusCode::kNotFound);

  deleted = config_->Delete("b", std::nullopt);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 4u);
  EXPECT_THAT(config_->List("").entries(), IsEmpty());
  EXPECT_EQ(Revision(), 4u);

  // Deleting again fails.
  EXPECT_EQ(config_->Delete("b", std::nullopt).status().code(),
            absl::StatusCode::kNotFound);
  // A deleted path can be created again with "must not exist".
  EXPECT_TRUE(config_->Set("a", "again", 0).ok());
}

TEST_F(ConfigStoreTest, TransactIsAtomic) {
  MustSet("x", "1");  // version 1
  absl::StatusOr<uint64_t> failed =
      config_->Transact([](const ConfigStore::View&) {
        return std::vector<ConfigWrite>{
            {"new/a", std::string("a"), std::nullopt},
            {"x", std::string("2"), uint64_t{7}},
            {"new/b", std::string("b"), std::nullopt},
        };
      });
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kAborted,
                               HasSubstr("'x' is at version 1")));
  EXPECT_THAT(config_->List("new").entries(), IsEmpty());
  EXPECT_EQ(config_->Get("x")->value(), "1");
  EXPECT_EQ(Revision(), 1u);

  // A missing delete also fails the whole transaction.
  failed = config_->Transact([](const ConfigStore::View&) {
    return std::vector<ConfigWrite>{
        {"new/a", std::string("a"), std::nullopt},
        {"gone", std::nullopt, std::nullopt},
    };
  });
  EXPECT_THAT(failed,
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'gone'")));
  EXPECT_THAT(config_->List("new").entries(), IsEmpty());
  EXPECT_EQ(Revision(), 1u);

  // An error from the transaction itself is returned as is.
  failed = config_->Transact(
      [](const ConfigStore::View&) -> absl::StatusOr<std::vector<ConfigWrite>> {
        return absl::FailedPreconditionError("refused by the caller");
      });
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kFailedPrecondition,
                               HasSubstr("refused by the caller")));
  EXPECT_EQ(Revision(), 1u);

  // A successful multi-write commits everything at one revision.
  absl::StatusOr<uint64_t> committed =
      config_->Transact([](const ConfigStore::View& view) {
        EXPECT_EQ(view.revision(), 1u);
        EXPECT_NE(view.Find("x"), nullptr);
        EXPECT_EQ(view.Find("new/a"), nullptr);
        return std::vector<ConfigWrite>{
            {"new/a", std::string("a"), uint64_t{0}},
            {"x", std::nullopt, uint64_t{1}},
            {"new/b", std::string("b"), std::nullopt},
        };
      });
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(*committed, 2u);
  EXPECT_EQ(config_->Get("new/a")->version(), 2u);
  EXPECT_EQ(config_->Get("new/b")->version(), 2u);
  EXPECT_EQ(config_->Get("x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Revision(), 2u);
}

TEST_F(ConfigStoreTest, TransactWithNothingToWriteKeepsRevision) {
  MustSet("a/one", "1");
  MustSet("a/two", "2");
  MustSet("b", "3");
  std::vector<std::string> seen;
  absl::StatusOr<uint64_t> read =
      config_->Transact([&](const ConfigStore::View& view) {
        const v1::ConfigEntry* one = view.Find("a/one");
        EXPECT_NE(one, nullptr);
        if (one != nullptr) {
          EXPECT_EQ(one->value(), "1");
        }
        EXPECT_EQ(view.Find("a"), nullptr);
        view.ForEachUnder("a", [&](const v1::ConfigEntry& entry) {
          seen.push_back(entry.path());
        });
        return std::vector<ConfigWrite>();
      });
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, 3u);
  EXPECT_EQ(Revision(), 3u);
  EXPECT_THAT(seen, ElementsAre("a/one", "a/two"));
}

TEST_F(ConfigStoreTest, WatchDeliversSnapshotThenChangesUnderPrefix) {
  MustSet("app/x", "1");
  MustSet("app/y/z", "2");
  MustSet("apple", "3");
  MustSet("other", "4");

  std::vector<v1::ConfigEvent> events;
  v1::ConfigEvent snapshot;
  uint64_t id = config_->Watch(
      "app", [&](const v1::ConfigEvent& event) { events.push_back(event); },
      &snapshot);
  EXPECT_EQ(snapshot.kind(), v1::ConfigEvent::SNAPSHOT);
  EXPECT_EQ(snapshot.revision(), 4u);
  EXPECT_THAT(Paths(snapshot), ElementsAre("app/x", "app/y/z"));
  EXPECT_EQ(snapshot.entries(0).value(), "1");
  EXPECT_EQ(snapshot.entries(0).version(), 1u);
  EXPECT_TRUE(events.empty());

  MustSet("app/x", "10");  // revision 5: PUT
  MustSet("apple", "30");  // revision 6: not under app
  MustSet("other", "40");  // revision 7: not under app
  MustSet("app", "root");  // revision 8: PUT (prefix)
  ASSERT_TRUE(config_->Delete("app/y/z", std::nullopt).ok());  // 9: DELETE
  ASSERT_TRUE(config_->Delete("apple", std::nullopt).ok());    // 10: none

  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind(), v1::ConfigEvent::PUT);
  EXPECT_EQ(events[0].revision(), 5u);
  ASSERT_EQ(events[0].entries_size(), 1);
  EXPECT_EQ(events[0].entries(0).path(), "app/x");
  EXPECT_EQ(events[0].entries(0).value(), "10");
  EXPECT_EQ(events[0].entries(0).version(), 5u);

  EXPECT_EQ(events[1].kind(), v1::ConfigEvent::PUT);
  EXPECT_EQ(events[1].revision(), 8u);
  EXPECT_EQ(events[1].entries(0).path(), "app");
  EXPECT_EQ(events[1].entries(0).value(), "root");

  EXPECT_EQ(events[2].kind(), v1::ConfigEvent::DELETE);
  EXPECT_EQ(events[2].revision(), 9u);
  ASSERT_EQ(events[2].entries_size(), 1);
  EXPECT_EQ(events[2].entries(0).path(), "app/y/z");

  // A failed transaction delivers nothing.
  EXPECT_FALSE(config_->Set("app/x", "11", 1).ok());
  EXPECT_EQ(events.size(), 3u);

  // A multi-write transaction delivers one event per write under the prefix.
  ASSERT_TRUE(config_
                  ->Transact([](const ConfigStore::View&) {
                    return std::vector<ConfigWrite>{
                        {"app/m", std::string("m"), std::nullopt},
                        {"elsewhere", std::string("e"), std::nullopt},
                        {"app/n", std::string("n"), std::nullopt},
                    };
                  })
                  .ok());
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[3].entries(0).path(), "app/m");
  EXPECT_EQ(events[4].entries(0).path(), "app/n");
  EXPECT_EQ(events[3].revision(), 11u);
  EXPECT_EQ(events[4].revision(), 11u);

  // After Unwatch nothing more is delivered.
  config_->Unwatch(id);
  MustSet("app/x", "12");
  ASSERT_TRUE(config_->Delete("app", std::nullopt).ok());
  EXPECT_EQ(events.size(), 5u);
}

TEST_F(ConfigStoreTest, WatchersAreIndependent) {
  MustSet("a/1", "x");
  std::vector<std::string> all;
  std::vector<std::string> only_b;
  v1::ConfigEvent snapshot_all;
  v1::ConfigEvent snapshot_b;
  uint64_t all_id = config_->Watch(
      "", [&](const v1::ConfigEvent& e) { all.push_back(e.entries(0).path()); },
      &snapshot_all);
  uint64_t b_id = config_->Watch(
      "b",
      [&](const v1::ConfigEvent& e) { only_b.push_back(e.entries(0).path()); },
      &snapshot_b);
  EXPECT_NE(all_id, b_id);
  EXPECT_THAT(Paths(snapshot_all), ElementsAre("a/1"));
  EXPECT_THAT(snapshot_b.entries(), IsEmpty());
  EXPECT_EQ(snapshot_b.kind(), v1::ConfigEvent::SNAPSHOT);

  MustSet("a/2", "y");
  MustSet("b/1", "z");
  config_->Unwatch(all_id);
  MustSet("b/2", "w");
  EXPECT_THAT(all, ElementsAre("a/2", "b/1"));
  EXPECT_THAT(only_b, ElementsAre("b/1", "b/2"));
  config_->Unwatch(b_id);
}

TEST_F(ConfigStoreTest, ReloadKeepsEntriesVersionsAndRevision) {
  MustSet("app/a", "1");                                     // 1
  MustSet("app/b", "2");                                     // 2
  MustSet("app/c", "3");                                     // 3
  MustSet("app/a", "1b");                                    // 4
  ASSERT_TRUE(config_->Delete("app/b", std::nullopt).ok());  // 5
  MustSet("groups/web/x", "y");                              // 6
  v1::ListConfigResponse before = config_->List("");
  ASSERT_EQ(before.revision(), 6u);
  ASSERT_EQ(before.entries_size(), 3);

  Reopen();

  v1::ListConfigResponse after = config_->List("");
  EXPECT_TRUE(ProtoEquals(before, after)) << "before:\n"
                                          << before.DebugString() << "after:\n"
                                          << after.DebugString();
  EXPECT_EQ(after.revision(), 6u);
  EXPECT_EQ(config_->Get("app/a")->version(), 4u);
  EXPECT_EQ(config_->Get("app/a")->value(), "1b");
  EXPECT_EQ(config_->Get("app/b").status().code(), absl::StatusCode::kNotFound);

  // Versions survive for compare-and-set, and the revision keeps growing.
  EXPECT_EQ(config_->Set("app/a", "stale", 1).status().code(),
            absl::StatusCode::kAborted);
  absl::StatusOr<v1::ConfigEntry> next = config_->Set("app/a", "1c", 4);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->version(), 7u);

  // The deletion at revision 5 and the deleted-then-reloaded state persist
  // across another reopen as well.
  Reopen();
  EXPECT_EQ(Revision(), 7u);
  EXPECT_EQ(config_->Get("app/a")->value(), "1c");
  EXPECT_THAT(Paths(config_->List("app")), ElementsAre("app/a", "app/c"));
}

}  // namespace
}  // namespace parley::coordinator
